package dynamics

import (
	"math"
	"testing"
)

// TestSummarizeConvergenceShape: a logistic γ curve is called S-shaped, a constant-speed
// rotation (γ_l = cos((L−l)θ), concave near the end) and a linear rise are not.
func TestSummarizeConvergenceShape(t *testing.T) {
	const L = 12
	curve := func(f func(l float64) float64) []float64 {
		m := make([]float64, L+1)
		for l := range m {
			m[l] = f(float64(l))
		}
		return m
	}
	for _, c := range []struct {
		name   string
		m      []float64
		sShape bool
	}{
		{"logistic", curve(func(l float64) float64 { return 0.05 + 0.95/(1+math.Exp(-(l-6)/1.2)) }), true},
		{"rotation", curve(func(l float64) float64 { return math.Cos((L - l) * 0.1) }), false},
		{"linear", curve(func(l float64) float64 { return 0.2 + 0.8*l/L }), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ConvergenceResult{Images: 1, Groups: []Series{seriesFromMeans(ScopeCLS, 0, c.m)}}
			s, err := Summarize(SummaryInput{Convergence: &r})
			if err != nil {
				t.Fatal(err)
			}
			v := s.Convergence[0]
			if v.Shape == nil || v.SShaped != c.sShape || v.Shape.SShaped != v.SShaped {
				t.Errorf("SShaped = %v, want %v (%+v)", v.SShaped, c.sShape, v.Shape)
			}
		})
	}
	short := ConvergenceResult{Groups: []Series{seriesFromMeans(ScopeCLS, 0, []float64{0.1, 0.5, 0.9, 1})}}
	s, err := Summarize(SummaryInput{Convergence: &short})
	if err != nil || s.Convergence[0].Shape != nil {
		t.Errorf("4 layers: shape %+v, err %v; want no shape test", s.Convergence[0].Shape, err)
	}
}

// TestSummarizeAngularCorrection feeds contraction and final-angle series by hand.
func TestSummarizeAngularCorrection(t *testing.T) {
	mk := func(sc Scope, final []float64, ratio []float64) *SelfCorrectionResult {
		r := &SelfCorrectionResult{Perturbed: sc, FinalLayer: len(final) - 1, Epsilon: 0.1}
		r.RelL2 = []Series{seriesFromMeans(sc, 0, final)}
		r.Angle = []Series{seriesFromMeans(sc, 0, final)}
		cs := ContractionSeries{Scope: sc}
		for i, v := range ratio {
			cs.Blocks = append(cs.Blocks, i+1)
			cs.Ratio = append(cs.Ratio, Interval{N: 5, Mean: v, Lo: v - 0.05, Hi: v + 0.05, Level: 0.95})
		}
		r.Contraction = []ContractionSeries{cs}
		return r
	}
	patch := mk(ScopePatches, []float64{0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.1}, []float64{0.8, 0.9, 1.0, 1.0, 1.2, 1.1})
	cls := mk(ScopeCLS, []float64{0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.1}, []float64{0.5, 0.6, 0.7, 0.9, 0.98, 1.0})
	s, err := Summarize(SummaryInput{PatchPerturbed: patch, CLSPerturbed: cls})
	if err != nil {
		t.Fatal(err)
	}
	sc := s.SelfCorrection
	if sc.PatchAngular == nil || sc.CLSAngular == nil || !sc.AngularHolds {
		t.Fatalf("angular claim: %+v", sc)
	}
	p := sc.PatchAngular
	near(t, "patch early final angle", p.FinalEarly, 0.45, 1e-12)
	near(t, "patch late final angle", p.FinalLate, 0.125, 1e-12)
	near(t, "patch early contraction", p.ContractionEarly, 0.85, 1e-12)
	near(t, "patch late contraction", p.ContractionLate, 1.15, 1e-12)
	if p.Contracting != 2 || p.Expanding != 2 || p.Blocks != 6 {
		t.Errorf("patch blocks: %d contracting, %d expanding of %d; want 2, 2 of 6", p.Contracting, p.Expanding, p.Blocks)
	}
	if c := sc.CLSAngular; c.Contracting != 4 || c.Expanding != 0 {
		t.Errorf("CLS blocks: %d contracting, %d expanding; want 4, 0", c.Contracting, c.Expanding)
	}
	// swapped roles: the claim fails
	s, err = Summarize(SummaryInput{PatchPerturbed: mk(ScopePatches, cls.Angle[0].Means(), []float64{1, 1, 1, 1, 1, 1}), CLSPerturbed: cls})
	if err != nil {
		t.Fatal(err)
	}
	if s.SelfCorrection.AngularHolds {
		t.Error("patch deviation rising with the perturbation layer: the angular claim should fail")
	}
}
