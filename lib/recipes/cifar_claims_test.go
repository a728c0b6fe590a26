package recipes

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/stats"
)

// predsWithAccuracy returns predictions that are right on a share acc of labels (seeded).
func predsWithAccuracy(labels []int, acc float64, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]int, len(labels))
	for i, l := range labels {
		if rng.Float64() < acc {
			out[i] = l
		} else {
			out[i] = (l + 1) % 10
		}
	}
	return out
}

func fakeRun(sd float64, k int, labels, teacher []int, acc float64, seed uint64) RaptorRun {
	return RaptorRun{SD: sd, K: k, Kind: KindMaxCut, Seed: seed, Result: RaptorResult{K: k, Accuracy: acc, Labels: labels,
		Predictions: predsWithAccuracy(labels, acc, seed), TeacherPredictions: teacher}}
}

func verdictOf(t *testing.T, claims []Claim, measure string) stats.Verdict {
	t.Helper()
	for _, c := range claims {
		if strings.HasPrefix(c.Measure, measure) {
			return c.Verdict
		}
	}
	t.Fatalf("no claim row %q among %d", measure, len(claims))
	return ""
}

func TestClaimsVerdictsFollowTheData(t *testing.T) {
	n := 2000
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	teacher := predsWithAccuracy(labels, 0.6, 1)
	cases := []struct {
		name       string
		k2, k3     float64
		seeds      int
		wantGain   stats.Verdict
		wantKeepK3 stats.Verdict // K=3 keeps ≥ 90% of the teacher's 60% above chance
	}{
		{"K=3 clearly better", 0.30, 0.62, 2, stats.Holds, stats.Holds},
		{"K=3 clearly worse", 0.50, 0.20, 2, stats.Contradicted, stats.Contradicted},
		{"same accuracy", 0.40, 0.40, 2, stats.NotTestable, stats.Contradicted},
		{"one fit per condition: never a verdict", 0.30, 0.62, 1, stats.NotTestable, stats.NotTestable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &CIFARResults{Teachers: []TeacherSummary{{SD: 0}}}
			for seed := range c.seeds {
				r.Raptor = append(r.Raptor, fakeRun(0, 2, labels, teacher, c.k2, uint64(10+seed)), fakeRun(0, 3, labels, teacher, c.k3, uint64(20+seed)))
			}
			claims := r.Claims()
			if got := verdictOf(t, claims, "accuracy K=3 − K=2"); got != c.wantGain {
				t.Errorf("gain verdict %q, want %q", got, c.wantGain)
			}
			if got := verdictOf(t, claims, "Raptor K=3: (accuracy − chance)"); got != c.wantKeepK3 {
				t.Errorf("keep verdict %q, want %q", got, c.wantKeepK3)
			}
		})
	}
}

func TestNullVerdict(t *testing.T) {
	for _, c := range []struct {
		n    *NullSummary
		want stats.Verdict
	}{
		{nil, stats.NotTestable},
		{&NullSummary{P: 0.01, Replicates: 99, Alpha: 0.05}, stats.Holds},
		{&NullSummary{P: 0.3, Replicates: 99, Alpha: 0.05}, stats.NotTestable},
		{&NullSummary{P: 1, Replicates: 99, Alpha: 0.05}, stats.NotTestable},  // no evidence of drift either
		{&NullSummary{P: 0.1, Replicates: 9, Alpha: 0.05}, stats.NotTestable}, // p cannot go below 0.1
	} {
		if got := nullVerdict(c.n); got != c.want {
			t.Errorf("nullVerdict(%+v) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestStabilityDiffNeedsMatchingReplicates(t *testing.T) {
	mk := func(v float64, reps int) *phases.Stability {
		s := &phases.Stability{K: 2, Replicates: reps}
		for i := range reps {
			s.BlockIndex = append(s.BlockIndex, v+0.001*float64(i%7))
		}
		return s
	}
	lo := []*phases.Stability{mk(0.2, 50), mk(0.22, 50)}
	hi := []*phases.Stability{mk(0.5, 50), mk(0.52, 50)}
	e, ok := stabilityDiff(lo, hi, []float64{0.2, 0.22}, []float64{0.5, 0.52})
	if !ok || stats.Below(e.CI, 0) != stats.Holds {
		t.Errorf("blockier group vs less blocky: %+v %v, want an interval below 0", e, ok)
	}
	if _, ok := stabilityDiff(lo, []*phases.Stability{mk(0.5, 40)}, []float64{0.2, 0.22}, []float64{0.5}); ok {
		t.Error("groups bootstrapped with different replicate counts were paired")
	}
}

func TestSwapRegressionTellsPhasesFromDistance(t *testing.T) {
	n := 1000
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	teacher := predsWithAccuracy(labels, 0.9, 1)
	build := func(samePenalty float64) SwapSet {
		set := SwapSet{Labels: labels, Teacher: teacher}
		phase := []int{0, 0, 0, 1, 1, 1}
		seed := uint64(10)
		for l := range 6 {
			for o := range 6 {
				if l == o {
					continue
				}
				same := phase[l] == phase[o]
				d := float64(l - o)
				if d < 0 {
					d = -d
				}
				acc := 0.9 - 0.05*d
				if !same {
					acc -= samePenalty
				}
				seed++
				set.Swaps = append(set.Swaps, SingleSwap{Layer: l + 1, Source: o + 1, SamePhase: same, Predictions: predsWithAccuracy(labels, acc, seed)})
			}
		}
		return set
	}
	for _, c := range []struct {
		name    string
		penalty float64
		want    stats.Verdict
	}{{"phases matter", 0.3, stats.Holds}, {"only distance matters", 0, stats.NotTestable}} {
		t.Run(c.name, func(t *testing.T) {
			fit, _, ok := build(c.penalty).Regression()
			if !ok {
				t.Fatal("no fit")
			}
			same := fit.Coef[len(fit.Coef)-1]
			if got := stats.Below(same.CI, 0); got != c.want {
				t.Errorf("same-phase coefficient %.3f %v: verdict %q, want %q", same.Value, same.CI, got, c.want)
			}
		})
	}
}
