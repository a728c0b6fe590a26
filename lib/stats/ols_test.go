package stats

import (
	"math"
	"strings"
	"testing"
)

// refOLS is one statsmodels fit; see testdata/make_reference.py.
type refOLS struct {
	level        float64
	y            []float64
	coef, lo, hi []float64
	r2           float64
	dof          int
}

// refDesign is the design matrix of make_reference.py: 1, i/2, (i*i) % 7.
func refDesign(n int) [][]float64 {
	X := make([][]float64, n)
	for i := range X {
		X[i] = []float64{1, float64(i) / 2, float64((i * i) % 7)}
	}
	return X
}

func TestOLSReference(t *testing.T) {
	for _, ref := range []refOLS{refOLS95, refOLS90} {
		res, err := OLS(refDesign(len(ref.y)), ref.y, ref.level)
		if err != nil {
			t.Fatal(err)
		}
		if res.DoF != ref.dof || math.Abs(res.R2-ref.r2) > 1e-9 || len(res.Coef) != len(ref.coef) {
			t.Fatalf("level %v: DoF %d R2 %v, %d coefficients; statsmodels %d %v %d", ref.level, res.DoF, res.R2, len(res.Coef), ref.dof, ref.r2, len(ref.coef))
		}
		for j, e := range res.Coef {
			if math.Abs(e.Value-ref.coef[j]) > 1e-9 || math.Abs(e.CI.Lo-ref.lo[j]) > refTol || math.Abs(e.CI.Hi-ref.hi[j]) > refTol {
				t.Errorf("level %v coef %d = %v %v, statsmodels %v [%v, %v]", ref.level, j, e.Value, e.CI, ref.coef[j], ref.lo[j], ref.hi[j])
			}
			if e.N != len(ref.y) || e.CI.Level != ref.level || e.CI.Method != "t" {
				t.Errorf("coef %d: N %d Level %v Method %q", j, e.N, e.CI.Level, e.CI.Method)
			}
		}
	}
}

// TestOLSExactLine: y = 2 - 3x exactly gives the coefficients, zero-width
// intervals and R² = 1; the slope-only fit against the mean is checked by
// hand (slope = cov/var).
func TestOLSExactLine(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 5}
	X := make([][]float64, len(xs))
	y := make([]float64, len(xs))
	for i, x := range xs {
		X[i] = []float64{1, x}
		y[i] = 2 - 3*x
	}
	res, err := OLS(X, y, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Coef[0].Value-2) > 1e-12 || math.Abs(res.Coef[1].Value+3) > 1e-12 || math.Abs(res.R2-1) > 1e-12 || res.Coef[1].CI.Width() > 1e-9 {
		t.Errorf("exact line: %+v", res)
	}
	// Noisy y: slope = Σ(x-x̄)(y-ȳ)/Σ(x-x̄)².
	y = []float64{1, 3, 2, 5, 9}
	res, err = OLS(X, y, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	mx, _ := MeanSD(xs)
	my, _ := MeanSD(y)
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (y[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if slope := sxy / sxx; math.Abs(res.Coef[1].Value-slope) > 1e-12 || math.Abs(res.Coef[0].Value-(my-slope*mx)) > 1e-12 {
		t.Errorf("slope %v intercept %v, want %v %v", res.Coef[1].Value, res.Coef[0].Value, slope, my-slope*mx)
	}
}

func TestOLSErrors(t *testing.T) {
	good := refDesign(5)
	collinear := [][]float64{{1, 1, 2}, {1, 2, 4}, {1, 3, 6}, {1, 4, 8}, {1, 5, 10}}
	cases := []struct {
		name     string
		X        [][]float64
		y        []float64
		level    float64
		contains string
	}{
		{"no rows", nil, nil, 0.95, "no rows"},
		{"no columns", [][]float64{{}, {}}, []float64{1, 2}, 0.95, "no columns"},
		{"y length", good, []float64{1, 2}, 0.95, "len(y) = 2"},
		{"n <= p", refDesign(3), []float64{1, 2, 3}, 0.95, "3 rows for 3 coefficients"},
		{"ragged", [][]float64{{1, 0}, {1, 1}, {1}, {1, 3}}, []float64{1, 2, 3, 4}, 0.95, "row 2"},
		{"NaN in X", [][]float64{{1, 0}, {1, math.NaN()}, {1, 2}}, []float64{1, 2, 3}, 0.95, "X[1][1]"},
		{"Inf in y", good, []float64{1, 2, math.Inf(1), 4, 5}, 0.95, "y[2]"},
		{"rank", collinear, []float64{1, 2, 3, 4, 6}, 0.95, "rank 2"},
		{"level", good, []float64{1, 2, 3, 4, 5}, 0, "level"},
	}
	for _, c := range cases {
		_, err := OLS(c.X, c.y, c.level)
		if err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.contains)
		}
	}
}
