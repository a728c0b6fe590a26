package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// contraction is the map x ← a·x + (1−a)·c applied to every token, with one fixed point c_t per
// token: a perturbation δ at layer l reaches the final layer L as a^(L−l)·δ.
type contraction struct {
	a      float32
	c      []float32 // tokens × dim
	layers int
}

func (m contraction) step(x []float32) {
	for i := range x {
		x[i] = m.a*x[i] + (1-m.a)*m.c[i]
	}
}

func (m contraction) states(x0 []float32, tokens, dim int) *hidden.States {
	s := hidden.NewStates(m.layers, tokens, dim)
	copy(s.Layer(0), x0)
	for l := 1; l < m.layers; l++ {
		copy(s.Layer(l), s.Layer(l-1))
		m.step(s.Layer(l))
	}
	return s
}

func (m contraction) runFrom(layer int, state []float32) ([]float32, error) {
	x := append([]float32(nil), state...)
	for l := layer; l < m.layers-1; l++ {
		m.step(x)
	}
	return x, nil
}

func TestSelfCorrectionContraction(t *testing.T) {
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 5}
	const dim, layers, eps = 12, 8, 0.05
	T := layout.NumTokens()
	cases := []struct {
		a      float32
		tokens Scope
		rerun  bool
	}{
		{0.5, ScopeAll, false},
		{0.9, ScopePatches, false},
		{0.9, ScopeCLS, true},
		{1.25, ScopeAll, false}, // expanding: the deviation grows with the distance to the end
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("a=%v %v rerun=%v", c.a, c.tokens, c.rerun), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			m := contraction{a: c.a, c: make([]float32, T*dim), layers: layers}
			for i := range m.c {
				m.c[i] = float32(rng.NormFloat64())
			}
			// Record every perturbed input so the expected final states can be formed from the formula.
			type call struct {
				layer int
				in    []float32
			}
			var calls []call
			run := func(layer int, state []float32) ([]float32, error) {
				calls = append(calls, call{layer, append([]float32(nil), state...)})
				return m.runFrom(layer, state)
			}
			sc, err := NewSelfCorrection(layout, run, PerturbConfig{Epsilon: eps, Tokens: c.tokens, Seed: 42, Repeats: 2, RerunReference: c.rerun})
			if err != nil {
				t.Fatal(err)
			}
			// expected per (scope, layer): every relative and angular deviation.
			wantRel := map[[2]int][]float64{}
			wantAng := map[[2]int][]float64{}
			pFrom, pTo := c.tokens.Range(layout)
			for img := 0; img < 2; img++ {
				x0 := make([]float32, T*dim)
				for i := range x0 {
					x0[i] = float32(rng.NormFloat64())
				}
				s := m.states(x0, T, dim)
				calls = calls[:0]
				if err := sc.Add(s); err != nil {
					t.Fatal(err)
				}
				final := s.Layer(layers - 1)
				for _, cl := range calls {
					delta := make([]float64, T*dim)
					for i := range delta {
						delta[i] = float64(cl.in[i]) - float64(s.Layer(cl.layer)[i])
					}
					if c.rerun && maxAbs(delta) == 0 {
						continue // the unperturbed reference run
					}
					gain := math.Pow(float64(c.a), float64(layers-1-cl.layer))
					for tok := 0; tok < T; tok++ {
						d := delta[tok*dim : (tok+1)*dim]
						x := s.Token(cl.layer, tok)
						rel := math.Sqrt(dot64(d, d)) / norm32(x)
						inP := tok >= pFrom && tok < pTo
						if inP {
							near(t, "injected relative norm", rel, eps, 1e-6)
						} else if rel != 0 {
							t.Errorf("token %d outside %v perturbed by %v", tok, c.tokens, rel)
						}
						f := final[tok*dim : (tok+1)*dim]
						fp := make([]float64, dim)
						f64 := make([]float64, dim)
						for j := range fp {
							f64[j] = float64(f[j])
							fp[j] = f64[j] + gain*d[j]
						}
						key := [2]int{int(groupOf(layout, tok)), cl.layer}
						wantRel[key] = append(wantRel[key], gain*math.Sqrt(dot64(d, d))/math.Sqrt(dot64(f64, f64)))
						wantAng[key] = append(wantAng[key], angle64(fp, f64))
					}
				}
			}
			res := sc.Result()
			if res.Images != 2 || res.FinalLayer != layers-1 {
				t.Fatalf("images %d final layer %d", res.Images, res.FinalLayer)
			}
			for _, g := range res.RelL2 {
				ga, _ := res.Ang(g.Scope)
				for i, l := range g.Layers {
					key := [2]int{int(g.Scope), l}
					if l == layers-1 { // no run: the deviation is the injected one
						want := 0.0
						if g.Scope == c.tokens || c.tokens == ScopeAll {
							want = eps
						}
						near(t, fmt.Sprintf("%v deviation at L", g.Scope), g.Stats[i].Mean, want, 1e-6)
						continue
					}
					wr, wa := wantRel[key], wantAng[key]
					if int64(len(wr)) != g.Stats[i].N {
						t.Fatalf("%v layer %d: %d values, want %d", g.Scope, l, g.Stats[i].N, len(wr))
					}
					scale := math.Max(meanOf(wr), 1e-300)
					near(t, fmt.Sprintf("%v rel mean at %d", g.Scope, l), g.Stats[i].Mean, meanOf(wr), 1e-4*scale)
					near(t, fmt.Sprintf("%v rel max at %d", g.Scope, l), g.Stats[i].Max, maxOf(wr), 1e-4*maxOf(wr)+1e-300)
					near(t, fmt.Sprintf("%v angle mean at %d", g.Scope, l), ga.Stats[i].Mean, meanOf(wa), 1e-4*meanOf(wa)+1e-12)
				}
			}
		})
	}
}

