package dynamics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/blockrec/blockrec/lib/hidden"
)

// TrajectoryKind says which vector of an image represents it at each layer.
type TrajectoryKind int

const (
	// TrajectoryCLS follows the CLS token.
	TrajectoryCLS TrajectoryKind = iota
	// TrajectoryMeanPatch follows the mean of the patch tokens.
	TrajectoryMeanPatch
)

func (k TrajectoryKind) String() string {
	switch k {
	case TrajectoryCLS:
		return "CLS"
	case TrajectoryMeanPatch:
		return "mean patch"
	}
	return fmt.Sprintf("TrajectoryKind(%d)", int(k))
}

// TrajectoryConfig says which points a PCA is fitted on and which paths are projected.
type TrajectoryConfig struct {
	Kind TrajectoryKind
	// Normalize puts each point on the unit sphere (x/‖x‖) first, as the paper's angular analyses do.
	Normalize bool
	// Layers to use (default: all).
	Layers []int
}

// PCAFit accumulates the covariance of trajectory points (one per image and layer) over a stream
// of images, in float64 around a reference point (the first point) for accuracy. Memory: dim².
type PCAFit struct {
	layout hidden.Layout
	cfg    TrajectoryConfig
	dim    int
	layers int
	n      int64
	ref    []float64
	sum    []float64 // Σ (x − ref)
	cov    []float64 // Σ (x − ref)(x − ref)ᵀ, upper triangle
	point  []float64
}

// PCA is a fitted principal-component basis.
type PCA struct {
	Config TrajectoryConfig
	Points int64
	// Mean of the fitted points; Components[i] is the i-th unit principal axis.
	Mean       []float64
	Components [][]float64
	// Variance[i] is the variance along Components[i]; Explained[i] = Variance[i]/TotalVariance.
	Variance, Explained []float64
	TotalVariance       float64
}

// NewPCAFit returns an empty accumulator. Feed it a sample of images (every image, or every k-th).
func NewPCAFit(layout hidden.Layout, cfg TrajectoryConfig) (*PCAFit, error) {
	if cfg.Kind == TrajectoryMeanPatch && layout.NumPatches == 0 {
		return nil, fmt.Errorf("dynamics: PCA fit: mean-patch trajectories need patches in the layout")
	}
	if cfg.Kind != TrajectoryCLS && cfg.Kind != TrajectoryMeanPatch {
		return nil, fmt.Errorf("dynamics: PCA fit: unknown trajectory kind %v", cfg.Kind)
	}
	return &PCAFit{layout: layout, cfg: cfg}, nil
}

// trajectoryLayers returns the configured layers, validated against the number of layers.
func trajectoryLayers(cfg TrajectoryConfig, layers int) ([]int, error) {
	if cfg.Layers == nil {
		return seqInts(0, layers), nil
	}
	for _, l := range cfg.Layers {
		if l < 0 || l >= layers {
			return nil, fmt.Errorf("dynamics: trajectory layer %d out of range [0, %d]", l, layers-1)
		}
	}
	return cfg.Layers, nil
}

// trajectoryPoint writes the representative vector of layer l into out.
func trajectoryPoint(layout hidden.Layout, cfg TrajectoryConfig, s *hidden.States, l int, out []float64) {
	switch cfg.Kind {
	case TrajectoryCLS:
		for j, v := range s.Token(l, layout.CLS()) {
			out[j] = float64(v)
		}
	case TrajectoryMeanPatch:
		clear(out)
		from, to := layout.Patches()
		for t := from; t < to; t++ {
			for j, v := range s.Token(l, t) {
				out[j] += float64(v)
			}
		}
		for j := range out {
			out[j] /= float64(to - from)
		}
	}
	if cfg.Normalize {
		if n := math.Sqrt(dot64(out, out)); n > 0 {
			for j := range out {
				out[j] /= n
			}
		}
	}
}

// Add accumulates the trajectory points of one image.
func (p *PCAFit) Add(s *hidden.States) error {
	if err := checkStates("PCA fit", p.layout, s, 1); err != nil {
		return err
	}
	if p.dim != 0 && (s.Dim != p.dim || s.Layers != p.layers) {
		return fmt.Errorf("dynamics: PCA fit: states are %d layers × dim %d but earlier images were %d × %d", s.Layers, s.Dim, p.layers, p.dim)
	}
	layers, err := trajectoryLayers(p.cfg, s.Layers)
	if err != nil {
		return fmt.Errorf("dynamics: PCA fit: %w", err)
	}
	D := s.Dim
	if p.dim == 0 {
		p.dim, p.layers = D, s.Layers
		p.sum = make([]float64, D)
		p.cov = make([]float64, D*D)
		p.point = make([]float64, D)
	}
	for _, l := range layers {
		trajectoryPoint(p.layout, p.cfg, s, l, p.point)
		if p.ref == nil {
			p.ref = append([]float64(nil), p.point...)
		}
		for j := range p.point {
			p.point[j] -= p.ref[j]
			p.sum[j] += p.point[j]
		}
		for a, xa := range p.point {
			if xa == 0 {
				continue
			}
			row := p.cov[a*D : (a+1)*D]
			for b := a; b < D; b++ {
				row[b] += xa * p.point[b]
			}
		}
		p.n++
	}
	return nil
}

// Result fits the top `components` principal axes (e.g. 2).
func (p *PCAFit) Result(components int) (*PCA, error) {
	if p.n < 2 {
		return nil, fmt.Errorf("dynamics: PCA fit: need at least 2 points, have %d", p.n)
	}
	D := p.dim
	if components < 1 || components > D {
		return nil, fmt.Errorf("dynamics: PCA fit: components must be in [1, %d], got %d", D, components)
	}
	n := float64(p.n)
	mShift := make([]float64, D)
	for j := range mShift {
		mShift[j] = p.sum[j] / n
	}
	cov := mat.NewSymDense(D, nil)
	var trace float64
	for a := 0; a < D; a++ {
		for b := a; b < D; b++ {
			cov.SetSym(a, b, p.cov[a*D+b]/n-mShift[a]*mShift[b])
		}
		trace += cov.At(a, a)
	}
	vals, vm, err := topEigen(cov, components, 1, 1e-9, 3000)
	if err != nil {
		return nil, fmt.Errorf("dynamics: PCA fit: %w", err)
	}
	vecs := make([][]float64, components)
	for i := range vecs {
		vecs[i] = mat.Col(nil, i, vm)
	}
	out := &PCA{Config: p.cfg, Points: p.n, Mean: make([]float64, D), Components: vecs, Variance: vals, TotalVariance: trace}
	for j := range out.Mean {
		out.Mean[j] = p.ref[j] + mShift[j]
	}
	for i, v := range vals {
		// a deterministic sign: the largest-magnitude coordinate is positive
		big := 0
		for j, c := range vecs[i] {
			if math.Abs(c) > math.Abs(vecs[i][big]) {
				big = j
			}
		}
		if vecs[i][big] < 0 {
			for j := range vecs[i] {
				vecs[i][j] = -vecs[i][j]
			}
		}
		e := 0.0
		if trace > 0 {
			e = v / trace
		}
		out.Explained = append(out.Explained, e)
	}
	return out, nil
}

// Project returns the coordinates of a point on the principal axes.
func (p *PCA) Project(x []float64) []float64 {
	out := make([]float64, len(p.Components))
	for i, c := range p.Components {
		var s float64
		for j, v := range x {
			s += (v - p.Mean[j]) * c[j]
		}
		out[i] = s
	}
	return out
}
