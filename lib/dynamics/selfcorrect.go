package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/blockrec/blockrec/lib/hidden"
)

// RunFrom runs a model from the hidden state of layer `layer` (tokens × dim, row-major; the
// callee must not keep or modify it) to the final layer and returns the final-layer state
// (tokens × dim). With layer i the output of block i, it applies blocks layer+1 … L.
type RunFrom func(layer int, state []float32) (final []float32, err error)

// RunPath is a RunFrom that returns the whole rest of the trajectory: the states of layers
// layer+1 … L, concatenated ((L − layer) × tokens × dim, row-major). The callee must not keep or
// modify state.
type RunPath func(layer int, state []float32) (path []float32, err error)

// PerturbConfig configures a SelfCorrection experiment.
type PerturbConfig struct {
	// Epsilon is the perturbation norm relative to each perturbed token's own norm at that layer:
	// x_t ← x_t + ε‖x_t‖·g_t/‖g_t‖, with g_t an independent standard Gaussian vector per token.
	Epsilon float64
	// Tokens selects the perturbed tokens: ScopeCLS, ScopeRegisters, ScopePatches or ScopeAll.
	Tokens Scope
	// Layers at which to perturb (default 0..L). Perturbing at L runs nothing: the deviation is ε.
	Layers []int
	// Repeats is the number of random directions per image and layer (default 1).
	Repeats int
	// Seed fixes the directions: those for (image, layer, repeat) depend only on Seed and the
	// image's id (AddWithID; Add numbers images 0, 1, … in order).
	Seed uint64
	// RerunReference compares with RunFrom(l, unperturbed x_l) instead of the stored final layer,
	// cancelling any mismatch between the stored states and RunFrom (at twice the runs).
	RerunReference bool
}

// SelfCorrection measures how a perturbation of relative norm ε injected at layer l shows up in the
// final layer, per token group, over a stream of images: for every token, the relative deviation
// ‖f′ − f‖/‖f‖ and the angle ∠(f′, f), where f is the unperturbed and f′ the perturbed final state.
type SelfCorrection struct {
	layout              hidden.Layout
	run                 RunFrom
	cfg                 PerturbConfig
	scopes              []Scope
	layers, tokens, dim int
	perturbLayers       []int
	images              int
	nextID              uint64
	rel, ang            [][]*dist   // [scope][index in perturbLayers]
	path                RunPath     // nil: final layer only
	pang                [][][]*dist // [scope][index in perturbLayers][m − l]: per image and repeat
	contr               [][]*dist   // [scope][index in perturbLayers]: per image
	refPath             []float32
	theta               [][]float64 // [scope][m − l] of the current repeat
	buf, ref            []float32
	g                   []float64
}

// SelfCorrectionResult holds, for each token group, the final deviation as a function of the
// perturbation layer (Series.Layers = perturbation layers). Stats are over tokens × images × repeats.
type SelfCorrectionResult struct {
	Images    int
	Epsilon   float64
	Perturbed Scope
	// FinalLayer is L, the model's last layer (perturbing there runs nothing).
	FinalLayer int
	// RelL2: ‖f′ − f‖/‖f‖ per token; Angle: ∠(f′, f) in radians per token.
	RelL2, Angle []Series
	// PathAngle and Contraction are measured only with a RunPath (NewSelfCorrectionPath).
	PathAngle []PathSeries
	// Contraction per token group that was perturbed.
	Contraction []ContractionSeries
}

// PathSeries is the angular deviation of a token group along the perturbed trajectory: for the
// perturbation at layer Perturb[i], Mean[i][j] and Std[i][j] are over images × repeats of the mean
// over the group's tokens of ∠(x′_m, x_m) in radians, m = Perturb[i] + j = Perturb[i] … L, where x′
// is the perturbed and x the clean trajectory. Unlike ‖f′ − f‖/‖f‖ it does not shrink with norm
// growth alone.
type PathSeries struct {
	Scope     Scope
	Perturb   []int
	Mean, Std [][]float64
}

