package raptor

import (
	"fmt"
	"math"

	"github.com/blockrec/blockrec/lib/hidden"
)

// GroupNames names the token groups of Comparison results, in index order: CLS, registers,
// patches, then all tokens together.
var GroupNames = [4]string{"cls", "registers", "patches", "all"}

// GroupAll is the index of "all tokens" in Comparison results.
const GroupAll = 3

type groupStats struct {
	n         float64   // tokens seen (images × tokens of the group)
	sse       float64   // Σ ‖pred − target‖² over tokens
	sum, sum2 []float64 // per feature Σ target, Σ target²
	cos       float64   // Σ cosine(pred, target) over tokens
}

// Comparison accumulates, per layer and token group, how close predicted hidden states are to the
// teacher's: R² = 1 − SSE/SST, where SST = Σ_features Σ_(images×tokens) (x − mean_feature)², the
// deviation of the teacher's states from their per-feature mean over all images and tokens of the
// group (the released trainer's r2_score on the (batch·tokens) × dim matrix); and the mean cosine
// between predicted and teacher token vectors. Statistics are kept in float64 and streamed, so any
// number of images can be added.
type Comparison struct {
	Layers, Dim int
	Layout      hidden.Layout
	stats       [][4]groupStats
}

// NewComparison returns an empty comparison of layers × (layout tokens) × dim states.
func NewComparison(layers, dim int, layout hidden.Layout) *Comparison {
	c := &Comparison{Layers: layers, Dim: dim, Layout: layout, stats: make([][4]groupStats, layers)}
	for l := range c.stats {
		for g := range c.stats[l] {
			c.stats[l][g].sum = make([]float64, dim)
			c.stats[l][g].sum2 = make([]float64, dim)
		}
	}
	return c
}

// Add compares one image's predicted states with the teacher's (both Layers × tokens × Dim).
func (c *Comparison) Add(pred, target *hidden.States) error {
	for _, s := range []*hidden.States{pred, target} {
		if err := s.Validate(); err != nil {
			return err
		}
		if s.Layers != c.Layers || s.Tokens != c.Layout.NumTokens() || s.Dim != c.Dim {
			return fmt.Errorf("raptor comparison: states are %d×%d×%d, want %d×%d×%d",
				s.Layers, s.Tokens, s.Dim, c.Layers, c.Layout.NumTokens(), c.Dim)
		}
	}
	for l := range c.Layers {
		for tok := range pred.Tokens {
			p, x := pred.Token(l, tok), target.Token(l, tok)
			var se, dot, np, nx float64
			for f := range p {
				pv, xv := float64(p[f]), float64(x[f])
				se += (pv - xv) * (pv - xv)
				dot += pv * xv
				np += pv * pv
				nx += xv * xv
			}
			cos := 0.0
			if np > 0 && nx > 0 {
				cos = dot / math.Sqrt(np*nx)
			}
			for _, g := range []int{int(c.groupOf(tok)), GroupAll} {
				st := &c.stats[l][g]
				st.n++
				st.sse += se
				st.cos += cos
				for f, v := range x {
					st.sum[f] += float64(v)
					st.sum2[f] += float64(v) * float64(v)
				}
			}
		}
	}
	return nil
}

func (c *Comparison) groupOf(tok int) hidden.Group {
	for _, g := range []hidden.Group{hidden.GroupCLS, hidden.GroupRegisters, hidden.GroupPatches} {
		if from, to := c.Layout.Range(g); tok >= from && tok < to {
			return g
		}
	}
	panic(fmt.Sprintf("raptor comparison: token %d outside the layout", tok))
}

// R2 is the R² of layer l (index into the compared layers) for group g (0..3, see GroupNames);
// NaN for an empty group or a constant target.
func (c *Comparison) R2(l, g int) float64 {
	st := c.stats[l][g]
	if st.n == 0 {
		return math.NaN()
	}
	sst := 0.0
	for f := range st.sum {
		sst += st.sum2[f] - st.sum[f]*st.sum[f]/st.n
	}
	if sst <= 0 {
		return math.NaN()
	}
	return 1 - st.sse/sst
}

// Cosine is the mean cosine similarity between predicted and teacher tokens of layer l, group g.
func (c *Comparison) Cosine(l, g int) float64 {
	st := c.stats[l][g]
	if st.n == 0 {
		return math.NaN()
	}
	return st.cos / st.n
}

// MSE is the mean squared error per feature of layer l, group g.
func (c *Comparison) MSE(l, g int) float64 {
	st := c.stats[l][g]
	if st.n == 0 {
		return math.NaN()
	}
	return st.sse / (st.n * float64(c.Dim))
}
