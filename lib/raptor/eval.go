package raptor

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/vit"
)

// Scopes of the variables in a context that holds both models: Raptor's under RaptorScope, the
// frozen teacher's (as named by vit.Config.WeightShapes) under TeacherScope.
const (
	RaptorScope  = "raptor"
	TeacherScope = "teacher"
)

// EvalOptions configures Evaluate.
type EvalOptions struct {
	Batch     int // images per forward pass (default 64)
	MaxImages int // 0: every image of the cache
	// Raptor runs layers From+1..To from the teacher's state after layer From; the teacher's own
	// blocks continue from Raptor's state after To (the released trainer's Stage-1 validation).
	// The zero value (To = 0) means the whole model, 0→L.
	From, To int
	// Parts, when > 1, also splits the images into that many comparisons (image i goes to part
	// i mod Parts), so that R² and the other pooled figures can be bootstrapped over images
	// (PoolComparisons): EvalResult.Parts.
	Parts int
}

// EvalResult is what Evaluate measures.
type EvalResult struct {
	Images int
	// Accuracy is the top-1 accuracy of the teacher's head on Raptor's final state; TeacherAccuracy
	// that of the teacher's head on the teacher's final state (from the cache). NaN when the
	// teacher has no head or the cache no labels.
	Accuracy, TeacherAccuracy float64
	// Labels, Predictions and TeacherPredictions have one entry per evaluated image, in cache
	// order: the cached label (−1 for an unlabelled image; Labels is nil when no image has one),
	// and the top-1 class of the teacher's head on Raptor's and on the teacher's final state (nil
	// when the teacher has no head). They allow paired statistics between models (see Agreement).
	Labels, Predictions, TeacherPredictions []int
	// Comparison holds R², cosine and MSE of layers 1..L (index l−1) against the teacher.
	Comparison *Comparison
	// Parts are the comparisons of EvalOptions.Parts disjoint subsets of the images (nil when
	// Parts ≤ 1); pooled together they give Comparison.
	Parts []*Comparison
}

// Agreement is the share of images on which Raptor's top-1 class equals the teacher's, labelled
// or not; NaN without predictions.
func (r *EvalResult) Agreement() float64 {
	if r == nil || len(r.Predictions) == 0 || len(r.Predictions) != len(r.TeacherPredictions) {
		return math.NaN()
	}
	same := 0
	for i, p := range r.Predictions {
		if p == r.TeacherPredictions[i] {
			same++
		}
	}
	return float64(same) / float64(len(r.Predictions))
}