// ContractionSeries is the per-block angular contraction of a perturbed token group: for block
// Blocks[i] = l+1, the ratio θ_{l+1}/θ_l of the group's mean angular deviation one block after a
// perturbation injected at layer l to the injected one, averaged over repeats per image; Ratio[i]
// is its mean over images with a 95% percentile-bootstrap interval over images. < 1: the block
// turns the perturbed direction back towards the clean one.
type ContractionSeries struct {
	Scope  Scope
	Blocks []int
	Ratio  []Interval
}

// PathOf returns the path series of a group.
func (r SelfCorrectionResult) PathOf(s Scope) (PathSeries, bool) {
	for _, p := range r.PathAngle {
		if p.Scope == s {
			return p, true
		}
	}
	return PathSeries{}, false
}

// ContractionOf returns the contraction series of a group.
func (r SelfCorrectionResult) ContractionOf(s Scope) (ContractionSeries, bool) {
	for _, c := range r.Contraction {
		if c.Scope == s {
			return c, true
		}
	}
	return ContractionSeries{}, false
}

// Rel returns the relative-deviation series of a measured group.
func (r SelfCorrectionResult) Rel(s Scope) (Series, bool) { return findSeries(r.RelL2, s) }

// Ang returns the angular-deviation series of a measured group.
func (r SelfCorrectionResult) Ang(s Scope) (Series, bool) { return findSeries(r.Angle, s) }

// NewSelfCorrection returns an empty accumulator that perturbs states of the given layout and
// runs them to the end with run.
func NewSelfCorrection(layout hidden.Layout, run RunFrom, cfg PerturbConfig) (*SelfCorrection, error) {
	if run == nil {
		return nil, fmt.Errorf("dynamics: self-correction: nil RunFrom")
	}
	if !(cfg.Epsilon > 0) || math.IsInf(cfg.Epsilon, 0) {
		return nil, fmt.Errorf("dynamics: self-correction: epsilon must be positive and finite, got %v", cfg.Epsilon)
	}
	if !cfg.Tokens.valid() || cfg.Tokens.Size(layout) == 0 {
		return nil, fmt.Errorf("dynamics: self-correction: perturbed scope %v has no tokens in the layout", cfg.Tokens)
	}
	if cfg.Repeats <= 0 {
		cfg.Repeats = 1
	}
	return &SelfCorrection{layout: layout, run: run, cfg: cfg, scopes: presentGroups(layout, 1)}, nil
}

// NewSelfCorrectionPath is NewSelfCorrection with a RunPath: besides the final deviation it
// measures the angular deviation at every layer after the perturbation and the per-block
// angular contraction (same runs, no extra cost but the angles).
func NewSelfCorrectionPath(layout hidden.Layout, run RunPath, cfg PerturbConfig) (*SelfCorrection, error) {
	if run == nil {
		return nil, fmt.Errorf("dynamics: self-correction: nil RunPath")
	}
	c, err := NewSelfCorrection(layout, func(int, []float32) ([]float32, error) {
		return nil, fmt.Errorf("dynamics: self-correction: internal error: RunFrom called with a RunPath")
	}, cfg)
	if err != nil {
		return nil, err
	}
	c.path = run
	return c, nil
}

// initPath allocates the path distributions (perturbLayers and layers known).
func (c *SelfCorrection) initPath() {
	if c.path == nil {
		return
	}
	last := c.layers - 1
	c.pang = make([][][]*dist, len(c.scopes))
	c.contr = make([][]*dist, len(c.scopes))
	c.theta = make([][]float64, len(c.scopes))
	for i := range c.scopes {
		c.pang[i] = make([][]*dist, len(c.perturbLayers))
		c.contr[i] = make([]*dist, len(c.perturbLayers))
		c.theta[i] = make([]float64, c.layers)
		for j, l := range c.perturbLayers {
			for m := l; m <= last; m++ {
				c.pang[i][j] = append(c.pang[i][j], newExactDist())
			}
			c.contr[i][j] = newExactDist()
		}
	}
}

