package dynamics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// seriesFromMeans builds a series whose per-layer means are m (std 0).
func seriesFromMeans(scope Scope, first int, m []float64) Series {
	s := Series{Scope: scope}
	for i, v := range m {
		s.Layers = append(s.Layers, first+i)
		s.Stats = append(s.Stats, Stat{N: 1, Mean: v})
	}
	return s
}

func TestSummarizeConvergence(t *testing.T) {
	layout := hidden.Layout{NumPatches: 3}
	for _, c := range []struct {
		theta float64
		holds bool
	}{
		{0.1, true},              // total turn 0.9 rad: γ rises monotonically to 1
		{2 * math.Pi / 9, false}, // total turn 2π: γ starts at 1, dips and returns
	} {
		conv := NewConvergence(layout)
		if err := conv.Add(rotationStates(rand.New(rand.NewPCG(1, 1)), layout, 10, 8, map[Scope]float64{ScopeCLS: c.theta, ScopePatches: c.theta})); err != nil {
			t.Fatal(err)
		}
		r := conv.Result()
		s, err := Summarize(SummaryInput{Convergence: &r})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Convergence) != 2 {
			t.Fatalf("%d convergence verdicts, want 2", len(s.Convergence))
		}
		for _, v := range s.Convergence {
			if v.Holds != c.holds {
				t.Errorf("θ=%v %v: holds=%v, want %v (%+v)", c.theta, v.Scope, v.Holds, c.holds, v)
			}
			near(t, "first γ", v.First, math.Cos(9*c.theta), 1e-6)
			near(t, "penultimate γ", v.Penultimate, math.Cos(c.theta), 1e-6)
		}
		if c.holds {
			near(t, "increasing fraction", s.Convergence[0].IncreasingFraction, 1, 0)
			near(t, "spearman", s.Convergence[0].Spearman, 1, 1e-12)
		}
	}
}

func TestSummarizeClaims(t *testing.T) {
	rise := []float64{4, 6, 8, 9, 9, 8, 5, 3, 2} // rank rises then falls late
	flat := []float64{5, 5, 5, 5, 5, 5, 6, 6, 6} // late is the highest
	cohUp := []float64{.1, .1, .1, .1, .2, .2, .6, .7, .8}
	cohDown := []float64{.8, .7, .6, .2, .2, .1, .1, .1, .1}
	speed := []float64{.2, .2, .2, .2, .5, .5, .5, .3, .3, .3} // jumps after layers 4 and 7
	boundaries := []int{4, 7}
	dev := func(scope Scope, m []float64) *SelfCorrectionResult {
		return &SelfCorrectionResult{Epsilon: 0.1, FinalLayer: len(m) - 1, RelL2: []Series{seriesFromMeans(scope, 0, m)}}
	}
	decay := []float64{.9, .8, .7, .5, .4, .3, .2, .15, .12, .1} // last entry = layer L, ignored
	grow := []float64{.01, .02, .03, .05, .1, .2, .3, .4, .5, .1}
	cases := []struct {
		name                                    string
		rank, coh                               []float64
		patchDev, clsDev                        []float64
		lateLowest, riseFall, cohHolds, scHolds bool
	}{
		{"paper", rise, cohUp, decay, grow, true, true, true, true},
		{"opposite", flat, cohDown, grow, decay, false, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			upd := &UpdateFieldResult{
				StableRank:        []Series{seriesFromMeans(ScopeAll, 0, c.rank)},
				PairwiseCoherence: []Series{seriesFromMeans(ScopePatches, 0, c.coh)},
				MeanCoherence:     []Series{seriesFromMeans(ScopePatches, 0, c.coh)},
			}
			sp := &SpeedResult{Groups: []Series{seriesFromMeans(ScopeCLS, 0, speed)}}
			s, err := Summarize(SummaryInput{Updates: upd, Speed: sp, Boundaries: boundaries,
				PatchPerturbed: dev(ScopePatches, c.patchDev), CLSPerturbed: dev(ScopeCLS, c.clsDev)})
			if err != nil {
				t.Fatal(err)
			}
			if s.StableRank == nil || s.StableRank.LateLowest != c.lateLowest || s.StableRank.RiseThenFall != c.riseFall {
				t.Errorf("stable rank verdict %+v", s.StableRank)
			}
			e, m, l := meanOf(c.rank[:3]), meanOf(c.rank[3:6]), meanOf(c.rank[6:])
			near(t, "rank early", s.StableRank.Early, e, 1e-12)
			near(t, "rank middle", s.StableRank.Middle, m, 1e-12)
			near(t, "rank late", s.StableRank.Late, l, 1e-12)
			if s.Coherence == nil || s.Coherence.Holds != c.cohHolds {
				t.Errorf("coherence verdict %+v", s.Coherence)
			}
			if s.SelfCorrection == nil || s.SelfCorrection.Holds != c.scHolds {
				t.Errorf("self-correction verdict %+v", s.SelfCorrection)
			}
			// early/late thirds of the 9 layers before L
			near(t, "patch early", s.SelfCorrection.PatchEarly, meanOf(c.patchDev[:3]), 1e-12)
			near(t, "patch late", s.SelfCorrection.PatchLate, meanOf(c.patchDev[6:9]), 1e-12)
			if len(s.SpeedBoundaries) != 1 || !s.SpeedBoundaries[0].Holds || !s.SpeedBoundaries[0].Test.Exact {
				t.Errorf("speed boundary verdict %+v", s.SpeedBoundaries)
			}
		})
	}
	// Boundaries placed where nothing happens do not pass.
	sp := &SpeedResult{Groups: []Series{seriesFromMeans(ScopeCLS, 0, speed)}}
	s, err := Summarize(SummaryInput{Speed: sp, Boundaries: []int{2, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if s.SpeedBoundaries[0].Holds {
		t.Errorf("misplaced boundaries pass: %+v", s.SpeedBoundaries[0].Test)
	}
	if _, err := Summarize(SummaryInput{Speed: sp, Boundaries: []int{20}}); err == nil {
		t.Error("boundary out of range: want an error")
	}
}
