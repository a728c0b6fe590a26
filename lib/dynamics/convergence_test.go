package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// On tokens turning by a known angle per layer, γ_l = cos((L−l)θ) and s_l = θ for every token.
func TestRotationConvergenceAndSpeed(t *testing.T) {
	cases := []struct {
		name   string
		layout hidden.Layout
		layers int
		theta  map[Scope]float64
	}{
		{"registers", hidden.Layout{NumRegisters: 2, NumPatches: 6}, 9, map[Scope]float64{ScopeCLS: 0.3, ScopeRegisters: 0.05, ScopePatches: 0.12}},
		{"no registers", hidden.Layout{NumPatches: 4}, 6, map[Scope]float64{ScopeCLS: 1.1, ScopePatches: 0.5}},
		{"past 90 degrees", hidden.Layout{NumRegisters: 1, NumPatches: 3}, 12, map[Scope]float64{ScopeCLS: 0.25, ScopeRegisters: 0.01, ScopePatches: 2.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			conv, speed := NewConvergence(c.layout), NewSpeed(c.layout)
			for img := 0; img < 3; img++ {
				s := rotationStates(rng, c.layout, c.layers, 16, c.theta)
				if err := Feed(s, conv, speed); err != nil {
					t.Fatal(err)
				}
			}
			cr, sr := conv.Result(), speed.Result()
			wantGroups := 2
			if c.layout.NumRegisters > 0 {
				wantGroups = 3
			}
			if len(cr.Groups) != wantGroups || len(sr.Groups) != wantGroups || cr.Images != 3 {
				t.Fatalf("got %d/%d groups and %d images, want %d groups and 3 images", len(cr.Groups), len(sr.Groups), wantGroups, cr.Images)
			}
			L := c.layers - 1
			for _, g := range cr.Groups {
				th := c.theta[g.Scope]
				n := int64(3 * g.Scope.Size(c.layout))
				for i, l := range g.Layers {
					want := math.Cos(float64(L-l) * th)
					st := g.Stats[i]
					near(t, fmt.Sprintf("%v γ mean at %d", g.Scope, l), st.Mean, want, 2e-6)
					near(t, fmt.Sprintf("%v γ std at %d", g.Scope, l), st.Std, 0, 2e-6)
					near(t, fmt.Sprintf("%v γ P90 at %d", g.Scope, l), st.P90, want, 2e-6)
					if st.N != n {
						t.Errorf("%v γ count at %d = %d, want %d", g.Scope, l, st.N, n)
					}
				}
			}
			for _, g := range sr.Groups {
				if len(g.Layers) != L || g.Layers[0] != 0 {
					t.Fatalf("speed layers %v, want 0..%d", g.Layers, L-1)
				}
				for i, st := range g.Stats {
					near(t, fmt.Sprintf("%v speed at %d", g.Scope, i), st.Mean, c.theta[g.Scope], 2e-6)
					near(t, fmt.Sprintf("%v speed P10 at %d", g.Scope, i), st.P10, c.theta[g.Scope], 2e-6)
				}
			}
		})
	}
}

func TestStatesValidation(t *testing.T) {
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 4}
	conv := NewConvergence(layout)
	if err := conv.Add(hidden.NewStates(3, 5, 4)); err == nil {
		t.Error("want an error for a token count that does not match the layout")
	}
	if err := conv.Add(&hidden.States{Layers: 2, Tokens: 6, Dim: 3, Data: make([]float32, 5)}); err == nil {
		t.Error("want an error for data of the wrong length")
	}
	if err := conv.Add(hidden.NewStates(3, 6, 4)); err != nil {
		t.Fatal(err)
	}
	if err := conv.Add(hidden.NewStates(4, 6, 4)); err == nil {
		t.Error("want an error for an image with a different number of layers")
	}
	if err := NewSpeed(layout).Add(hidden.NewStates(1, 6, 4)); err == nil {
		t.Error("want an error for speed on a single layer")
	}
}
