package dynamics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBoundaryTestKnownCurves(t *testing.T) {
	// Piecewise constant with jumps exactly at the boundaries: every other boundary pair has a
	// non-zero inside difference, so the observed set is the unique maximum of C(11, 2) = 55 sets.
	pc := []float64{1, 1, 1, 1, 3, 3, 3, 2, 2, 2, 2, 2}
	r, err := BoundaryTest(pc, []int{4, 7}, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(r.Score, 1) || r.InsideMeanAbs != 0 || r.BoundaryMeanAbs != 1.5 {
		t.Errorf("piecewise constant: score %v inside %v boundary %v, want +Inf, 0, 1.5", r.Score, r.InsideMeanAbs, r.BoundaryMeanAbs)
	}
	if !r.Exact || r.Trials != 55 {
		t.Errorf("piecewise constant: exact=%v trials=%d, want exact over 55", r.Exact, r.Trials)
	}
	near(t, "piecewise P", r.P, 1.0/55, 1e-15)
	near(t, "piecewise PhaseR2", r.PhaseR2, 1, 1e-15)
	near(t, "piecewise PR2", r.PR2, 1.0/55, 1e-15)
	if r.Jumps[0] != 2 || r.Jumps[1] != -1 {
		t.Errorf("jumps %v, want [2 -1]", r.Jumps)
	}

	// Hand-computed: Δ = 1,1,1,7,1,1; boundary at 4 → score 7;
	// within-phase SS = 5 + 2 = 7, total SS = 379 − 39²/7.
	lin := []float64{0, 1, 2, 3, 10, 11, 12}
	r, err = BoundaryTest(lin, []int{4}, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "linear score", r.Score, 7, 1e-12)
	near(t, "linear PhaseR2", r.PhaseR2, 1-7/(379-1521.0/7), 1e-12)
	// Only boundary 4 carries the jump of 7: 1 of 6 positions is as extreme.
	near(t, "linear P", r.P, 1.0/6, 1e-15)

	// A boundary where nothing happens scores below 1 on the same curve.
	r, err = BoundaryTest(lin, []int{2}, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "off-boundary score", r.Score, 1/(11.0/5), 1e-12)
	near(t, "off-boundary P", r.P, 1, 1e-15)
}

// The random-boundary null agrees with the exact enumeration.
func TestBoundaryTestRandomMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	s := make([]float64, 40)
	for i := range s {
		s[i] = rng.NormFloat64()
		if i >= 12 {
			s[i] += 0.8
		}
		if i >= 30 {
			s[i] -= 1.5
		}
	}
	b := []int{12, 30, 35}
	exact, err := BoundaryTest(s, b, 10000, 1) // C(39,3) = 9139 ≤ 10000
	if err != nil {
		t.Fatal(err)
	}
	random, err := BoundaryTest(s, b, 3000, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !exact.Exact || random.Exact || exact.Trials != 9139 || random.Trials != 3000 {
		t.Fatalf("exact=%v (%d trials), random=%v (%d trials)", exact.Exact, exact.Trials, random.Exact, random.Trials)
	}
	near(t, "P random vs exact", random.P, exact.P, 0.03)
	near(t, "PR2 random vs exact", random.PR2, exact.PR2, 0.03)
	near(t, "null mean random vs exact", random.NullScoreMean, exact.NullScoreMean, 0.05*exact.NullScoreMean)
	again, _ := BoundaryTest(s, b, 3000, 5)
	if again.P != random.P {
		t.Errorf("same seed gave P %v then %v", random.P, again.P)
	}
}

func TestBoundaryTestErrors(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5}
	for _, b := range [][]int{nil, {0}, {5}, {3, 2}, {2, 2}, {1, 2, 3, 4}} {
		if _, err := BoundaryTest(s, b, 10, 1); err == nil {
			t.Errorf("boundaries %v: want an error", b)
		}
	}
	if _, err := BoundaryTest([]float64{1, math.NaN(), 2, 3}, []int{2}, 10, 1); err == nil {
		t.Error("NaN in curve: want an error")
	}
}