func (c *SelfCorrection) init(s *hidden.States) error {
	c.perturbLayers = c.cfg.Layers
	if c.perturbLayers == nil {
		c.perturbLayers = seqInts(0, s.Layers)
	}
	for _, l := range c.perturbLayers {
		if l < 0 || l >= s.Layers {
			return fmt.Errorf("dynamics: self-correction: perturbation layer %d out of range [0, %d]", l, s.Layers-1)
		}
	}
	c.layers, c.tokens, c.dim = s.Layers, s.Tokens, s.Dim
	c.rel = make([][]*dist, len(c.scopes))
	c.ang = make([][]*dist, len(c.scopes))
	for i := range c.scopes {
		c.rel[i] = make([]*dist, len(c.perturbLayers))
		c.ang[i] = make([]*dist, len(c.perturbLayers))
		for j := range c.perturbLayers {
			c.rel[i][j] = newLogDist(-12, 6)
			c.ang[i][j] = newLinearDist(0, math.Pi)
		}
	}
	c.initPath()
	return nil
}

// runFinal runs the perturbed (or clean) state from layer l and returns the final layer and,
// with a RunPath, the whole path (layers l+1..L).
func (c *SelfCorrection) runFinal(l int, state []float32, what string) (final, path []float32, err error) {
	n := c.tokens * c.dim
	if c.path == nil {
		f, err := c.run(l, state)
		if err != nil {
			return nil, nil, fmt.Errorf("dynamics: self-correction: %s run from layer %d: %w", what, l, err)
		}
		if len(f) != n {
			return nil, nil, fmt.Errorf("dynamics: self-correction: RunFrom(%d) returned %d values, want %d×%d", l, len(f), c.tokens, c.dim)
		}
		return f, nil, nil
	}
	p, err := c.path(l, state)
	if err != nil {
		return nil, nil, fmt.Errorf("dynamics: self-correction: %s run from layer %d: %w", what, l, err)
	}
	if want := (c.layers - 1 - l) * n; len(p) != want {
		return nil, nil, fmt.Errorf("dynamics: self-correction: RunPath(%d) returned %d values, want %d layers × %d×%d", l, len(p), c.layers-1-l, c.tokens, c.dim)
	}
	return p[len(p)-n:], p, nil
}

// groupAngle is the mean over the group's tokens of the angle between two layer states.
func groupAngle(a, b []float32, from, to, dim int) float64 {
	var s float64
	for t := from; t < to; t++ {
		x, y := a[t*dim:(t+1)*dim], b[t*dim:(t+1)*dim]
		s += angle32(x, y, norm32(x), norm32(y))
	}
	return s / float64(to-from)
}

// Add runs the experiment on one image, numbered by the order of calls.
func (c *SelfCorrection) Add(s *hidden.States) error {
	return c.AddWithID(s, c.nextID)
}

