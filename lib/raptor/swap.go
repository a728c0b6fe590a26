package raptor

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// SwapKind says where a replacement layer comes from.
type SwapKind string

const (
	// Intra replaces a layer by another layer of the same phase.
	Intra SwapKind = "intra"
	// Inter replaces a layer by a layer of another phase.
	Inter SwapKind = "inter"
)

// SwapOrders draws `trials` layer orders for vit.Model.ForwardWithOrder in which n distinct
// depths (0-based layers) run the weights of another layer: of the same phase (Intra) or of a
// different phase (Inter) of p. Depths that have no candidate (a phase of one layer, for Intra)
// are never chosen. Deterministic in seed.
func SwapOrders(p phases.Partition, kind SwapKind, n, trials int, seed uint64) ([][]int, error) {
	depth := p.N()
	if err := p.Validate(depth); err != nil {
		return nil, fmt.Errorf("layer swap: %w", err)
	}
	labels := p.Labels()
	candidates := make([][]int, depth)
	var eligible []int
	for l := range depth {
		for o := range depth {
			if o != l && (labels[o] == labels[l]) == (kind == Intra) {
				candidates[l] = append(candidates[l], o)
			}
		}
		if len(candidates[l]) > 0 {
			eligible = append(eligible, l)
		}
	}
	if kind != Intra && kind != Inter {
		return nil, fmt.Errorf("layer swap: unknown kind %q", kind)
	}
	if n < 1 || n > len(eligible) {
		return nil, fmt.Errorf("layer swap: %d %s swaps requested, %d layers of %s have a candidate", n, kind, len(eligible), p)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a4b))
	var out [][]int
	for range trials {
		order := make([]int, depth)
		for i := range order {
			order[i] = i
		}
		perm := rng.Perm(len(eligible))[:n]
		slices.Sort(perm)
		for _, k := range perm {
			l := eligible[k]
			order[l] = candidates[l][rng.IntN(len(candidates[l]))]
		}
		out = append(out, order)
	}
	return out, nil
}

// OrderAccuracy returns the teacher's top-1 accuracy (weights under ctx's TeacherScope) when its
// layers run in the given order, over the image batches: the accuracy of OrderPredictions.
func OrderAccuracy(b backends.Backend, ctx *context.Context, teacher *vit.Model, order []int, batches func(yield func(train.EvalBatch) bool)) (float64, error) {
	preds, labels, err := OrderPredictions(b, ctx, teacher, order, batches)
	if err != nil {
		return 0, err
	}
	acc, err := train.TopOneAccuracy(preds, labels)
	if err != nil {
		return 0, fmt.Errorf("layer swap: %w", err)
	}
	return acc, nil
}

// OrderPredictions returns, one per image in batch order, the teacher's top-1 class (weights under
// ctx's TeacherScope) when its layers run in the given order, and the image's label: paired
// statistics (agreement with the unswapped teacher, McNemar) compare two orders image by image.
func OrderPredictions(b backends.Backend, ctx *context.Context, teacher *vit.Model, order []int, batches func(yield func(train.EvalBatch) bool)) (preds, labels []int, err error) {
	if teacher == nil {
		return nil, nil, fmt.Errorf("layer swap: no teacher")
	}
	if teacher.Config.NumClasses <= 0 {
		return nil, nil, fmt.Errorf("layer swap: the teacher has no classification head")
	}
	if len(order) != teacher.Config.Depth {
		return nil, nil, fmt.Errorf("layer swap: order %v for a teacher of depth %d", order, teacher.Config.Depth)
	}
	for _, l := range order {
		if l < 0 || l >= teacher.Config.Depth {
			return nil, nil, fmt.Errorf("layer swap: order %v runs layer %d of a teacher of depth %d", order, l, teacher.Config.Depth)
		}
	}
	preds, labels, err = train.EvaluatePredictions(b, ctx, teacher.Config.Channels, func(ctx *context.Context, images *Node) *Node {
		return teacher.ForwardWithOrder(ctx.In(TeacherScope), images, order).Logits
	}, batches)
	if err != nil {
		return nil, nil, fmt.Errorf("layer swap: %w", err)
	}
	return preds, labels, nil
}
