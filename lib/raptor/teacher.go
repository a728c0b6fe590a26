package raptor

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// LoadTeacher reads a teacher's weights from a lib/train checkpoint, where the model's variables
// lived under scope (e.g. "" for the root, or "vit"), and stores them in ctx under TeacherScope.
// Optimiser state in the checkpoint is ignored.
func LoadTeacher(ctx *context.Context, cfg vit.Config, checkpoint, scope string) error {
	tmp := context.New()
	if _, err := train.LoadCheckpoint(tmp, checkpoint); err != nil {
		return fmt.Errorf("raptor teacher: %w", err)
	}
	src := tmp
	for _, part := range strings.Split(strings.Trim(scope, "/"), "/") {
		if part != "" {
			src = src.In(part)
		}
	}
	weights, err := cfg.Weights(src)
	if err != nil {
		return fmt.Errorf("raptor teacher %s: %w", checkpoint, err)
	}
	return SetTeacher(ctx, cfg, weights)
}

// SetTeacher stores teacher weights (named as vit.Config.WeightShapes) in ctx under
// TeacherScope, frozen (not trainable).
func SetTeacher(ctx *context.Context, cfg vit.Config, weights map[string]*tensors.Tensor) error {
	if err := cfg.SetWeights(ctx.In(TeacherScope), weights); err != nil {
		return fmt.Errorf("raptor teacher: %w", err)
	}
	prefix := "/" + TeacherScope
	for v := range ctx.IterVariables() {
		if v.Scope() == prefix || strings.HasPrefix(v.Scope(), prefix+"/") {
			v.SetTrainable(false)
		}
	}
	return nil
}

// ComputeCache runs the teacher (under ctx's TeacherScope) once over the image batches and writes
// its hidden states at every layer, with the labels, to an activation cache in dir.
func ComputeCache(b backends.Backend, ctx *context.Context, teacher *vit.Model, batches func(yield func(train.EvalBatch) bool), dir, source string, opts CacheOptions) (*Cache, error) {
	tc := teacher.Config
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, images *Node) []*Node {
		ctx.SetTraining(images.Graph(), false)
		// Embed and blocks only: an unused head would leave dead nodes, which the pure-Go
		// backend (GoMLX v0.26) fails to execute ("index out of range").
		c := ctx.In(TeacherScope)
		x := teacher.Embed(c, images)
		states := []*Node{x}
		for i := range tc.Depth {
			x = teacher.Block(c, i, x)
			states = append(states, x)
		}
		return states
	})
	if err != nil {
		return nil, fmt.Errorf("raptor cache: %w", err)
	}
	var w *CacheWriter
	var runErr error
	batches(func(batch train.EvalBatch) bool {
		n := len(batch.Labels)
		if len(batch.Images) != n*batch.H*batch.W*tc.Channels {
			runErr = fmt.Errorf("raptor cache: batch of %d labels has %d pixel values", n, len(batch.Images))
			return false
		}
		if w == nil {
			layout := teacher.Layout(batch.H, batch.W)
			w, runErr = NewCacheWriter(dir, CacheMeta{Layers: tc.Depth + 1, Tokens: layout.NumTokens(), Dim: tc.Dim,
				Layout: layout, Source: source}, opts)
			if runErr != nil {
				return false
			}
		}
		outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(batch.Images, n, batch.H, batch.W, tc.Channels))
		if err != nil {
			runErr = fmt.Errorf("raptor cache: %w", err)
			return false
		}
		m := w.manifest.Meta
		per := m.Tokens * m.Dim
		hb := &hidden.Batch{Images: n, Layers: m.Layers, Tokens: m.Tokens, Dim: m.Dim, Data: make([]float32, n*m.Layers*per)}
		for l, t := range outs {
			tensors.MustConstFlatData(t, func(v []float32) {
				for k := range n {
					copy(hb.Data[(k*m.Layers+l)*per:(k*m.Layers+l+1)*per], v[k*per:(k+1)*per])
				}
			})
		}
		labels := make([]int, n)
		for k, l := range batch.Labels {
			labels[k] = int(l)
		}
		if runErr = w.Add(hb, labels); runErr != nil {
			return false
		}
		return true
	})
	if runErr != nil {
		return nil, runErr
	}
	if w == nil {
		return nil, fmt.Errorf("raptor cache %s: no images", dir)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return OpenCache(dir)
}