// Evaluate runs Raptor (variables under ctx's RaptorScope) from the cached teacher states and
// compares every layer with the teacher's; the teacher's final LayerNorm and head (under
// TeacherScope) classify Raptor's output. The teacher's blocks are needed only when To < L.
func Evaluate(b backends.Backend, ctx *context.Context, teacher *vit.Model, m *Model, cache *Cache, opts EvalOptions) (*EvalResult, error) {
	if m == nil || cache == nil {
		return nil, fmt.Errorf("raptor evaluate: no Raptor model or no cache")
	}
	meta := cache.Meta()
	depth := m.Config.Depth()
	if meta.Layers != depth+1 {
		return nil, fmt.Errorf("raptor evaluate: cache %s has %d layers, Raptor depth %d needs %d", cache.Dir, meta.Layers, depth, depth+1)
	}
	from, to := opts.From, opts.To
	if to == 0 {
		to = depth
	}
	if from < 0 || from >= to || to > depth {
		return nil, fmt.Errorf("raptor evaluate: span %d→%d outside 0..%d", from, to, depth)
	}
	if to < depth && teacher == nil {
		return nil, fmt.Errorf("raptor evaluate: span %d→%d of depth %d needs the teacher's blocks, and there is no teacher", from, to, depth)
	}
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	layout := meta.Layout
	hasHead := teacher != nil && teacher.Config.NumClasses > 0
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x, last *Node) []*Node {
		ctx.SetTraining(x.Graph(), false)
		states := m.Rollout(ctx.In(RaptorScope), x, from, to)
		if to < depth {
			states = append(states, teacher.RunFrom(ctx.In(TeacherScope), to, states[len(states)-1])...)
		}
		outs := states
		if hasHead {
			_, logits := teacher.Head(ctx.In(TeacherScope), states[len(states)-1], layout)
			_, tlogits := teacher.Head(ctx.In(TeacherScope), last, layout)
			outs = append(outs, ArgMax(logits, -1, dtypes.Int32), ArgMax(tlogits, -1, dtypes.Int32))
		}
		return outs
	})
	if err != nil {
		return nil, fmt.Errorf("raptor evaluate: %w", err)
	}
	res := &EvalResult{Comparison: NewComparison(depth, meta.Dim, layout)}
	for range max(0, opts.Parts) {
		if opts.Parts > 1 {
			res.Parts = append(res.Parts, NewComparison(depth, meta.Dim, layout))
		}
	}
	correct, tcorrect, labelled := 0, 0, 0
	per := meta.Tokens * meta.Dim
	errStop := fmt.Errorf("stop")
	err = cache.Each(func(chunk *hidden.Batch, labels []int, _ int) error {
		for start := 0; start < chunk.Images; start += opts.Batch {
			n := min(opts.Batch, chunk.Images-start)
			if opts.MaxImages > 0 {
				n = min(n, opts.MaxImages-res.Images)
			}
			if n <= 0 {
				return errStop
			}
			xs := make([]float32, n*per)
			lasts := make([]float32, n*per)
			for k := range n {
				img := chunk.Image(start + k)
				copy(xs[k*per:], img.Layer(from))
				copy(lasts[k*per:], img.Layer(depth))
			}
			outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(xs, n, meta.Tokens, meta.Dim),
				tensors.FromFlatDataAndDimensions(lasts, n, meta.Tokens, meta.Dim))
			if err != nil {
				return fmt.Errorf("raptor evaluate: %w", err)
			}
			pred := hidden.NewStates(depth, meta.Tokens, meta.Dim)
			target := hidden.NewStates(depth, meta.Tokens, meta.Dim)
			flat := make([][]float32, depth-from)
			for i := range flat {
				flat[i] = make([]float32, n*per)
				tensors.MustConstFlatData(outs[i], func(v []float32) { copy(flat[i], v) })
			}
			for k := range n {
				img := chunk.Image(start + k)
				copy(target.Data, img.Data[per:])
				copy(pred.Data, target.Data[:from*per]) // layers 1..from are the teacher's own
				for i := range flat {
					copy(pred.Layer(from+i), flat[i][k*per:(k+1)*per])
				}
				if err := res.Comparison.Add(pred, target); err != nil {
					return err
				}
				if len(res.Parts) > 0 {
					if err := res.Parts[(res.Images+k)%len(res.Parts)].Add(pred, target); err != nil {
						return err
					}
				}
			}
			if hasHead {
				var p, tp []int32
				tensors.MustConstFlatData(outs[depth-from], func(v []int32) { p = append(p, v...) })
				tensors.MustConstFlatData(outs[depth-from+1], func(v []int32) { tp = append(tp, v...) })
				for k := range n {
					res.Predictions = append(res.Predictions, int(p[k]))
					res.TeacherPredictions = append(res.TeacherPredictions, int(tp[k]))
					if l := labels[start+k]; l >= 0 {
						labelled++
						if int(p[k]) == l {
							correct++
						}
						if int(tp[k]) == l {
							tcorrect++
						}
					}
				}
			}
			for k := range n {
				res.Labels = append(res.Labels, labels[start+k])
			}
			res.Images += n
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	res.Accuracy, res.TeacherAccuracy = math.NaN(), math.NaN()
	if !slices.ContainsFunc(res.Labels, func(l int) bool { return l >= 0 }) {
		res.Labels = nil
	}
	if labelled > 0 {
		res.Accuracy = float64(correct) / float64(labelled)
		res.TeacherAccuracy = float64(tcorrect) / float64(labelled)
	}
	return res, nil
}
