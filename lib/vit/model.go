package vit

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Model builds ViT graphs for a Config. Its variables live in the context passed to each method
// (the caller picks the scope, e.g. ctx.In("vit")); WeightShapes lists their names.
type Model struct {
	Config Config
}

// New validates the config and returns a Model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vit config: %w", err)
	}
	return &Model{Config: cfg}, nil
}

// Output is what a forward pass produces.
type Output struct {
	// Hidden[0] is the embedding output and Hidden[i] the output of block i, each [batch, tokens, dim].
	Hidden []*Node
	// Normed is the final LayerNorm applied to the last hidden state.
	Normed *Node
	// Logits [batch, classes], nil when the config has no head.
	Logits *Node
}

// Layout returns the token layout for images of h×w pixels.
func (m *Model) Layout(h, w int) hidden.Layout {
	p := m.Config.PatchSize
	return hidden.Layout{NumRegisters: m.Config.Registers, NumPatches: (h / p) * (w / p)}
}

// BlockScope is the scope name of block i (0-based).
func BlockScope(i int) string { return fmt.Sprintf("block_%02d", i) }

// Embed turns images [batch, H, W, C] into the token sequence [batch, tokens, dim]: patch
// embedding, CLS token, position embeddings (interpolated when H or W differ from the training
// size), then register tokens, which get no position embedding.
func (m *Model) Embed(ctx *context.Context, images *Node) *Node {
	c := m.Config
	g := images.Graph()
	b, h, w, ch := images.Shape().Dim(0), images.Shape().Dim(1), images.Shape().Dim(2), images.Shape().Dim(3)
	p := c.PatchSize
	if h%p != 0 || w%p != 0 || ch != c.Channels {
		panic(fmt.Sprintf("vit: image %dx%dx%d does not fit patch size %d and %d channels", h, w, ch, p, c.Channels))
	}
	gh, gw := h/p, w/p
	patches := Reshape(images, b, gh, p, gw, p, ch)
	patches = TransposeAllAxes(patches, 0, 1, 3, 2, 4, 5)
	patches = Reshape(patches, b, gh*gw, p*p*ch)
	patches = Dense(ctx.In("patch_embed"), patches, c.Dim)

	grid := c.Grid()
	pos := Param(ctx, g, "pos_embed", nil, 1+grid*grid, c.Dim)
	var posCLS, posGrid *Node
	if nativeTokenOps(g) {
		posCLS = Reshape(Slice(pos, AxisElem(0), AxisRange()), c.Dim)
		posGrid = Slice(pos, AxisRange(1, 1+grid*grid), AxisRange())
	} else {
		posCLS = Reshape(MatMul(constMatrix(g, 1, 1+grid*grid, func(_, col int) float32 { return b2f(col == 0) }), pos), c.Dim)
		posGrid = MatMul(constMatrix(g, grid*grid, 1+grid*grid, func(r, col int) float32 { return b2f(col == r+1) }), pos)
	}
	if gh != grid || gw != grid {
		posGrid = MatMul(Const(g, InterpolationMatrix(grid, grid, gh, gw, c.PosEmbedAntialias)), posGrid)
	}
	patches = Add(patches, BroadcastToDims(Reshape(posGrid, 1, gh*gw, c.Dim), b, gh*gw, c.Dim))
	cls := Add(Param(ctx, g, "cls_token", nil, c.Dim), posCLS)
	var regs *Node
	if c.Registers > 0 {
		regs = Param(ctx, g, "reg_tokens", nil, c.Registers, c.Dim)
	}
	return placeTokens(cls, regs, patches)
}

// Block applies block i (its own weights, scope BlockScope(i)) to x [batch, tokens, dim]:
// x += DropPath(LS1(Attn(LN1(x)))); x += DropPath(LS2(MLP(LN2(x)))).
func (m *Model) Block(ctx *context.Context, i int, x *Node) *Node {
	c := m.Config
	s := ctx.In(BlockScope(i))
	a := Attention(s.In("attn"), LayerNorm(s.In("norm1"), x, c.LayerNormEps), c.Heads)
	if c.LayerScaleInit != 0 {
		a = LayerScale(s.In("ls1"), a, c.LayerScaleInit)
	}
	x = Add(x, DropPath(s, a, c.DropPath))
	f := MLP(s.In("mlp"), LayerNorm(s.In("norm2"), x, c.LayerNormEps), c.MLP, c.MLPHidden, c.ApproximateGELU)
	if c.LayerScaleInit != 0 {
		f = LayerScale(s.In("ls2"), f, c.LayerScaleInit)
	}
	return Add(x, DropPath(s, f, c.DropPath))
}

// Head applies the final LayerNorm to the last hidden state and, if the config has classes, the
// linear head. It returns the normed states and the logits (nil without a head).
func (m *Model) Head(ctx *context.Context, last *Node, layout hidden.Layout) (normed, logits *Node) {
	c := m.Config
	normed = LayerNorm(ctx.In("norm"), last, c.LayerNormEps)
	if c.NumClasses == 0 {
		return normed, nil
	}
	var features *Node
	if c.HeadInput == HeadCLSMeanPatch {
		both := ReadCLSAndMeanPatch(normed, layout) // [b, 2, d]
		features = Reshape(both, both.Shape().Dim(0), 2*c.Dim)
	} else {
		features = ReadCLS(normed)
	}
	hc := ctx.In("head")
	in := features.Shape().Dim(-1)
	w := Param(hc, features.Graph(), "weights", initializers.Zero, in, c.NumClasses)
	bias := Param(hc, features.Graph(), "biases", initializers.Zero, c.NumClasses)
	return normed, Add(MatMul(features, w), lastAxis(bias, 2))
}

// Forward runs the whole model on images [batch, H, W, C].
func (m *Model) Forward(ctx *context.Context, images *Node) *Output {
	order := make([]int, m.Config.Depth)
	for i := range order {
		order[i] = i
	}
	return m.ForwardWithOrder(ctx, images, order)
}

// ForwardWithOrder runs the embedding, then the blocks whose weights are given by order (order[l]
// is the block whose weights run at depth l+1), then the head. A layer swap replaces an entry.
func (m *Model) ForwardWithOrder(ctx *context.Context, images *Node, order []int) *Output {
	x := m.Embed(ctx, images)
	out := &Output{Hidden: []*Node{x}}
	for _, i := range order {
		x = m.Block(ctx, i, x)
		out.Hidden = append(out.Hidden, x)
	}
	layout := m.Layout(images.Shape().Dim(1), images.Shape().Dim(2))
	out.Normed, out.Logits = m.Head(ctx, x, layout)
	return out
}

// RunFrom continues a forward pass from the hidden state x after block `layer` (0 = embedding
// output) through the remaining blocks, returning the hidden states after each of them.
func (m *Model) RunFrom(ctx *context.Context, layer int, x *Node) []*Node {
	var states []*Node
	for i := layer; i < m.Config.Depth; i++ {
		x = m.Block(ctx, i, x)
		states = append(states, x)
	}
	return states
}
