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
	n           float64   // tokens seen (images × tokens of the group)
	sse         float64   // Σ ‖pred − target‖² over tokens
	sum, sum2   []float64 // per feature Σ target, Σ target²
	psum, psum2 float64   // Σ pred, Σ pred² over tokens and features
	cos         float64   // Σ cosine(pred, target) over tokens
}

// R2Epsilon is the constant overcomplete's r2_score adds to its mean squared deviation (SST divided
// by the number of entries) before dividing.
const R2Epsilon = 1e-6

// Comparison accumulates, per layer and token group, how close predicted hidden states are to the
// teacher's. Statistics are kept in float64 and streamed, so any number of images can be added;
// every figure is pooled over all images added (as if computed once on the whole
// (images·tokens) × dim matrix of the group).
//
// Three R² are offered; with N = images·tokens·dim entries and SSE = Σ (pred − target)² over them:
//
//   - R2 is overcomplete's r2_score (metrics.py, the same in releases 0.1.0–0.3.0) with the
//     teacher's states x as reference: 1 − (SSE/N) / (Σ (x − x̄)²/N + R2Epsilon), where x̄ is the
//     grand scalar mean of all entries. With features of very different means (DINOv2's
//     large-magnitude channels) the grand mean inflates SST and R² comes close to 1.
//   - R2Trainer is the same function with the arguments as the released Raptor trainer passes them
//     (validation_step: r2_score(pred, target)): SST is the spread of the prediction around its
//     own grand mean, so a prediction of inflated spread scores higher. The trainer also averages
//     per-batch values weighted by batch size instead of pooling all images.
//   - R2PerFeature is 1 − SSE/SST with SST = Σ_features Σ_(images×tokens) (x − mean_feature)², the
//     deviation of the teacher's states from their per-feature mean: the textbook multi-output R²
//     (variance-weighted), which constant per-channel offsets cannot inflate.
//
// Cosine is the mean cosine between predicted and teacher token vectors; MSE the mean squared
// error per entry.
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
				for _, v := range p {
					st.psum += float64(v)
					st.psum2 += float64(v) * float64(v)
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

// R2 is overcomplete's r2_score of layer l (index into the compared layers) for group g (0..3, see
// GroupNames), with the teacher's states as reference (SST around their grand mean; see
// Comparison). A constant teacher gives 1 − MSE/R2Epsilon, as in overcomplete; NaN for an empty
// group or an index out of range.
func (c *Comparison) R2(l, g int) float64 {
	st, ok := c.group(l, g)
	if !ok {
		return math.NaN()
	}
	var sum, sum2 float64
	for f := range st.sum {
		sum += st.sum[f]
		sum2 += st.sum2[f]
	}
	return overcompleteR2(st.sse, sum, sum2, st.n*float64(c.Dim))
}

// R2Trainer is r2_score as the released Raptor trainer calls it, r2_score(pred, target): SST is
// the spread of the predicted states around their grand mean (see Comparison); NaN for an empty
// group or an index out of range.
func (c *Comparison) R2Trainer(l, g int) float64 {
	st, ok := c.group(l, g)
	if !ok {
		return math.NaN()
	}
	return overcompleteR2(st.sse, st.psum, st.psum2, st.n*float64(c.Dim))
}

// R2PerFeature is 1 − SSE/SST with SST around the teacher's per-feature mean over images × tokens
// (see Comparison); NaN for an empty group, a constant target or an index out of range.
func (c *Comparison) R2PerFeature(l, g int) float64 {
	st, ok := c.group(l, g)
	if !ok {
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

// overcompleteR2 is 1 − mean squared error / (mean squared deviation from the grand mean + ε),
// from SSE and the reference's Σ v and Σ v² over n entries.
func overcompleteR2(sse, sum, sum2, n float64) float64 {
	mean := sum / n
	sst := max(sum2/n-mean*mean, 0) // rounding can leave a constant reference slightly negative
	return 1 - (sse/n)/(sst+R2Epsilon)
}

// group returns the statistics of layer l, group g, and whether any token was added there.
func (c *Comparison) group(l, g int) (groupStats, bool) {
	if l < 0 || l >= len(c.stats) || g < 0 || g >= len(GroupNames) {
		return groupStats{}, false
	}
	st := c.stats[l][g]
	return st, st.n > 0
}

// Cosine is the mean cosine similarity between predicted and teacher tokens of layer l, group g.
func (c *Comparison) Cosine(l, g int) float64 {
	st, ok := c.group(l, g)
	if !ok {
		return math.NaN()
	}
	return st.cos / st.n
}

// MSE is the mean squared error per feature of layer l, group g.
func (c *Comparison) MSE(l, g int) float64 {
	st, ok := c.group(l, g)
	if !ok {
		return math.NaN()
	}
	return st.sse / (st.n * float64(c.Dim))
}

// PoolComparisons pools parts (comparisons of disjoint image sets, e.g. EvalResult.Parts) as if
// their images had been added to one comparison; idx picks the parts, with repetition (a
// bootstrap over parts), nil meaning every part once.
func PoolComparisons(parts []*Comparison, idx []int) (*Comparison, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("raptor comparison: no parts to pool")
	}
	first := parts[0]
	out := NewComparison(first.Layers, first.Dim, first.Layout)
	if idx == nil {
		idx = make([]int, len(parts))
		for i := range idx {
			idx[i] = i
		}
	}
	for _, i := range idx {
		if i < 0 || i >= len(parts) {
			return nil, fmt.Errorf("raptor comparison: part %d of %d", i, len(parts))
		}
		p := parts[i]
		if p.Layers != out.Layers || p.Dim != out.Dim || p.Layout != out.Layout {
			return nil, fmt.Errorf("raptor comparison: part %d is %d layers × %d dims, want %d × %d", i, p.Layers, p.Dim, out.Layers, out.Dim)
		}
		for l := range out.stats {
			for g := range out.stats[l] {
				dst, src := &out.stats[l][g], &p.stats[l][g]
				dst.n += src.n
				dst.sse += src.sse
				dst.psum += src.psum
				dst.psum2 += src.psum2
				dst.cos += src.cos
				for f := range dst.sum {
					dst.sum[f] += src.sum[f]
					dst.sum2[f] += src.sum2[f]
				}
			}
		}
	}
	return out, nil
}
