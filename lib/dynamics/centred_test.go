package dynamics

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// TestCenteredStableRankOffset builds one step Δ = 1·(c w)ᵀ + U diag(σ) Vᵀ, a move c·w shared by
// all tokens plus a token-specific part with U ⟂ 1 and V ⟂ w. Exactly: the centred field is
// U diag(σ) Vᵀ, with stable rank Σσ²/σ₁²; the raw field has ‖Δ‖²_F = T c² + Σσ² and
// ‖Δ‖²_2 = max(T c², σ₁²).
func TestCenteredStableRankOffset(t *testing.T) {
	layout := hidden.Layout{NumPatches: 11}
	T := layout.NumTokens()
	const dim = 16
	for _, c := range []struct {
		offset float64
		sigma  []float64
	}{
		{10, []float64{1, 1, 1, 1, 1, 1}}, // shared move dominates: raw ≈ 1, centred = 6
		{3, []float64{2, 1, 1}},
		{0, []float64{1, 1, 1, 1}}, // no shared move: both 4
		{0.1, []float64{3, 3}},
	} {
		t.Run(fmt.Sprintf("offset=%v sigma=%v", c.offset, c.sigma), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 22))
			r := len(c.sigma)
			ones := make([]float64, T)
			for i := range ones {
				ones[i] = 1
			}
			u := append([][]float64{ones}, randomOrthonormal(rng, T, r)...)
			orthonormalize(u, rng)
			wv := randomOrthonormal(rng, dim, r+1) // w = wv[0], V = wv[1:]
			s := hidden.NewStates(2, T, dim)
			for tok := 0; tok < T; tok++ {
				for j := 0; j < dim; j++ {
					d := c.offset * wv[0][j]
					for k := 0; k < r; k++ {
						d += u[k+1][tok] * c.sigma[k] * wv[k+1][j]
					}
					s.Token(0, tok)[j] = float32(rng.NormFloat64())
					s.Token(1, tok)[j] = s.Token(0, tok)[j] + float32(d)
				}
			}
			uf, err := NewUpdateField(layout, UpdateFieldConfig{Scopes: []Scope{ScopeAll}})
			if err != nil {
				t.Fatal(err)
			}
			if err := uf.Add(s); err != nil {
				t.Fatal(err)
			}
			res := uf.Result()
			var ss, s1 float64
			for _, v := range c.sigma {
				ss += v * v
				s1 = max(s1, v*v)
			}
			tc2 := float64(T) * c.offset * c.offset
			raw, _ := res.Rank(ScopeAll)
			cen, _ := res.CenteredRank(ScopeAll)
			near(t, "raw stable rank", raw.Stats[0].Mean, (tc2+ss)/max(tc2, s1), 1e-4)
			near(t, "centred stable rank", cen.Stats[0].Mean, ss/s1, 1e-4)
		})
	}
}
