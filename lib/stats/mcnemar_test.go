package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// pairs builds outcome slices with the given counts, shuffled.
func pairs(b, c, both, neither int, seed uint64) (x, y []bool) {
	add := func(k int, u, v bool) {
		for range k {
			x, y = append(x, u), append(y, v)
		}
	}
	add(b, true, false)
	add(c, false, true)
	add(both, true, true)
	add(neither, false, false)
	rng := rand.New(rand.NewPCG(seed, 0))
	rng.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i]; y[i], y[j] = y[j], y[i] })
	return x, y
}

func TestMcNemarReference(t *testing.T) {
	for i, c := range refMcNemar {
		a, b := pairs(c.b, c.c, c.both, c.neither, uint64(i))
		r, err := McNemar(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if r.B != c.b || r.C != c.c || math.Abs(r.P-c.p) > 1e-9 {
			t.Errorf("table %+v: got %+v, statsmodels p = %v", c, r, c.p)
		}
		// Swapping the conditions swaps B and C and keeps P.
		s, _ := McNemar(b, a)
		if s.B != r.C || s.C != r.B || s.P != r.P {
			t.Errorf("swapped table %+v: got %+v", r, s)
		}
	}
}

func TestMcNemarNoDisagreement(t *testing.T) {
	r, err := McNemar([]bool{true, false, true}, []bool{true, false, true})
	if err != nil {
		t.Fatal(err)
	}
	if r != (McNemarResult{B: 0, C: 0, P: 1}) {
		t.Errorf("got %+v, want B=C=0, P=1", r)
	}
}

// TestBinomHalfCDFLarge checks the log-space sum against the normal
// approximation at large n and against the symmetric identity
// P(X <= n/2) = 1/2 + P(X = n/2)/2.
func TestBinomHalfCDFLarge(t *testing.T) {
	const n = 10000
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	pmid := math.Exp(lg(n+1) - 2*lg(n/2+1) - n*math.Ln2)
	if got, want := binomHalfCDF(n/2, n), 0.5+pmid/2; math.Abs(got-want) > 1e-9 {
		t.Errorf("P(X <= n/2) = %v, want %v", got, want)
	}
	// k = n/2 - 2 sd: normal approximation with continuity correction.
	k := n/2 - 100
	want := 0.5 * math.Erfc(-((float64(k)+0.5-n/2)/50)/math.Sqrt2)
	if got := binomHalfCDF(k, n); math.Abs(got-want) > 1e-3 {
		t.Errorf("P(X <= %d) = %v, normal approximation %v", k, got, want)
	}
}

func TestMcNemarErrors(t *testing.T) {
	if _, err := McNemar([]bool{true}, []bool{true, false}); err == nil {
		t.Error("unequal lengths: no error")
	}
	if _, err := McNemar(nil, nil); err == nil {
		t.Error("empty: no error")
	}
}
