package dynamics

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/blockrec/blockrec/lib/hidden"
)

// UpdateFieldConfig configures an UpdateField accumulator.
type UpdateFieldConfig struct {
	// Scopes whose update matrix is analysed. Default: ScopeAll, then each group with at least
	// 2 tokens (CLS alone always has stable rank 1 and no coherence).
	Scopes []Scope
	// Centered subtracts, per image and layer, the scope's mean update (the mean over its tokens)
	// before the spectrum is taken. Uncentred (default), a field where every token moves the same
	// way has stable rank 1; centred, that shared "mean-field" move is removed and only the
	// token-to-token variation is measured. Coherence is always computed on raw updates.
	Centered bool
	// TopK singular values to report per layer (default 8).
	TopK int
	// Workers is the number of goroutines over layers (default GOMAXPROCS).
	Workers int
}

// UpdateField accumulates, over a stream of images, the spectrum and the coherence of the per-layer
// update field Δ_l = x_{l+1} − x_l (tokens × dim) for each configured scope.
//
// Stable rank: ‖Δ‖²_F / ‖Δ‖²_2 (0 for a zero update). Singular values: the square roots of the
// eigenvalues of the Gram matrix of the scope's rows (tokens×tokens, or dim×dim when the scope has
// more tokens than dims).
// Coherence (scopes with ≥ 2 tokens; tokens with zero update are skipped):
// pairwise κ = mean over token pairs i≠j of cos(Δ_i, Δ_j), computed exactly as
// (‖Σ Δ̂_i‖² − n)/(n(n−1)); mean-direction κ̄ = mean over tokens of cos(Δ_i, mean_j Δ_j).
type UpdateField struct {
	layout              hidden.Layout
	cfg                 UpdateFieldConfig
	layers, tokens, dim int
	images              int
	rank                [][]*dist    // [scope][step], one value per image
	crank               [][]*dist    // [scope][step]: stable rank of the centred field
	sv                  [][][]*dist  // [scope][step][k]
	pair, mean          [][]*dist    // [scope][step]
	bufs                []*updateBuf // per worker
}

type updateBuf struct {
	delta, gram, sub, csub, unit, msum []float64
}

// UpdateFieldResult holds per-step statistics over images (Layers[i] = l for Δ_l).
type UpdateFieldResult struct {
	Images   int
	Centered bool
	// StableRank per scope (of the centred field when Centered).
	StableRank []Series
	// CenteredStableRank per scope: always that of the centred field Δ_l − mean over the scope's
	// tokens (per image and layer), so that it can be read next to an uncentred StableRank. A field
	// where every token makes the same move plus small independent noise has StableRank ≈ 1 but a
	// large CenteredStableRank: the uncentred rank then measures only the shared move.
	CenteredStableRank []Series
	// SingularValues per scope: the top-k singular values of Δ_l.
	SingularValues []SingularSeries
	// PairwiseCoherence and MeanCoherence per scope with ≥ 2 tokens.
	PairwiseCoherence, MeanCoherence []Series
}

// SingularSeries holds Mean[i][j] and Std[i][j]: statistics over images of the j-th largest
// singular value of Δ at step Layers[i] (0 when the matrix has fewer than j+1).
type SingularSeries struct {
	Scope     Scope
	Layers    []int
	Mean, Std [][]float64
}

// Rank returns the stable-rank series of a scope.
func (r UpdateFieldResult) Rank(s Scope) (Series, bool) { return findSeries(r.StableRank, s) }

// CenteredRank returns the centred stable-rank series of a scope.
func (r UpdateFieldResult) CenteredRank(s Scope) (Series, bool) {
	return findSeries(r.CenteredStableRank, s)
}

// Pairwise returns the pairwise-coherence series of a scope.
func (r UpdateFieldResult) Pairwise(s Scope) (Series, bool) {
	return findSeries(r.PairwiseCoherence, s)
}

// ToMean returns the mean-direction coherence series of a scope.
func (r UpdateFieldResult) ToMean(s Scope) (Series, bool) { return findSeries(r.MeanCoherence, s) }

// Singular returns the singular-value series of a scope.
func (r UpdateFieldResult) Singular(s Scope) (SingularSeries, bool) {
	for _, x := range r.SingularValues {
		if x.Scope == s {
			return x, true
		}
	}
	return SingularSeries{}, false
}

