package dinov2

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Activations are what a forward pass yields for a set of images.
type Activations struct {
	// Hidden holds, per image, layer 0 (the embedding output) to layer L (the last block's output),
	// before the final LayerNorm.
	Hidden *hidden.Batch
	// Normed is the final LayerNorm of layer L (HF's last_hidden_state): Images×Tokens×Dim.
	Normed []float32
	Layout hidden.Layout
}

// Extractor runs a model's forward pass on batches of images. It compiles one graph per input
// shape and reuses it.
type Extractor struct {
	Model     *Model
	BatchSize int
	ctx       *context.Context
	exec      *context.Exec
}

// NewExtractor installs the model's weights in a fresh context (scope Scope) and prepares the
// forward pass. batchSize ≤ 0 means 32.
func NewExtractor(b backends.Backend, m *Model, batchSize int) (*Extractor, error) {
	ctx := context.New()
	if err := m.Install(ctx.In(Scope)); err != nil {
		return nil, err
	}
	return NewExtractorWithContext(b, ctx, m, batchSize)
}

// NewExtractorWithContext uses weights already installed under ctx.In(Scope).
func NewExtractorWithContext(b backends.Backend, ctx *context.Context, m *Model, batchSize int) (*Extractor, error) {
	if batchSize <= 0 {
		batchSize = 32
	}
	exec, err := context.NewExec(b, ctx.In(Scope), func(ctx *context.Context, images *Node) []*Node {
		out := m.ViT.Forward(ctx, images)
		return append(append([]*Node{}, out.Hidden...), out.Normed)
	})
	if err != nil {
		return nil, fmt.Errorf("dinov2 extractor: %w", err)
	}
	return &Extractor{Model: m, BatchSize: batchSize, ctx: ctx, exec: exec}, nil
}

// Extract runs images (n×h×w×C float32, NHWC, already normalised) through the model in batches
// of BatchSize and returns every layer's hidden states and the normed output.
func (e *Extractor) Extract(images []float32, n, h, w int) (*Activations, error) {
	c := e.Model.Config()
	p := c.PatchSize
	if n <= 0 || h <= 0 || w <= 0 || h%p != 0 || w%p != 0 {
		return nil, fmt.Errorf("dinov2 extract: %d images of %dx%d px: sides must be positive multiples of the patch size %d", n, h, w, p)
	}
	per := h * w * c.Channels
	if len(images) != n*per {
		return nil, fmt.Errorf("dinov2 extract: %d values for %d images of %dx%dx%d", len(images), n, h, w, c.Channels)
	}
	layout := e.Model.Layout(h, w)
	t, d, layers := layout.NumTokens(), c.Dim, c.Depth+1
	acts := &Activations{
		Hidden: &hidden.Batch{Images: n, Layers: layers, Tokens: t, Dim: d, Data: make([]float32, n*layers*t*d)},
		Normed: make([]float32, n*t*d), Layout: layout,
	}
	for start := 0; start < n; start += e.BatchSize {
		end := min(start+e.BatchSize, n)
		bs := end - start
		in := tensors.FromFlatDataAndDimensions(images[start*per:end*per], bs, h, w, c.Channels)
		outs, err := e.exec.Exec(in)
		if err != nil {
			return nil, fmt.Errorf("dinov2 extract: images %d..%d: %w", start, end-1, err)
		}
		// outs[l] is [bs, t, d] for layer l; the batch stores image-major [n, layers, t, d].
		for l := range layers {
			flat := tensors.MustCopyFlatData[float32](outs[l])
			for i := range bs {
				dst := acts.Hidden.Data[((start+i)*layers+l)*t*d:]
				copy(dst[:t*d], flat[i*t*d:(i+1)*t*d])
			}
		}
		copy(acts.Normed[start*t*d:end*t*d], tensors.MustCopyFlatData[float32](outs[layers]))
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
	return acts, nil
}

// Extract is a one-shot helper: it installs the model in a fresh context, runs images
// (n×h×w×C, NHWC) in batches of batchSize and returns the per-layer hidden states.
func Extract(b backends.Backend, m *Model, images []float32, n, h, w, batchSize int) (*hidden.Batch, error) {
	e, err := NewExtractor(b, m, batchSize)
	if err != nil {
		return nil, err
	}
	acts, err := e.Extract(images, n, h, w)
	if err != nil {
		return nil, err
	}
	return acts.Hidden, nil
}

// CLSAndMeanPatch returns, for each image, the concatenation [CLS, mean of the patch tokens]
// (registers excluded) of the normed output: n×2D features, DINOv2's linear-probe input.
func (a *Activations) CLSAndMeanPatch() []float32 {
	n, t, d := a.Hidden.Images, a.Hidden.Tokens, a.Hidden.Dim
	from, to := a.Layout.Patches()
	out := make([]float32, n*2*d)
	for i := range n {
		img := a.Normed[i*t*d : (i+1)*t*d]
		copy(out[i*2*d:i*2*d+d], img[:d])
		mean := out[i*2*d+d : (i+1)*2*d]
		for tok := from; tok < to; tok++ {
			for k, v := range img[tok*d : (tok+1)*d] {
				mean[k] += v
			}
		}
		for k := range mean {
			mean[k] /= float32(to - from)
		}
	}
	return out
}

// PatchTokens returns the normed patch tokens of image i: NumPatches×Dim (a copy).
func (a *Activations) PatchTokens(i int) []float32 {
	t, d := a.Hidden.Tokens, a.Hidden.Dim
	from, to := a.Layout.Patches()
	return copyOf(a.Normed[(i*t+from)*d : (i*t+to)*d])
}

func newBatch(a *Array) *hidden.Batch {
	return &hidden.Batch{Images: a.Shape[0], Layers: a.Shape[1], Tokens: a.Shape[2], Dim: a.Shape[3], Data: a.Data}
}
