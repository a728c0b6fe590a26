package raptor

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Weights selects the per-state loss: plain MSE over all tokens and features, or the token-group
// weighted MSE CLS·MSE(CLS) + Registers·MSE(registers) + Patches·MSE(patches), each group's MSE
// averaged over its own batch × tokens × features. A group with no tokens (a teacher without
// registers) contributes nothing; the other weights are not renormalised.
type Weights struct {
	Plain                   bool
	CLS, Registers, Patches float64
}

var (
	// Stage1Weights are the released trainer's --weighted weights for the Stage-1 block that
	// holds the last layer (see Stage1WeightsFor).
	Stage1Weights = Weights{CLS: 0.34, Registers: 0.33, Patches: 0.33}
	// Stage2Weights are the weights of Stage 2.
	Stage2Weights = Weights{CLS: 0.45, Registers: 0.10, Patches: 0.45}
	// PlainMSE is the released trainer's --mse.
	PlainMSE = Weights{Plain: true}
)

// Stage1WeightsFor returns the Stage-1 loss weights of block j: Stage1Weights (CLS-weighted)
// for the block that holds the last layer (cfg.LastBlock(), which for a shuffled partition need
// not be block K−1), PlainMSE for every other block.
func Stage1WeightsFor(cfg Config, j int) Weights {
	if j == cfg.LastBlock() {
		return Stage1Weights
	}
	return PlainMSE
}

func (w Weights) String() string {
	if w.Plain {
		return "mse"
	}
	return fmt.Sprintf("weighted(cls=%g,reg=%g,patch=%g)", w.CLS, w.Registers, w.Patches)
}

// tokenCoefficients returns c[t] such that Σ_t c[t]·Σ_{batch,dim} err² is the loss.
func (w Weights) tokenCoefficients(layout hidden.Layout, batch, dim int) []float32 {
	n := layout.NumTokens()
	c := make([]float32, n)
	if w.Plain {
		for t := range c {
			c[t] = float32(1 / float64(n*batch*dim))
		}
		return c
	}
	for _, g := range []struct {
		group  hidden.Group
		weight float64
	}{{hidden.GroupCLS, w.CLS}, {hidden.GroupRegisters, w.Registers}, {hidden.GroupPatches, w.Patches}} {
		from, to := layout.Range(g.group)
		if to <= from {
			continue
		}
		for t := from; t < to; t++ {
			c[t] = float32(g.weight / float64((to-from)*batch*dim))
		}
	}
	return c
}

// StateLoss is the loss between pred and target [batch, tokens, dim] under w. Token groups are
// selected with a constant coefficient vector (no Slice, whose gradient the pure-Go backend lacks).
func StateLoss(pred, target *Node, layout hidden.Layout, w Weights) *Node {
	b, t, d := pred.Shape().Dim(0), pred.Shape().Dim(1), pred.Shape().Dim(2)
	if t != layout.NumTokens() {
		panic(fmt.Sprintf("raptor loss: %d tokens, layout has %d", t, layout.NumTokens()))
	}
	perToken := ReduceSum(Square(Sub(pred, target)), 0, 2) // [tokens]
	c := Const(pred.Graph(), tensors.FromFlatDataAndDimensions(w.tokenCoefficients(layout, b, d), t))
	return ReduceAllSum(Mul(perToken, c))
}

// Lambda is the teacher-forcing weight of a 0-based step: max(0, 1 − step/⌊frac·steps⌋), linear
// from 1 to 0 over the first frac of training, as the released trainer's teacher_forcing_ratio.
// frac ≤ 0 (or a zero-length anneal) gives 0 at every step.
func Lambda(step, steps int, frac float64) float64 {
	annealSteps := int(frac * float64(steps))
	if annealSteps <= 0 {
		return 0
	}
	return math.Max(0, 1-float64(step)/float64(annealSteps))
}