// NewUpdateField returns an empty accumulator.
func NewUpdateField(layout hidden.Layout, cfg UpdateFieldConfig) (*UpdateField, error) {
	if cfg.Scopes == nil {
		cfg.Scopes = append([]Scope{ScopeAll}, presentGroups(layout, 2)...)
	}
	for _, s := range cfg.Scopes {
		if !s.valid() {
			return nil, fmt.Errorf("dynamics: update field: invalid scope %v", s)
		}
		if s.Size(layout) == 0 {
			return nil, fmt.Errorf("dynamics: update field: scope %v has no tokens in the layout", s)
		}
	}
	if cfg.TopK <= 0 {
		cfg.TopK = 8
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	return &UpdateField{layout: layout, cfg: cfg}, nil
}

func (u *UpdateField) init(layers, tokens, dim int) {
	u.layers, u.tokens, u.dim = layers, tokens, dim
	ns, steps := len(u.cfg.Scopes), layers-1
	mk := func() [][]*dist {
		d := make([][]*dist, ns)
		for i := range d {
			d[i] = make([]*dist, steps)
			for l := range d[i] {
				d[i][l] = newExactDist()
			}
		}
		return d
	}
	u.rank, u.crank, u.pair, u.mean = mk(), mk(), mk(), mk()
	u.sv = make([][][]*dist, ns)
	for i := range u.sv {
		u.sv[i] = make([][]*dist, steps)
		for l := range u.sv[i] {
			u.sv[i][l] = make([]*dist, u.cfg.TopK)
			for k := range u.sv[i][l] {
				u.sv[i][l][k] = newExactDist()
			}
		}
	}
}

// Add accumulates one image (at least 2 layers).
func (u *UpdateField) Add(s *hidden.States) error {
	if err := checkStates("update field", u.layout, s, 2); err != nil {
		return err
	}
	if err := checkShape("update field", u.layers, u.tokens, u.dim, s); err != nil {
		return err
	}
	if u.rank == nil {
		u.init(s.Layers, s.Tokens, s.Dim)
	}
	workers := min(u.cfg.Workers, s.Layers-1)
	for len(u.bufs) < workers {
		u.bufs = append(u.bufs, &updateBuf{})
	}
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int, b *updateBuf) {
			defer wg.Done()
			for l := range next {
				if err := u.addStep(s, l, b); err != nil && errs[w] == nil {
					errs[w] = fmt.Errorf("dynamics: update field: step %d: %w", l, err)
				}
			}
		}(w, u.bufs[w])
	}
	for l := 0; l+1 < s.Layers; l++ {
		next <- l
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the image is partly accumulated; the accumulator should be discarded
		}
	}
	u.images++
	return nil
}

// addStep analyses Δ_l of one image; it only touches the distributions of step l.
func (u *UpdateField) addStep(s *hidden.States, l int, b *updateBuf) error {
	T, D := s.Tokens, s.Dim
	b.delta = resize(b.delta, T*D)
	x0, x1 := s.Layer(l), s.Layer(l+1)
	for i := range b.delta {
		b.delta[i] = float64(x1[i]) - float64(x0[i])
	}
	fullGram := false
	if T <= D {
		b.gram = gramRows(b.delta, D, 0, T, false, b.gram)
		fullGram = true
	}
	for si, sc := range u.cfg.Scopes {
		from, to := sc.Range(u.layout)
		n := to - from
		var g []float64
		var gn int
		switch {
		case fullGram:
			b.sub = subGram(b.gram, T, from, to, u.cfg.Centered, b.sub)
			g, gn = b.sub, n
		case n <= D:
			b.sub = gramRows(b.delta, D, from, to, u.cfg.Centered, b.sub)
			g, gn = b.sub, n
		default:
			b.sub = gramCols(b.delta, D, from, to, u.cfg.Centered, b.sub)
			g, gn = b.sub, D
		}
		eig, err := symEigenvalues(g, gn, u.cfg.TopK)
		if err != nil {
			return fmt.Errorf("scope %v: %w", sc, err)
		}
		sr := stableRank(g, gn, eig[0])
		u.rank[si][l].add(sr)
		if !u.cfg.Centered {
			if gn == n { // a token Gram matrix: centre it in place of a copy
				b.csub = append(b.csub[:0], g...)
				centerGram(b.csub, n)
			} else {
				b.csub = gramCols(b.delta, D, from, to, true, b.csub)
			}
			top, err := symEigenvalues(b.csub, gn, 1)
			if err != nil {
				return fmt.Errorf("scope %v, centred: %w", sc, err)
			}
			sr = stableRank(b.csub, gn, top[0])
		}
		u.crank[si][l].add(sr)
		for k := 0; k < u.cfg.TopK; k++ {
			v := 0.0
			if k < len(eig) && eig[k] > 0 {
				v = math.Sqrt(eig[k])
			}
			u.sv[si][l][k].add(v)
		}
		if n >= 2 {
			pair, mean := coherence(b, b.delta, D, from, to)
			u.pair[si][l].add(pair)
			u.mean[si][l].add(mean)
		}
	}
	return nil
}

