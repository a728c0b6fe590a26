package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func normals(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	return xs
}

func meanOf(xs []float64) func([]int) float64 {
	return func(idx []int) float64 {
		var s float64
		for _, i := range idx {
			s += xs[i]
		}
		return s / float64(len(idx))
	}
}

func TestBootstrapMean(t *testing.T) {
	const n = 2000
	xs := normals(n, 42)
	e, err := Bootstrap(n, 2000, 1, 0.95, meanOf(xs))
	if err != nil {
		t.Fatal(err)
	}
	mean, _ := MeanSD(xs)
	if math.Abs(e.Value-mean) > 1e-12 || e.N != n {
		t.Errorf("Value %v N %d, want the full-sample mean %v and N %d", e.Value, e.N, mean, n)
	}
	if !e.CI.Contains(0) || !e.CI.Contains(e.Value) {
		t.Errorf("interval %v misses 0 or the estimate %v", e.CI, e.Value)
	}
	want := 2 * 1.96 / math.Sqrt(n)
	t.Logf("bootstrap interval %v, width %.4f vs 2*1.96/sqrt(n) = %.4f", e.CI, e.CI.Width(), want)
	if w := e.CI.Width(); math.Abs(w-want) > 0.15*want {
		t.Errorf("width %v, want %v ± 15%%", w, want)
	}
	if e.CI.Method != "percentile bootstrap (2000 reps)" || e.CI.Level != 0.95 {
		t.Errorf("Method %q Level %v", e.CI.Method, e.CI.Level)
	}
}

func TestBootstrapReproducible(t *testing.T) {
	xs := normals(50, 9)
	a, _ := Bootstrap(len(xs), 300, 5, 0.9, meanOf(xs))
	b, _ := Bootstrap(len(xs), 300, 5, 0.9, meanOf(xs))
	c, _ := Bootstrap(len(xs), 300, 6, 0.9, meanOf(xs))
	if a != b {
		t.Errorf("same seed, different results: %+v vs %+v", a, b)
	}
	if a.CI == c.CI {
		t.Errorf("seeds 5 and 6 give the same interval %v", a.CI)
	}
}

// TestBootstrapPercentiles checks the interval against the sorted replicates
// computed independently here: with reps = 201 and level 0.9 the limits are
// exactly the 11th and 191st order statistics (positions 10 and 190).
func TestBootstrapPercentiles(t *testing.T) {
	xs := normals(30, 4)
	var got []float64
	stat := meanOf(xs)
	e, err := Bootstrap(len(xs), 201, 17, 0.9, func(idx []int) float64 {
		v := stat(idx)
		got = append(got, v)
		return v
	})
	if err != nil {
		t.Fatal(err)
	}
	reps := got[1:] // got[0] is the full sample
	slices.Sort(reps)
	if len(reps) != 201 || e.CI.Lo != reps[10] || e.CI.Hi != reps[190] {
		t.Errorf("interval %v, want [%v, %v] from %d replicates", e.CI, reps[10], reps[190], len(reps))
	}
}

func TestQuantileSorted(t *testing.T) {
	xs := []float64{1, 2, 4, 8}
	cases := []struct{ q, want float64 }{{0, 1}, {1, 8}, {0.5, 3}, {1.0 / 3, 2}, {0.25, 1.75}}
	for _, c := range cases {
		if got := quantileSorted(xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestBootstrapErrors(t *testing.T) {
	ok := func([]int) float64 { return 1 }
	nanOnReplicate := func(idx []int) float64 {
		if idx[0] != 0 || idx[1] != 1 {
			return math.NaN()
		}
		return 0
	}
	cases := []struct {
		name     string
		n, reps  int
		level    float64
		stat     func([]int) float64
		contains string
	}{
		{"n zero", 0, 10, 0.95, ok, "n = 0"},
		{"n negative", -1, 10, 0.95, ok, "n = -1"},
		{"reps zero", 5, 0, 0.95, ok, "reps = 0"},
		{"nil stat", 5, 10, 0.95, nil, "nil"},
		{"level", 5, 10, 0, ok, "level"},
		{"NaN full", 5, 10, 0.95, func([]int) float64 { return math.NaN() }, "full sample"},
		{"NaN replicate", 50, 10, 0.95, nanOnReplicate, "replicate"},
	}
	for _, c := range cases {
		_, err := Bootstrap(c.n, c.reps, 1, c.level, c.stat)
		if err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.contains)
		}
	}
}

// TestPairedDiff: items vary a lot (sd 5) but both conditions share that
// variation, so the paired interval on the shift is far narrower than the
// unpaired normal interval of the difference of two means, and contains it.
func TestPairedDiff(t *testing.T) {
	const n, shift = 400, 0.3
	rng := rand.New(rand.NewPCG(21, 22))
	a, b := make([]float64, n), make([]float64, n)
	for i := range a {
		item := 5 * rng.NormFloat64()
		a[i] = item + shift + 0.5*rng.NormFloat64()
		b[i] = item + 0.5*rng.NormFloat64()
	}
	e, err := PairedDiff(a, b, 2000, 3, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	ma, sa := MeanSD(a)
	mb, sb := MeanSD(b)
	if math.Abs(e.Value-(ma-mb)) > 1e-12 {
		t.Errorf("Value %v, want mean(a)-mean(b) = %v", e.Value, ma-mb)
	}
	if !e.CI.Contains(shift) {
		t.Errorf("paired interval %v misses the true shift %v", e.CI, shift)
	}
	unpaired := 2 * 1.96 * math.Sqrt(sa*sa/n+sb*sb/n)
	t.Logf("paired %v (width %.3f), unpaired width %.3f", e.CI, e.CI.Width(), unpaired)
	if e.CI.Width() > 0.25*unpaired {
		t.Errorf("paired width %v, unpaired %v: pairing should be at least 4x narrower", e.CI.Width(), unpaired)
	}
	if unpaired/2 < shift {
		t.Errorf("test set-up: the unpaired half-width %v should exceed the shift %v", unpaired/2, shift)
	}
	if !strings.HasPrefix(e.CI.Method, "paired percentile bootstrap") {
		t.Errorf("Method %q", e.CI.Method)
	}

	bad := []struct {
		name string
		a, b []float64
		reps int
	}{
		{"lengths", []float64{1, 2}, []float64{1}, 10},
		{"empty", nil, nil, 10},
		{"NaN", []float64{1, math.NaN()}, []float64{1, 2}, 10},
		{"Inf", []float64{1, 2}, []float64{math.Inf(-1), 2}, 10},
		{"reps", []float64{1, 2}, []float64{1, 2}, 0},
	}
	for _, c := range bad {
		if _, err := PairedDiff(c.a, c.b, c.reps, 1, 0.95); err == nil {
			t.Errorf("PairedDiff %s: no error", c.name)
		}
	}
}

func TestPercentileInterval(t *testing.T) {
	xs := make([]float64, 101)
	for i := range xs {
		xs[i] = float64(100 - i) // unsorted on purpose
	}
	iv, err := PercentileInterval(xs, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(iv.Lo-5) > 1e-9 || math.Abs(iv.Hi-95) > 1e-9 {
		t.Errorf("90%% interval of 0..100 = %v, want [5, 95]", iv)
	}
	if xs[0] != 100 {
		t.Errorf("PercentileInterval sorted its input in place")
	}
	for _, bad := range [][]float64{nil, {1, math.NaN()}} {
		if _, err := PercentileInterval(bad, 0.95); err == nil {
			t.Errorf("PercentileInterval(%v): no error", bad)
		}
	}
}
