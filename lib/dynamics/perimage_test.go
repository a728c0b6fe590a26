package dynamics

import (
	"math"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

func TestImageMeansKnownAngles(t *testing.T) {
	layout := hidden.Layout{NumPatches: 2}
	s := hidden.NewStates(3, layout.NumTokens(), 2)
	rad := math.Pi / 6
	for tok := range layout.NumTokens() {
		copy(s.Token(0, tok), []float32{1, 0})
		copy(s.Token(1, tok), []float32{float32(math.Cos(rad)), float32(math.Sin(rad))})
		copy(s.Token(2, tok), []float32{0, 3}) // norms do not matter
	}
	gamma, speed, err := ImageMeans(s, layout, []Scope{ScopeCLS, ScopePatches})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for l, want := range []float64{0, 0.5, 1} {
			if math.Abs(gamma[i][l]-want) > 1e-6 {
				t.Errorf("scope %d γ_%d = %v, want %v", i, l, gamma[i][l], want)
			}
		}
		for l, want := range []float64{30, 60} {
			if math.Abs(speed[i][l]-want) > 1e-4 {
				t.Errorf("scope %d speed %d→%d = %v°, want %v°", i, l, l+1, speed[i][l], want)
			}
		}
	}
	for _, c := range []struct {
		name   string
		s      *hidden.States
		scopes []Scope
	}{
		{"no registers in the layout", s, []Scope{ScopeRegisters}},
		{"one layer", hidden.NewStates(1, layout.NumTokens(), 2), []Scope{ScopeCLS}},
		{"other token count", hidden.NewStates(3, 7, 2), []Scope{ScopeCLS}},
	} {
		if _, _, err := ImageMeans(c.s, layout, c.scopes); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