func groupOf(l hidden.Layout, tok int) Scope {
	for _, s := range GroupScopes {
		from, to := s.Range(l)
		if tok >= from && tok < to {
			return s
		}
	}
	return ScopeAll
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

// Perturbing at layer l with a contraction of rate a gives a mean relative final deviation that
// follows a^(L−l) once the state sits at the fixed point (x_l = x_L = c).
func TestSelfCorrectionDecayFormula(t *testing.T) {
	layout := hidden.Layout{NumPatches: 3}
	const dim, layers = 8, 10
	m := contraction{a: 0.7, c: make([]float32, 4*dim), layers: layers}
	rng := rand.New(rand.NewPCG(8, 8))
	for i := range m.c {
		m.c[i] = float32(rng.NormFloat64())
	}
	s := m.states(m.c, 4, dim) // start at the fixed point: every layer equals c
	sc, err := NewSelfCorrection(layout, m.runFrom, PerturbConfig{Epsilon: 0.1, Tokens: ScopeAll, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Add(s); err != nil {
		t.Fatal(err)
	}
	rel, _ := sc.Result().Rel(ScopePatches)
	for i, l := range rel.Layers {
		want := 0.1 * math.Pow(0.7, float64(layers-1-l))
		near(t, fmt.Sprintf("deviation after perturbing layer %d", l), rel.Stats[i].Mean, want, 1e-4*want)
		near(t, "spread", rel.Stats[i].Std, 0, 1e-4*want)
	}
}

func TestSelfCorrectionErrors(t *testing.T) {
	layout := hidden.Layout{NumPatches: 3}
	ok := func(int, []float32) ([]float32, error) { return make([]float32, 4*2), nil }
	if _, err := NewSelfCorrection(layout, nil, PerturbConfig{Epsilon: 0.1}); err == nil {
		t.Error("nil RunFrom: want an error")
	}
	if _, err := NewSelfCorrection(layout, ok, PerturbConfig{Epsilon: 0}); err == nil {
		t.Error("zero epsilon: want an error")
	}
	if _, err := NewSelfCorrection(layout, ok, PerturbConfig{Epsilon: 0.1, Tokens: ScopeRegisters}); err == nil {
		t.Error("no registers to perturb: want an error")
	}
	short := func(int, []float32) ([]float32, error) { return make([]float32, 3), nil }
	sc, _ := NewSelfCorrection(layout, short, PerturbConfig{Epsilon: 0.1})
	if err := sc.Add(hidden.NewStates(3, 4, 2)); err == nil {
		t.Error("RunFrom returning the wrong length: want an error")
	}
	sc, _ = NewSelfCorrection(layout, ok, PerturbConfig{Epsilon: 0.1, Layers: []int{5}})
	if err := sc.Add(hidden.NewStates(3, 4, 2)); err == nil {
		t.Error("perturbation layer beyond the last: want an error")
	}
}
