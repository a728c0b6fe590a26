package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// rankStates builds states whose update at step l is Δ_l = U_l diag(sigma[l]) V_lᵀ with U_l
// (tokens×r) and V_l (dim×r) orthonormal; with orthoOnes, U_l ⟂ the all-ones vector, so the
// centred field equals the raw one.
func rankStates(rng *rand.Rand, layout hidden.Layout, dim int, sigma [][]float64, orthoOnes bool) *hidden.States {
	T := layout.NumTokens()
	s := hidden.NewStates(len(sigma)+1, T, dim)
	for l, sg := range sigma {
		r := len(sg)
		var u [][]float64
		if orthoOnes {
			ones := make([]float64, T)
			for i := range ones {
				ones[i] = 1
			}
			u = append([][]float64{ones}, randomOrthonormal(rng, T, r)...)
			orthonormalize(u, rng)
			u = u[1:]
		} else {
			u = randomOrthonormal(rng, T, r)
		}
		v := randomOrthonormal(rng, dim, r)
		for t := 0; t < T; t++ {
			prev, next := s.Token(l, t), s.Token(l+1, t)
			for j := 0; j < dim; j++ {
				var d float64
				for k := 0; k < r; k++ {
					d += u[k][t] * sg[k] * v[k][j]
				}
				next[j] = prev[j] + float32(d)
			}
		}
	}
	return s
}

func TestUpdateFieldRankR(t *testing.T) {
	cases := []struct {
		name     string
		layout   hidden.Layout
		dim      int
		sigma    [][]float64
		centered bool
	}{
		{"rank 3 equal", hidden.Layout{NumRegisters: 2, NumPatches: 12}, 24, [][]float64{{2, 2, 2}, {0.5, 0.5, 0.5}}, false},
		{"rank 4 unequal", hidden.Layout{NumPatches: 15}, 20, [][]float64{{3, 2, 1, 0.5}, {1, 1, 0.1, 0.1}, {5, 0.2, 0.2, 0.2}}, false},
		{"rank 2 centred", hidden.Layout{NumRegisters: 1, NumPatches: 9}, 16, [][]float64{{1.5, 1}, {1, 1}}, true},
		{"tokens > dim", hidden.Layout{NumRegisters: 2, NumPatches: 27}, 10, [][]float64{{2, 1, 1}, {4, 4, 4}}, false},
		{"tokens > dim centred", hidden.Layout{NumPatches: 25}, 8, [][]float64{{2, 1}, {3, 3}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			u, err := NewUpdateField(c.layout, UpdateFieldConfig{Scopes: []Scope{ScopeAll}, Centered: c.centered, TopK: 6, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			for img := 0; img < 2; img++ {
				if err := u.Add(rankStates(rng, c.layout, c.dim, c.sigma, c.centered)); err != nil {
					t.Fatal(err)
				}
			}
			res := u.Result()
			rk, _ := res.Rank(ScopeAll)
			sv, _ := res.Singular(ScopeAll)
			for l, sg := range c.sigma {
				var f, m float64
				for _, x := range sg {
					f += x * x
					m = math.Max(m, x)
				}
				near(t, fmt.Sprintf("stable rank step %d", l), rk.Stats[l].Mean, f/(m*m), 1e-5)
				if rk.Stats[l].Mean > float64(len(sg))+1e-5 {
					t.Errorf("stable rank %v exceeds rank %d", rk.Stats[l].Mean, len(sg))
				}
				want := append([]float64(nil), sg...)
				sort.Sort(sort.Reverse(sort.Float64Slice(want)))
				for k := 0; k < 6; k++ {
					w := 0.0
					if k < len(want) {
						w = want[k]
					}
					near(t, fmt.Sprintf("σ%d step %d", k, l), sv.Mean[l][k], w, 1e-4*m)
				}
			}
		})
	}
}

func TestCoherenceKnownFields(t *testing.T) {
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 6}
	const dim = 10
	// Step 0: every patch moves by the same vector w. Step 1: patch p moves by c_p·e_p.
	s := hidden.NewStates(3, layout.NumTokens(), dim)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range s.Layer(0) { // small integers: every sum below is exact in float32
		s.Layer(0)[i] = float32(rng.IntN(9) - 4)
	}
	w := []float64{1, -2, 0.5, 0, 3, 1, 1, -1, 0.25, 2}
	c := []float64{1, 2, 0.5, 3, 1.5, 0.7}
	from, to := layout.Patches()
	copy(s.Layer(1), s.Layer(0))
	for t := from; t < to; t++ {
		for j := range w {
			s.Token(1, t)[j] += float32(w[j])
		}
	}
	copy(s.Layer(2), s.Layer(1))
	for t := from; t < to; t++ {
		s.Token(2, t)[t-from] += float32(c[t-from])
	}
	for _, centered := range []bool{false, true} {
		u, err := NewUpdateField(layout, UpdateFieldConfig{Scopes: []Scope{ScopePatches}, Centered: centered})
		if err != nil {
			t.Fatal(err)
		}
		if err := u.Add(s); err != nil {
			t.Fatal(err)
		}
		res := u.Result()
		pair, _ := res.Pairwise(ScopePatches)
		mean, _ := res.ToMean(ScopePatches)
		near(t, "equal updates: pairwise", pair.Stats[0].Mean, 1, 1e-6)
		near(t, "equal updates: to mean", mean.Stats[0].Mean, 1, 1e-6)
		near(t, "orthogonal updates: pairwise", pair.Stats[1].Mean, 0, 1e-6)
		var sc, sc2 float64
		for _, x := range c {
			sc += x
			sc2 += x * x
		}
		// cos(c_i e_i, mean) = c_i/‖c‖, averaged over i.
		near(t, "orthogonal updates: to mean", mean.Stats[1].Mean, sc/(float64(len(c))*math.Sqrt(sc2)), 1e-6)
		rk, _ := res.Rank(ScopePatches)
		if centered {
			near(t, "equal updates centred: stable rank", rk.Stats[0].Mean, 0, 1e-9)
		} else {
			near(t, "equal updates: stable rank", rk.Stats[0].Mean, 1, 1e-6)
			near(t, "orthogonal updates: stable rank", rk.Stats[1].Mean, sc2/9, 1e-5)
		}
	}
}

func TestUpdateFieldConfigErrors(t *testing.T) {
	if _, err := NewUpdateField(hidden.Layout{NumPatches: 4}, UpdateFieldConfig{Scopes: []Scope{ScopeRegisters}}); err == nil {
		t.Error("want an error for a scope with no tokens")
	}
	if _, err := NewUpdateField(hidden.Layout{NumPatches: 4}, UpdateFieldConfig{Scopes: []Scope{Scope(9)}}); err == nil {
		t.Error("want an error for an invalid scope")
	}
	u, _ := NewUpdateField(hidden.Layout{NumRegisters: 2, NumPatches: 4}, UpdateFieldConfig{})
	if fmt.Sprint(u.cfg.Scopes) != "[all registers patches]" {
		t.Errorf("default scopes %v", u.cfg.Scopes)
	}
}
