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
	rel, ang            [][]*dist // [scope][index in perturbLayers]
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
	return nil
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
		if c.cfg.RerunReference && l < last {
			c.ref = resizeF32(c.ref, n)
			copy(c.ref, s.Layer(l))
			f, err := c.run(l, c.ref)
			if err != nil {
				return fmt.Errorf("dynamics: self-correction: unperturbed run from layer %d: %w", l, err)
			}
			if len(f) != n {
				return fmt.Errorf("dynamics: self-correction: RunFrom(%d) returned %d values, want %d×%d", l, len(f), T, D)
			}
			copy(c.ref, f)
			ref = c.ref
		}
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
			final := c.buf
			if l < last {
				f, err := c.run(l, c.buf)
				if err != nil {
					return fmt.Errorf("dynamics: self-correction: perturbed run from layer %d: %w", l, err)
				}
				if len(f) != n {
					return fmt.Errorf("dynamics: self-correction: RunFrom(%d) returned %d values, want %d×%d", l, len(f), T, D)
				}
				final = f
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
	return r
}
