package raptor

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/train"
)

// StageOptions configures one training stage.
type StageOptions struct {
	Train   train.Config // steps, learning rates, clipping, seed, checkpoint dir, logging
	Batch   int          // images per step
	Mode    Mode         // Annealed (Stage 1), AutoregressiveOnly (Stage 2) or TeacherForcedOnly
	Anneal  float64      // fraction of the steps over which λ goes 1 → 0 (default 0.25)
	Weights Weights      // per-state loss
}

// PaperTrain returns the released trainer's optimisation settings for a run of steps: AdamW
// lr 3e-4 → 1e-6 cosine, weight decay 1e-4, clip 1.0, warm-up 10,000 steps scaled to the run
// (10,000/312,500 of it).
func PaperTrain(steps int) train.Config {
	return train.Config{Steps: steps, LR: 3e-4, MinLR: 1e-6, WeightDecay: 1e-4, ClipNorm: 1,
		WarmupSteps: steps * 10000 / 312500}
}

// Batches returns the batch function of a stage: the plan's teacher layers for the step's images,
// plus λ while it is positive in Annealed mode (see Objective.Loss).
func Batches(s *Sampler, steps int, opts StageOptions) train.Batches {
	frac := opts.Anneal
	if frac == 0 {
		frac = 0.25
	}
	return func(step int) ([]*tensors.Tensor, error) {
		acts, _, err := s.Batch(step)
		if err != nil {
			return nil, err
		}
		if opts.Mode != Annealed {
			return []*tensors.Tensor{acts}, nil
		}
		lambda := Lambda(step, steps, frac)
		if lambda <= 0 {
			return []*tensors.Tensor{acts}, nil
		}
		return []*tensors.Tensor{acts, tensors.FromValue(float32(lambda))}, nil
	}
}

// TrainPlan trains Raptor's variables in ctx (under RaptorScope) on a plan, streaming teacher
// states from cache. Every trainable variable of ctx is optimised (and weight-decayed), so ctx
// must hold only what the stage trains: Stage 1 uses a fresh context per block.
func TrainPlan(b backends.Backend, ctx *context.Context, m *Model, plan Plan, cache *Cache, opts StageOptions) (*train.Result, error) {
	if cache.Meta().Layers != m.Config.Depth()+1 {
		return nil, fmt.Errorf("raptor train: cache %s has %d layers, Raptor depth %d needs %d", cache.Dir, cache.Meta().Layers, m.Config.Depth(), m.Config.Depth()+1)
	}
	if opts.Batch <= 0 {
		return nil, fmt.Errorf("raptor train: batch size %d", opts.Batch)
	}
	sampler, err := NewSampler(cache, opts.Batch, uint64(opts.Train.Seed), plan.Layers)
	if err != nil {
		return nil, err
	}
	obj := Objective{Model: m, Plan: plan, Layout: cache.Meta().Layout, Weights: opts.Weights}
	loss := obj.Loss(opts.Mode)
	lossFn := func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
		return loss(ctx.In(RaptorScope), inputs)
	}
	if opts.Train.ImagesPerStep == 0 {
		opts.Train.ImagesPerStep = opts.Batch
	}
	return train.Run(b, ctx, opts.Train, lossFn, Batches(sampler, opts.Train.Steps, opts))
}

// TrainStage1 trains block j alone on its phase in a fresh context and returns it.
func TrainStage1(b backends.Backend, m *Model, j int, cache *Cache, opts StageOptions) (*context.Context, *train.Result, error) {
	plan, err := Stage1Plan(m.Config, j)
	if err != nil {
		return nil, nil, err
	}
	ctx := context.New()
	res, err := TrainPlan(b, ctx, m, plan, cache, opts)
	return ctx, res, err
}

// TrainStage2 chains all blocks end to end, initialised from the Stage-1 contexts (stage1[j]
// holds block j; nil entries start fresh), and returns the trained context.
func TrainStage2(b backends.Backend, m *Model, stage1 []*context.Context, cache *Cache, opts StageOptions) (*context.Context, *train.Result, error) {
	ctx := context.New()
	for j, src := range stage1 {
		if src == nil {
			continue
		}
		if err := CopyBlock(ctx, src, j); err != nil {
			return nil, nil, err
		}
	}
	res, err := TrainPlan(b, ctx, m, Stage2Plan(m.Config), cache, opts)
	return ctx, res, err
}

// CopyBlock copies block j's variables (under RaptorScope) from src to dst, creating them in dst.
func CopyBlock(dst, src *context.Context, j int) error {
	prefix := "/" + RaptorScope + "/" + BlockScope(j)
	n := 0
	for v := range src.IterVariables() {
		if v.Scope() != prefix && !strings.HasPrefix(v.Scope(), prefix+"/") {
			continue
		}
		t, err := v.Value()
		if err == nil {
			t, err = t.LocalClone()
		}
		if err != nil {
			return fmt.Errorf("raptor: copying %s: %w", v.ScopeAndName(), err)
		}
		if w := dst.GetVariableByScopeAndName(v.Scope(), v.Name()); w != nil {
			if err := w.SetValue(t); err != nil {
				return err
			}
		} else {
			dst.InAbsPath(v.Scope()).Checked(false).VariableWithValue(v.Name(), t)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("raptor: no variables of block %d (scope %s) to copy", j, prefix)
	}
	return nil
}
