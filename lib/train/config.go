package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Config describes one training run.
type Config struct {
	Name        string  // label of the progress line and the metrics log
	Steps       int     // total optimisation steps of the run
	LR, MinLR   float64 // peak learning rate, and the value cosine decay ends at
	WarmupSteps int
	WeightDecay float64 // AdamW's decoupled weight decay
	ClipNorm    float64 // clip gradients to this global L2 norm; 0 disables
	Seed        int64   // seeds initialisation and the graph's random numbers (DropPath)

	// Dir holds checkpoints and metrics.jsonl; empty means nothing is written and no resumption.
	Dir string
	// CheckpointEvery steps a checkpoint is written (and always at the end); 0 means only at the end.
	CheckpointEvery int
	// KeepCheckpoints is how many recent checkpoints stay on disk (default 2).
	KeepCheckpoints int
	// KeepSteps are steps at which a checkpoint is also written and never pruned: snapshots
	// along training (for example to show how structure grows with training time).
	KeepSteps []int
	// LogEvery steps a metrics record is written and the progress line refreshed (default 10).
	LogEvery int
	// Progress receives the progress line; nil means os.Stderr, io.Discard silences it.
	Progress io.Writer
	// ImagesPerStep, if set, adds img/s to the progress line.
	ImagesPerStep int
	// MaxWeight is the largest |value| a trainable weight may have when a checkpoint is saved
	// (default DefaultMaxWeight): a larger one means training diverged, and it is not saved.
	MaxWeight float64
}

// DefaultMaxWeight is the default Config.MaxWeight. Weights of the layer-normalised models
// trained here stay within a few units; ones past 10^6 have diverged (the loss turns NaN a
// step or two later), and a checkpoint of them is not one to resume from.
const DefaultMaxWeight = 1e6

// Validate reports what is wrong with the config.
func (c Config) Validate() error {
	var errs []error
	if c.Steps <= 0 {
		errs = append(errs, fmt.Errorf("steps must be positive, got %d", c.Steps))
	}
	if !finite(c.LR) || !finite(c.MinLR) || !finite(c.WeightDecay) || !finite(c.ClipNorm) {
		errs = append(errs, fmt.Errorf("learning rates (%g, %g), weight decay (%g) and clip norm (%g) must be finite numbers", c.LR, c.MinLR, c.WeightDecay, c.ClipNorm))
	}
	if c.LR <= 0 || c.MinLR < 0 || c.MinLR > c.LR {
		errs = append(errs, fmt.Errorf("learning rates must satisfy 0 <= min (%g) <= peak (%g), peak > 0", c.MinLR, c.LR))
	}
	if c.WarmupSteps < 0 || c.WarmupSteps > c.Steps {
		errs = append(errs, fmt.Errorf("warm-up steps %d outside [0, %d]", c.WarmupSteps, c.Steps))
	}
	if c.WeightDecay < 0 || c.ClipNorm < 0 {
		errs = append(errs, fmt.Errorf("weight decay (%g) and clip norm (%g) must be >= 0", c.WeightDecay, c.ClipNorm))
	}
	return errors.Join(errs...)
}

func (c Config) logEvery() int {
	if c.LogEvery <= 0 {
		return 10
	}
	return c.LogEvery
}

func (c Config) maxWeight() float64 {
	if c.MaxWeight <= 0 {
		return DefaultMaxWeight
	}
	return c.MaxWeight
}

// progress is where the progress line and resume notes go.
func (c Config) progress() io.Writer {
	if c.Progress == nil {
		return os.Stderr
	}
	return c.Progress
}

func (c Config) keep() int {
	if c.KeepCheckpoints <= 0 {
		return 2
	}
	return c.KeepCheckpoints
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
