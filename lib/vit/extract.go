package vit

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Extractor runs a trained model (evaluation mode) over images in batches and hands out every
// layer's hidden states batch by batch, so analyses can stream over a dataset without holding all
// activations. One graph is compiled per batch shape and reused.
type Extractor struct {
	Model     *Model
	BatchSize int
	exec      *context.Exec
}

// NewExtractor prepares the forward pass of m with the weights in ctx (the model's scope).
// order, if not nil, runs the blocks in that order (a layer swap; see ForwardWithOrder).
func NewExtractor(b backends.Backend, ctx *context.Context, m *Model, batchSize int, order []int) (*Extractor, error) {
	if batchSize <= 0 {
		batchSize = 64
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, images *Node) []*Node {
		var out *Output
		if order != nil {
			out = m.ForwardWithOrder(ctx, images, order)
		} else {
			out = m.Forward(ctx, images)
		}
		nodes := append([]*Node{}, out.Hidden...)
		nodes = append(nodes, out.Normed)
		if out.Logits != nil {
			nodes = append(nodes, out.Logits)
		}
		return nodes
	})
	if err != nil {
		return nil, fmt.Errorf("vit extractor: %w", err)
	}
	return &Extractor{Model: m, BatchSize: batchSize, exec: exec}, nil
}

// ExtractedBatch is what one batch yields.
type ExtractedBatch struct {
	Start  int           // index of the batch's first image
	States *hidden.Batch // [images][layers 0..L][tokens][dim], before the final LayerNorm
	Normed []float32     // final LayerNorm of layer L, [images][tokens][dim]
	Logits []float32     // [images][classes], nil without a head
	Layout hidden.Layout
}

// Run feeds n images (NHWC float32, n×h×w×C values) in batches and calls fn for each batch; fn's
// error stops the run. The batch's slices are fresh and may be kept.
func (e *Extractor) Run(images []float32, n, h, w int, fn func(*ExtractedBatch) error) error {
	c := e.Model.Config
	per := h * w * c.Channels
	if len(images) != n*per {
		return fmt.Errorf("vit extract: %d values for %d images of %dx%dx%d", len(images), n, h, w, c.Channels)
	}
	layout := e.Model.Layout(h, w)
	t, d, layers := layout.NumTokens(), c.Dim, c.Depth+1
	for start := 0; start < n; start += e.BatchSize {
		bs := min(e.BatchSize, n-start)
		outs, err := e.exec.Exec(tensors.FromFlatDataAndDimensions(images[start*per:(start+bs)*per], bs, h, w, c.Channels))
		if err != nil {
			return fmt.Errorf("vit extract: images %d..%d: %w", start, start+bs-1, err)
		}
		states := &hidden.Batch{Images: bs, Layers: layers, Tokens: t, Dim: d, Data: make([]float32, bs*layers*t*d)}
		for l := range layers {
			flat := tensors.MustCopyFlatData[float32](outs[l])
			for i := range bs {
				copy(states.Data[(i*layers+l)*t*d:(i*layers+l+1)*t*d], flat[i*t*d:(i+1)*t*d])
			}
		}
		eb := &ExtractedBatch{Start: start, States: states, Normed: tensors.MustCopyFlatData[float32](outs[layers]), Layout: layout}
		if len(outs) > layers+1 {
			eb.Logits = tensors.MustCopyFlatData[float32](outs[layers+1])
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
		if err := fn(eb); err != nil {
			return err
		}
	}
	return nil
}
