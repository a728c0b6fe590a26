package recipes

import (
	"math/rand/v2"
	"strings"
	"testing"

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
	return RaptorRun{SD: sd, K: k, Kind: KindMaxCut, Seed: 1, Result: RaptorResult{K: k, Accuracy: acc, Labels: labels,
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
		wantGain   stats.Verdict
		wantKeepK3 stats.Verdict // K=3 keeps ≥ 90% of the teacher's 60%
	}{
		{"K=3 clearly better", 0.30, 0.62, stats.Holds, stats.Holds},
		{"K=3 clearly worse", 0.50, 0.20, stats.Contradicted, stats.Contradicted},
		{"same accuracy", 0.40, 0.40, stats.NotTestable, stats.Contradicted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &CIFARResults{Teachers: []TeacherSummary{{SD: 0}},
				Raptor: []RaptorRun{fakeRun(0, 2, labels, teacher, c.k2, 2), fakeRun(0, 3, labels, teacher, c.k3, 3)}}
			claims := r.Claims()
			if got := verdictOf(t, claims, "accuracy K=3 − K=2"); got != c.wantGain && !(c.wantGain == stats.NotTestable && got != stats.Holds) {
				t.Errorf("gain verdict %q, want %q", got, c.wantGain)
			}
			if got := verdictOf(t, claims, "Raptor K=3 / teacher"); got != c.wantKeepK3 {
				t.Errorf("keep verdict %q, want %q", got, c.wantKeepK3)
			}
		})
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
			fit, ok := build(c.penalty).Regression()
			if !ok {
				t.Fatal("no fit")
			}
			if got := stats.Below(fit.Coef[2].CI, 0); got != c.want && !(c.want == stats.NotTestable && got != stats.Holds) {
				t.Errorf("same-phase coefficient %.3f %v: verdict %q, want %q", fit.Coef[2].Value, fit.Coef[2].CI, got, c.want)
			}
		})
	}
}