// AddWithID runs the experiment on one image whose directions are seeded by id (use it when
// several accumulators share a stream and are merged).
func (c *SelfCorrection) AddWithID(s *hidden.States, id uint64) error {
	if err := checkStates("self-correction", c.layout, s, 1); err != nil {
		return err
	}
	if err := checkShape("self-correction", c.layers, c.tokens, c.dim, s); err != nil {
		return err
	}
	if c.rel == nil {
		if err := c.init(s); err != nil {
			return err
		}
	}
	T, D := s.Tokens, s.Dim
	n := T * D
	last := s.Layers - 1
	pFrom, pTo := c.cfg.Tokens.Range(c.layout)
	c.buf = resizeF32(c.buf, n)
	c.g = resize(c.g, D)
	for li, l := range c.perturbLayers {
		ref := s.Layer(last)
		var refPath []float32 // layers l+1..L of the clean trajectory, when rerun
		if c.cfg.RerunReference && l < last {
			c.ref = resizeF32(c.ref, n)
			copy(c.ref, s.Layer(l))
			f, p, err := c.runFinal(l, c.ref, "unperturbed")
			if err != nil {
				return err
			}
			if p != nil {
				c.refPath = append(c.refPath[:0], p...)
				refPath = c.refPath
				ref = refPath[len(refPath)-n:]
			} else {
				copy(c.ref, f)
				ref = c.ref
			}
		}
		clean := func(m int) []float32 { // the clean state at layer m ≥ l
			if refPath != nil && m > l {
				return refPath[(m-l-1)*n : (m-l)*n]
			}
			return s.Layer(m)
		}
		ratioSum := make([]float64, len(c.scopes))
		ratioN := make([]int, len(c.scopes))
		for rep := 0; rep < c.cfg.Repeats; rep++ {
			rng := rand.New(rand.NewPCG(c.cfg.Seed, mixSeed(id, uint64(l), uint64(rep))))
			copy(c.buf, s.Layer(l))
			for t := pFrom; t < pTo; t++ {
				x := c.buf[t*D : (t+1)*D]
				nx := norm32(x)
				var ng float64
				for j := range c.g {
					c.g[j] = rng.NormFloat64()
					ng += c.g[j] * c.g[j]
				}
				scale := c.cfg.Epsilon * nx / math.Sqrt(ng)
				for j := range x {
					x[j] = float32(float64(x[j]) + scale*c.g[j])
				}
			}
			if c.path != nil {
				for si, sc := range c.scopes {
					from, to := sc.Range(c.layout)
					c.theta[si][0] = groupAngle(c.buf, s.Layer(l), from, to, D)
				}
			}
			final := c.buf
			if l < last {
				f, p, err := c.runFinal(l, c.buf, "perturbed")
				if err != nil {
					return err
				}
				final = f
				for si, sc := range c.scopes {
					from, to := sc.Range(c.layout)
					for m := l + 1; m <= last && p != nil; m++ {
						c.theta[si][m-l] = groupAngle(p[(m-l-1)*n:(m-l)*n], clean(m), from, to, D)
					}
				}
			}
			if c.path != nil {
				for si := range c.scopes {
					for m := l; m <= last; m++ {
						c.pang[si][li][m-l].add(c.theta[si][m-l])
					}
					if l < last && c.theta[si][0] > 0 {
						ratioSum[si] += c.theta[si][1] / c.theta[si][0]
						ratioN[si]++
					}
				}
			}
			for si, sc := range c.scopes {
				from, to := sc.Range(c.layout)
				for t := from; t < to; t++ {
					f0, f1 := ref[t*D:(t+1)*D], final[t*D:(t+1)*D]
					n0 := norm32(f0)
					var dd float64
					for j := range f0 {
						d := float64(f1[j]) - float64(f0[j])
						dd += d * d
					}
					rel := math.Inf(1)
					if n0 > 0 {
						rel = math.Sqrt(dd) / n0
					} else if dd == 0 {
						rel = 0
					}
					c.rel[si][li].add(rel)
					c.ang[si][li].add(angle32(f1, f0, norm32(f1), n0))
				}
			}
		}
		if c.path != nil {
			for si := range c.scopes {
				if ratioN[si] > 0 {
					c.contr[si][li].add(ratioSum[si] / float64(ratioN[si]))
				}
			}
		}
	}
	c.images++
	if id >= c.nextID {
		c.nextID = id + 1
	}
	return nil
}