// stableRank is trace(g)/λ_max for the n×n Gram matrix g (0 for a zero matrix).
func stableRank(g []float64, n int, top float64) float64 {
	var trace float64
	for i := 0; i < n; i++ {
		trace += g[i*n+i]
	}
	if trace > 0 && top > 0 {
		return trace / top
	}
	return 0
}

// coherence returns the pairwise and mean-direction coherence of rows from..to-1 of delta.
func coherence(b *updateBuf, delta []float64, D, from, to int) (pair, mean float64) {
	b.unit = resize(b.unit, D)
	b.msum = resize(b.msum, D)
	clear(b.unit)
	clear(b.msum)
	n := 0
	for t := from; t < to; t++ {
		r := delta[t*D : (t+1)*D]
		nr := math.Sqrt(dot64(r, r))
		if nr == 0 {
			continue
		}
		n++
		for j, v := range r {
			b.unit[j] += v / nr
			b.msum[j] += v
		}
	}
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	su := dot64(b.unit, b.unit)
	pair = (su - float64(n)) / float64(n*(n-1))
	nm := math.Sqrt(dot64(b.msum, b.msum))
	if nm == 0 {
		return pair, 0
	}
	// mean_i cos(Δ_i, m) = (Σ_i Δ̂_i)·m̂ / n
	mean = dot64(b.unit, b.msum) / nm / float64(n)
	return pair, mean
}

// Merge adds the images accumulated by o (same layout, config and shape) into u.
func (u *UpdateField) Merge(o *UpdateField) error {
	if o.rank == nil {
		return nil
	}
	if u.layout != o.layout || u.cfg.Centered != o.cfg.Centered || u.cfg.TopK != o.cfg.TopK ||
		fmt.Sprint(u.cfg.Scopes) != fmt.Sprint(o.cfg.Scopes) {
		return fmt.Errorf("dynamics: update field: merging accumulators with different layouts or configs")
	}
	if u.rank == nil {
		u.init(o.layers, o.tokens, o.dim)
	}
	if u.layers != o.layers || u.tokens != o.tokens || u.dim != o.dim {
		return fmt.Errorf("dynamics: update field: merging %dx%dx%d into %dx%dx%d", o.layers, o.tokens, o.dim, u.layers, u.tokens, u.dim)
	}
	for i := range u.rank {
		for l := range u.rank[i] {
			for _, pr := range [][2]*dist{{u.rank[i][l], o.rank[i][l]}, {u.crank[i][l], o.crank[i][l]}, {u.pair[i][l], o.pair[i][l]}, {u.mean[i][l], o.mean[i][l]}} {
				if err := pr[0].merge(pr[1]); err != nil {
					return err
				}
			}
			for k := range u.sv[i][l] {
				if err := u.sv[i][l][k].merge(o.sv[i][l][k]); err != nil {
					return err
				}
			}
		}
	}
	u.images += o.images
	return nil
}

// Result returns the per-step statistics.
func (u *UpdateField) Result() UpdateFieldResult {
	r := UpdateFieldResult{Images: u.images, Centered: u.cfg.Centered}
	if u.rank == nil {
		return r
	}
	steps := seqInts(0, u.layers-1)
	for i, sc := range u.cfg.Scopes {
		r.StableRank = append(r.StableRank, seriesOf(sc, steps, u.rank[i]))
		r.CenteredStableRank = append(r.CenteredStableRank, seriesOf(sc, steps, u.crank[i]))
		ss := SingularSeries{Scope: sc, Layers: append([]int(nil), steps...)}
		for l := range steps {
			m, sd := make([]float64, u.cfg.TopK), make([]float64, u.cfg.TopK)
			for k, d := range u.sv[i][l] {
				st := d.stat()
				m[k], sd[k] = st.Mean, st.Std
			}
			ss.Mean, ss.Std = append(ss.Mean, m), append(ss.Std, sd)
		}
		r.SingularValues = append(r.SingularValues, ss)
		if sc.Size(u.layout) >= 2 {
			r.PairwiseCoherence = append(r.PairwiseCoherence, seriesOf(sc, steps, u.pair[i]))
			r.MeanCoherence = append(r.MeanCoherence, seriesOf(sc, steps, u.mean[i]))
		}
	}
	return r
}
