package raptor

import (
	"errors"
	"fmt"

	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/vit"
)

// Config describes a Raptor model. Start from ForTeacher.
type Config struct {
	Dim, Heads int
	MLPHidden  int         // hidden width of the MLP (for SwiGLU: the width of each branch)
	MLP        vit.MLPKind // SwiGLU (the paper's runs) or GELU
	// ApproximateGELU selects the tanh GELU for the GELU MLP.
	ApproximateGELU bool
	LayerNormEps    float64
	// LayerScaleInit is the initial LayerScale γ of both residual branches (paper: 1e-5); 0
	// disables LayerScale.
	LayerScaleInit float64

	// DepthScaling enables the per-layer scales t1, t2, t3 computed from the raw layer index.
	DepthScaling bool
	DepthHidden  int     // hidden width of the depth-scaling MLP (paper: 16)
	DepthInitStd float64 // std of the normal init of its last layer, weights and bias (paper: 1e-4)

	// Assign[l] is the block that runs at layer l+1 (0-based step l); len(Assign) is the depth L.
	// Every block 0..K-1 must appear.
	Assign []int
}

// ForTeacher returns the paper's Raptor config for a teacher ViT: same width and heads, SwiGLU
// MLP with branches of 4·Dim, LayerScale 1e-5, depth scaling on (16 hidden, init std 1e-4), and the
// given layer→block assignment (len(assign) must equal the teacher's depth).
func ForTeacher(t vit.Config, assign []int) Config {
	return Config{
		Dim: t.Dim, Heads: t.Heads, MLPHidden: 4 * t.Dim, MLP: vit.MLPSwiGLU,
		LayerNormEps: t.LayerNormEps, LayerScaleInit: 1e-5,
		DepthScaling: true, DepthHidden: 16, DepthInitStd: 1e-4,
		Assign: append([]int(nil), assign...),
	}
}

// Depth is the number of block steps L.
func (c Config) Depth() int { return len(c.Assign) }

// K is the number of blocks.
func (c Config) K() int {
	k := 0
	for _, b := range c.Assign {
		k = max(k, b+1)
	}
	return k
}

// LastBlock is the block that runs at the last layer L (Assign[L−1]), the block whose output is
// the model's final state. For contiguous phases it is K−1; for a shuffled (non-contiguous)
// partition it can be any block. It is −1 for an empty assignment.
func (c Config) LastBlock() int {
	if len(c.Assign) == 0 {
		return -1
	}
	return c.Assign[len(c.Assign)-1]
}

// Layers returns, for block j, the 1-based layers it serves, in increasing order.
func (c Config) Layers(j int) []int {
	var out []int
	for l, b := range c.Assign {
		if b == j {
			out = append(out, l+1)
		}
	}
	return out
}

// Validate reports every inconsistency.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Dim > 0 && c.Heads > 0 && c.Dim%c.Heads == 0, "dim %d must be a positive multiple of heads %d", c.Dim, c.Heads)
	check(c.MLPHidden > 0, "MLP hidden width must be positive, got %d", c.MLPHidden)
	check(c.MLP == vit.MLPGELU || c.MLP == vit.MLPSwiGLU, "unknown MLP kind %q", c.MLP)
	check(c.LayerNormEps > 0, "layer-norm eps must be positive, got %g", c.LayerNormEps)
	check(!c.DepthScaling || (c.DepthHidden > 0 && c.DepthInitStd >= 0),
		"depth scaling needs a positive hidden width (got %d) and init std >= 0 (got %g)", c.DepthHidden, c.DepthInitStd)
	check(len(c.Assign) > 0, "empty layer→block assignment")
	seen := make([]bool, c.K())
	for l, b := range c.Assign {
		if b < 0 {
			errs = append(errs, fmt.Errorf("layer %d is assigned to block %d", l+1, b))
			continue
		}
		seen[b] = true
	}
	for j, ok := range seen {
		check(ok, "block %d serves no layer (assignment %v)", j, c.Assign)
	}
	return errors.Join(errs...)
}

// AssignFromThresholds returns the assignment of the official Raptor(blocks, thresholds): layer t
// (1-based) runs the first block i with t ≤ thresholds[i], else the last block (index
// len(thresholds)). thresholds must be strictly increasing within 1..depth-1.
func AssignFromThresholds(thresholds []int, depth int) ([]int, error) {
	prev := 0
	for _, th := range thresholds {
		if th <= prev || th >= depth {
			return nil, fmt.Errorf("raptor thresholds %v: want strictly increasing values within 1..%d", thresholds, depth-1)
		}
		prev = th
	}
	assign := make([]int, depth)
	for l := range assign {
		t := l + 1
		b := len(thresholds)
		for i, th := range thresholds {
			if t <= th {
				b = i
				break
			}
		}
		assign[l] = b
	}
	return assign, nil
}

// AssignFromPartition returns the assignment of a partition of the 0-based layers (phase j lists
// the 0-based indices l whose step, layer l+1, runs block j); contiguous or not.
func AssignFromPartition(p phases.Partition) ([]int, error) {
	n := p.N()
	if err := p.Validate(n); err != nil {
		return nil, fmt.Errorf("raptor assignment: %w", err)
	}
	return p.Labels(), nil
}
