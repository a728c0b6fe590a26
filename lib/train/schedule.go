package train

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// LearningRate returns the learning rate of a 0-based step: linear warm-up from LR/warmup to LR
// over WarmupSteps, then cosine decay from LR to MinLR at the last step.
func (c Config) LearningRate(step int) float64 {
	if c.WarmupSteps > 0 && step < c.WarmupSteps {
		return c.LR * float64(step+1) / float64(c.WarmupSteps)
	}
	decay := c.Steps - c.WarmupSteps - 1
	if decay <= 0 {
		return c.LR
	}
	progress := math.Min(1, float64(step-c.WarmupSteps)/float64(decay))
	return c.MinLR + 0.5*(c.LR-c.MinLR)*(1+math.Cos(math.Pi*progress))
}

// learningRateGraph is LearningRate as a graph of the (0-based, float) step.
func (c Config) learningRateGraph(step *Node) *Node {
	g := step.Graph()
	dt := step.DType()
	warm := float64(max(c.WarmupSteps, 1))
	warmup := MulScalar(AddScalar(step, 1), c.LR/warm)
	var cosine *Node
	if decay := float64(c.Steps - c.WarmupSteps - 1); decay > 0 {
		progress := MinScalar(MaxScalar(DivScalar(AddScalar(step, -float64(c.WarmupSteps)), decay), 0), 1)
		cosine = AddScalar(MulScalar(AddScalar(Cos(MulScalar(progress, math.Pi)), 1), 0.5*(c.LR-c.MinLR)), c.MinLR)
	} else {
		cosine = Scalar(g, dt, c.LR)
	}
	if c.WarmupSteps <= 0 {
		return cosine
	}
	return Where(LessThan(step, Scalar(g, dt, float64(c.WarmupSteps))), warmup, cosine)
}
