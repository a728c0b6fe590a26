package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestSigmoidTest(t *testing.T) {
	logistic := func(x float64) float64 { return -0.2 + 1.2/(1+math.Exp(-(x-12)/2.5)) }
	cases := []struct {
		name   string
		n      int
		f      func(x float64) float64
		noise  float64
		sShape bool
	}{
		{"logistic, 25 layers", 25, logistic, 0, true},
		{"noisy logistic, 25 layers", 25, logistic, 0.01, true},
		{"logistic, 9 layers", 9, func(x float64) float64 { return 1 / (1 + math.Exp(-(x-4)/0.8)) }, 0.002, true},
		{"linear", 25, func(x float64) float64 { return 0.1 + 0.035*x }, 0.005, false},
		{"noise-free linear", 9, func(x float64) float64 { return 0.1 + 0.1*x }, 0, false},
		{"concave saturation", 25, func(x float64) float64 { return 1 - math.Exp(-x/4) }, 0.005, false},
		{"convex rise", 25, func(x float64) float64 { return math.Exp((x - 24) / 5) }, 0.005, false},
		{"quadratic", 25, func(x float64) float64 { return 0.3 + 0.001*(x-5)*(x-5) }, 0.005, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(31, 32))
			x, y := make([]float64, c.n), make([]float64, c.n)
			for i := range x {
				x[i] = float64(i)
				y[i] = c.f(x[i]) + c.noise*rng.NormFloat64()
			}
			r, err := SigmoidTest(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if r.SShaped != c.sShape {
				t.Errorf("SShaped = %v, want %v (ΔAICc %.2f, inflection %.2f, width %.2f; RSS lin %.3g quad %.3g log %.3g)",
					r.SShaped, c.sShape, r.DeltaAICc, r.Inflection, r.Width, r.Linear.RSS, r.Quadratic.RSS, r.Logistic.RSS)
			}
			for _, f := range []ShapeFit{r.Linear, r.Quadratic, r.Logistic} {
				var rss float64
				for i := range x {
					rss += (y[i] - f.Eval(x[i])) * (y[i] - f.Eval(x[i]))
				}
				near(t, f.Model+" RSS from Eval", rss, f.RSS, 1e-9*(1+rss))
			}
			if c.noise == 0 && c.sShape {
				near(t, "inflection", r.Inflection, 12, 1e-3)
			}
		})
	}
}

func TestSigmoidTestErrors(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)
		}
		return v
	}
	for _, c := range []struct {
		name string
		x, y []float64
	}{
		{"too few", seq(6), seq(6)},
		{"length mismatch", seq(8), seq(7)},
		{"not increasing", []float64{0, 1, 2, 2, 3, 4, 5}, seq(7)},
		{"NaN", seq(7), []float64{0, 1, math.NaN(), 3, 4, 5, 6}},
	} {
		if _, err := SigmoidTest(c.x, c.y); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestBootstrapMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{5, 40, 400} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			v := make([]float64, n)
			for i := range v {
				v[i] = 2 + rng.NormFloat64()
			}
			iv := bootstrapMean(v, 0.95, 4000, 1)
			m, sd := meanStd(v)
			near(t, "mean", iv.Mean, m, 1e-12)
			// the percentile interval approaches mean ± 1.96·sd/√n
			half := 1.96 * sd / math.Sqrt(float64(n))
			if iv.Lo > m || iv.Hi < m || math.Abs((iv.Hi-iv.Lo)/2-half) > 0.25*half {
				t.Errorf("interval [%v, %v] around %v, want half-width ≈ %v", iv.Lo, iv.Hi, m, half)
			}
			rev := append([]float64(nil), v...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if iv2 := bootstrapMean(rev, 0.95, 4000, 1); iv2 != iv {
				t.Errorf("interval depends on the order of the values: %v vs %v", iv2, iv)
			}
		})
	}
	if iv := bootstrapMean([]float64{math.NaN(), 3}, 0.95, 100, 1); iv.N != 1 || iv.Mean != 3 || !math.IsNaN(iv.Lo) {
		t.Errorf("one value: %+v", iv)
	}
}