// mixSeed combines image id, layer and repeat into one PCG stream selector (splitmix64 steps).
func mixSeed(vals ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

func resizeF32(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// Merge adds the images accumulated by o (same layout, config and shape) into c.
func (c *SelfCorrection) Merge(o *SelfCorrection) error {
	if o.rel == nil {
		return nil
	}
	sameLayers := c.rel == nil || fmt.Sprint(o.perturbLayers) == fmt.Sprint(c.perturbLayers)
	if c.layout != o.layout || c.cfg.Epsilon != o.cfg.Epsilon || c.cfg.Tokens != o.cfg.Tokens || !sameLayers {
		return fmt.Errorf("dynamics: self-correction: merging accumulators with different layouts or configs")
	}
	if c.rel == nil {
		c.perturbLayers = append([]int(nil), o.perturbLayers...)
		c.layers, c.tokens, c.dim = o.layers, o.tokens, o.dim
		c.rel = make([][]*dist, len(c.scopes))
		c.ang = make([][]*dist, len(c.scopes))
		for i := range c.scopes {
			for range c.perturbLayers {
				c.rel[i] = append(c.rel[i], newLogDist(-12, 6))
				c.ang[i] = append(c.ang[i], newLinearDist(0, math.Pi))
			}
		}
	}
	if c.layers != o.layers || c.tokens != o.tokens || c.dim != o.dim {
		return fmt.Errorf("dynamics: self-correction: merging %dx%dx%d into %dx%dx%d", o.layers, o.tokens, o.dim, c.layers, c.tokens, c.dim)
	}
	if (c.path == nil) != (o.path == nil) {
		return fmt.Errorf("dynamics: self-correction: merging an accumulator with a RunPath and one without")
	}
	if c.path != nil && c.pang == nil {
		c.initPath()
	}
	for i := range c.pang {
		for j := range c.pang[i] {
			for m := range c.pang[i][j] {
				if err := c.pang[i][j][m].merge(o.pang[i][j][m]); err != nil {
					return err
				}
			}
			if err := c.contr[i][j].merge(o.contr[i][j]); err != nil {
				return err
			}
		}
	}
	for i := range c.rel {
		for j := range c.rel[i] {
			if err := c.rel[i][j].merge(o.rel[i][j]); err != nil {
				return err
			}
			if err := c.ang[i][j].merge(o.ang[i][j]); err != nil {
				return err
			}
		}
	}
	c.images += o.images
	c.nextID = max(c.nextID, o.nextID)
	return nil
}

// Result returns the final deviations per perturbation layer and measured group.
func (c *SelfCorrection) Result() SelfCorrectionResult {
	r := SelfCorrectionResult{Images: c.images, Epsilon: c.cfg.Epsilon, Perturbed: c.cfg.Tokens, FinalLayer: c.layers - 1}
	if c.rel == nil {
		return r
	}
	for i, sc := range c.scopes {
		r.RelL2 = append(r.RelL2, seriesOf(sc, c.perturbLayers, c.rel[i]))
		r.Angle = append(r.Angle, seriesOf(sc, c.perturbLayers, c.ang[i]))
	}
	for i, sc := range c.scopes {
		if c.pang == nil {
			break
		}
		ps := PathSeries{Scope: sc, Perturb: append([]int(nil), c.perturbLayers...)}
		cs := ContractionSeries{Scope: sc}
		for j, l := range c.perturbLayers {
			m, sd := make([]float64, len(c.pang[i][j])), make([]float64, len(c.pang[i][j]))
			for k, d := range c.pang[i][j] {
				st := d.stat()
				m[k], sd[k] = st.Mean, st.Std
			}
			ps.Mean, ps.Std = append(ps.Mean, m), append(ps.Std, sd)
			if d := c.contr[i][j]; d.n > 0 {
				cs.Blocks = append(cs.Blocks, l+1)
				cs.Ratio = append(cs.Ratio, bootstrapMean(d.vals, 0.95, 2000, c.cfg.Seed))
			}
		}
		r.PathAngle = append(r.PathAngle, ps)
		if len(cs.Blocks) > 0 {
			r.Contraction = append(r.Contraction, cs)
		}
	}
	return r
}
