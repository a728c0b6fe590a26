package stats

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const refTol = 1e-6

func TestWilsonClopperPearsonReference(t *testing.T) {
	for _, c := range refBinomial {
		w, err := Wilson(c.k, c.n, c.level)
		if err != nil {
			t.Fatalf("Wilson(%d, %d, %v): %v", c.k, c.n, c.level, err)
		}
		if math.Abs(w.Lo-c.wilsonLo) > refTol || math.Abs(w.Hi-c.wilsonHi) > refTol {
			t.Errorf("Wilson(%d, %d, %v) = [%.9g, %.9g], statsmodels [%.9g, %.9g]", c.k, c.n, c.level, w.Lo, w.Hi, c.wilsonLo, c.wilsonHi)
		}
		cp, err := ClopperPearson(c.k, c.n, c.level)
		if err != nil {
			t.Fatalf("ClopperPearson(%d, %d, %v): %v", c.k, c.n, c.level, err)
		}
		if math.Abs(cp.Lo-c.cpLo) > refTol || math.Abs(cp.Hi-c.cpHi) > refTol {
			t.Errorf("ClopperPearson(%d, %d, %v) = [%.9g, %.9g], statsmodels [%.9g, %.9g]", c.k, c.n, c.level, cp.Lo, cp.Hi, c.cpLo, c.cpHi)
		}
		if c.k == 0 && w.Lo != 0 || c.k == c.n && w.Hi != 1 {
			t.Errorf("Wilson(%d, %d): edge limits [%v, %v], want exactly 0 / 1", c.k, c.n, w.Lo, w.Hi)
		}
		if c.k == 0 && cp.Lo != 0 || c.k == c.n && cp.Hi != 1 {
			t.Errorf("ClopperPearson(%d, %d): edge limits [%v, %v], want exactly 0 / 1", c.k, c.n, cp.Lo, cp.Hi)
		}
		if w.Level != c.level || w.Method != "Wilson" || cp.Level != c.level || cp.Method != "Clopper-Pearson" {
			t.Errorf("(%d, %d): Level/Method = %v %q, %v %q", c.k, c.n, w.Level, w.Method, cp.Level, cp.Method)
		}
	}
}

func TestBinomialErrors(t *testing.T) {
	cases := []struct {
		name     string
		k, n     int
		level    float64
		contains string
	}{
		{"n zero", 0, 0, 0.95, "n = 0"},
		{"n negative", 0, -3, 0.95, "n = -3"},
		{"k negative", -1, 10, 0.95, "successes = -1"},
		{"k above n", 11, 10, 0.95, "successes = 11"},
		{"level zero", 1, 10, 0, "level 0"},
		{"level one", 1, 10, 1, "level 1"},
		{"level NaN", 1, 10, math.NaN(), "level NaN"},
	}
	for _, c := range cases {
		for name, f := range map[string]func(int, int, float64) (Interval, error){"Wilson": Wilson, "ClopperPearson": ClopperPearson} {
			_, err := f(c.k, c.n, c.level)
			if err == nil || !strings.Contains(err.Error(), c.contains) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s %s: err = %v, want one naming %s and containing %q", name, c.name, err, name, c.contains)
			}
		}
	}
}

// TestBinomialCoverage draws 4000 seeded Binomial(200, 0.3) counts: Wilson 95%
// must cover p in 93-97% of them, Clopper-Pearson (conservative) in 95-98%.
func TestBinomialCoverage(t *testing.T) {
	const p, n, draws = 0.3, 200, 4000
	rng := rand.New(rand.NewPCG(7, 11))
	var wil, cp int
	for range draws {
		k := 0
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		w, _ := Wilson(k, n, 0.95)
		c, _ := ClopperPearson(k, n, 0.95)
		if w.Contains(p) {
			wil++
		}
		if c.Contains(p) {
			cp++
		}
	}
	t.Logf("coverage of p = %v: Wilson %.4f, Clopper-Pearson %.4f", p, float64(wil)/draws, float64(cp)/draws)
	if f := float64(wil) / draws; f < 0.93 || f > 0.97 {
		t.Errorf("Wilson 95%% coverage = %.3f, want 0.93-0.97", f)
	}
	if f := float64(cp) / draws; f < 0.95 || f > 0.98 {
		t.Errorf("Clopper-Pearson 95%% coverage = %.3f, want 0.95-0.98", f)
	}
	if cp < wil {
		t.Errorf("Clopper-Pearson covered %d times, Wilson %d: the exact interval should be the wider", cp, wil)
	}
}

func TestProportion(t *testing.T) {
	cases := []struct {
		correct []bool
		want    float64
	}{
		{[]bool{true}, 1},
		{[]bool{false, false}, 0},
		{[]bool{true, false, true, true}, 0.75},
	}
	for _, c := range cases {
		e, err := Proportion(c.correct, 0.9)
		if err != nil {
			t.Fatal(err)
		}
		k := int(math.Round(c.want * float64(len(c.correct))))
		w, _ := Wilson(k, len(c.correct), 0.9)
		if e.Value != c.want || e.N != len(c.correct) || e.CI != w {
			t.Errorf("Proportion(%v) = %+v, want value %v, N %d, CI %+v", c.correct, e, c.want, len(c.correct), w)
		}
	}
	if _, err := Proportion(nil, 0.95); err == nil {
		t.Error("Proportion(nil): no error")
	}
	if _, err := Proportion([]bool{true}, 2); err == nil {
		t.Error("Proportion(level 2): no error")
	}
}

func TestIntervalMethods(t *testing.T) {
	iv := Interval{Lo: 0.3124, Hi: 0.3536, Level: 0.95, Method: "Wilson"}
	cases := []struct {
		x    float64
		want bool
	}{{0.3124, true}, {0.3536, true}, {0.33, true}, {0.3123, false}, {0.36, false}, {math.NaN(), false}}
	for _, c := range cases {
		if got := iv.Contains(c.x); got != c.want {
			t.Errorf("%v.Contains(%v) = %v, want %v", iv, c.x, got, c.want)
		}
	}
	if w := iv.Width(); math.Abs(w-0.0412) > 1e-12 {
		t.Errorf("Width = %v, want 0.0412", w)
	}
	if s := iv.String(); s != "[0.312, 0.354]" {
		t.Errorf("String = %q", s)
	}
	e := Estimate{Value: 0.3333, CI: Interval{Lo: 0.312, Hi: 0.354}}
	formats := []struct {
		scale  float64
		digits int
		want   string
	}{
		{100, 1, "33.3 [31.2, 35.4]"},
		{1, 3, "0.333 [0.312, 0.354]"},
		{100, 0, "33 [31, 35]"},
		{100, -2, "33 [31, 35]"},
	}
	for _, f := range formats {
		if got := e.Format(f.scale, f.digits); got != f.want {
			t.Errorf("Format(%v, %d) = %q, want %q", f.scale, f.digits, got, f.want)
		}
	}
}
