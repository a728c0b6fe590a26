package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// radialMap is, per token t, x ← g·(⟨x, u_t⟩u_t + λ·(x − ⟨x, u_t⟩u_t)): a clean state on the axis
// u_t grows in norm by g per block and keeps its direction, while a perturbed one has its
// tangential part shrunk by λ relative to its radial part: tan θ_{m+1} = λ·tan θ_m, whatever g.
type radialMap struct {
	g, lambda float64
	u         [][]float64 // per token, unit
	layers    int
	dim       int
}

func (m radialMap) step(x []float32) {
	for t, u := range m.u {
		v := x[t*m.dim : (t+1)*m.dim]
		var a float64
		for j := range v {
			a += float64(v[j]) * u[j]
		}
		for j := range v {
			r := a * u[j]
			v[j] = float32(m.g * (r + m.lambda*(float64(v[j])-r)))
		}
	}
}

func (m radialMap) states(rng *rand.Rand) *hidden.States {
	s := hidden.NewStates(m.layers, len(m.u), m.dim)
	for t, u := range m.u {
		r := 1 + rng.Float64()
		for j := range u {
			s.Token(0, t)[j] = float32(r * u[j])
		}
	}
	for l := 1; l < m.layers; l++ {
		copy(s.Layer(l), s.Layer(l-1))
		m.step(s.Layer(l))
	}
	return s
}

func (m radialMap) path(layer int, state []float32) ([]float32, error) {
	x := append([]float32(nil), state...)
	var out []float32
	for l := layer; l < m.layers-1; l++ {
		m.step(x)
		out = append(out, x...)
	}
	return out, nil
}

func TestSelfCorrectionAngularContraction(t *testing.T) {
	layout := hidden.Layout{NumPatches: 6}
	const dim, layers, eps, images = 10, 7, 0.05, 4
	for _, c := range []struct {
		g, lambda float64
		tokens    Scope
		rerun     bool
	}{
		{3, 0.5, ScopePatches, false}, // norm grows 3× per block, angle contracts 2×
		{1, 1, ScopeAll, false},       // neither
		{0.6, 1.2, ScopeCLS, true},    // norm shrinks, angle expands
		{2, 0.8, ScopeAll, true},
	} {
		t.Run(fmt.Sprintf("g=%v λ=%v %v rerun=%v", c.g, c.lambda, c.tokens, c.rerun), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(51, 52))
			m := radialMap{g: c.g, lambda: c.lambda, u: randomOrthonormal(rng, dim, layout.NumTokens()/2+1), layers: layers, dim: dim}
			for len(m.u) < layout.NumTokens() { // more tokens than dims: reuse random unit axes
				v := randomOrthonormal(rng, dim, 1)[0]
				m.u = append(m.u, v)
			}
			cfg := PerturbConfig{Epsilon: eps, Tokens: c.tokens, Repeats: 2, Seed: 3, RerunReference: c.rerun}
			whole, err := NewSelfCorrectionPath(layout, m.path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			parts := [2]*SelfCorrection{}
			for i := range parts {
				if parts[i], err = NewSelfCorrectionPath(layout, m.path, cfg); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < images; i++ {
				s := m.states(rng)
				if i == 0 && c.g != 1 {
					n0, n1 := norm32(s.Token(0, 1)), norm32(s.Token(layers-1, 1))
					near(t, "norm growth of the clean path", n1/n0, math.Pow(c.g, layers-1), 1e-4*n1/n0)
				}
				if err := whole.AddWithID(s, uint64(i)); err != nil {
					t.Fatal(err)
				}
				if err := parts[i%2].AddWithID(s, uint64(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := parts[0].Merge(parts[1]); err != nil {
				t.Fatal(err)
			}
			r, merged := whole.Result(), parts[0].Result()
			perturbed := []Scope{c.tokens}
			if c.tokens == ScopeAll {
				perturbed = presentGroups(layout, 1)
			}
			if len(r.Contraction) != len(perturbed) {
				t.Fatalf("contraction for %d groups, want %d (the perturbed ones)", len(r.Contraction), len(perturbed))
			}
			for _, g := range perturbed {
				cs, ok := r.ContractionOf(g)
				if !ok {
					t.Fatalf("no contraction for %v", g)
				}
				if len(cs.Blocks) != layers-1 || cs.Blocks[0] != 1 {
					t.Fatalf("blocks %v, want 1..%d", cs.Blocks, layers-1)
				}
				mc, _ := merged.ContractionOf(g)
				for i, iv := range cs.Ratio {
					// θ ≈ ε: atan(λ tan θ)/θ = λ(1 + O(θ²))
					near(t, fmt.Sprintf("%v contraction of block %d", g, cs.Blocks[i]), iv.Mean, c.lambda, 0.01*c.lambda)
					if iv.N != images || !(iv.Lo <= iv.Mean && iv.Mean <= iv.Hi) {
						t.Errorf("%v block %d: interval %+v", g, cs.Blocks[i], iv)
					}
					near(t, "merged contraction", mc.Ratio[i].Mean, iv.Mean, 1e-12)
					near(t, "merged interval", mc.Ratio[i].Lo, iv.Lo, 1e-12)
				}
				ps, _ := r.PathOf(g)
				for i, l := range ps.Perturb {
					for j := range ps.Mean[i] {
						want := ps.Mean[i][0] * math.Pow(c.lambda, float64(j))
						near(t, fmt.Sprintf("%v angle at layer %d after a perturbation at %d", g, l+j, l), ps.Mean[i][j], want, 0.02*want)
					}
				}
			}
			for _, g := range presentGroups(layout, 1) {
				if isIn(g, perturbed) {
					continue
				}
				ps, _ := r.PathOf(g)
				for i := range ps.Perturb {
					for j, v := range ps.Mean[i] {
						if v > 1e-6 {
							t.Errorf("unperturbed %v deviates by %v at step %d (the map is per token)", g, v, j)
						}
					}
				}
			}
		})
	}
}

func isIn(s Scope, all []Scope) bool {
	for _, x := range all {
		if x == s {
			return true
		}
	}
	return false
}

func TestSelfCorrectionPathErrors(t *testing.T) {
	layout := hidden.Layout{NumPatches: 2}
	if _, err := NewSelfCorrectionPath(layout, nil, PerturbConfig{Epsilon: 0.1, Tokens: ScopeAll}); err == nil {
		t.Error("nil RunPath: no error")
	}
	short := func(layer int, state []float32) ([]float32, error) { return state, nil } // one layer only
	c, err := NewSelfCorrectionPath(layout, short, PerturbConfig{Epsilon: 0.1, Tokens: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Add(randomStates(rand.New(rand.NewPCG(1, 2)), 4, layout.NumTokens(), 3)); err == nil {
		t.Error("a RunPath returning too few layers: no error")
	}
}
