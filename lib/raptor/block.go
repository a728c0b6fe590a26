package raptor

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/blockrec/blockrec/lib/vit"
)

// BlockScope is the scope name of block j (0-based), relative to the model's scope.
func BlockScope(j int) string { return fmt.Sprintf("block_%d", j) }

// Step applies block j to x [batch, tokens, dim] at the raw layer indices t [batch] (float32,
// 1-based; one value per sample, so teacher-forced pairs of different layers share a batch):
//
//	x   = x + t1 ⊙ LS1(Attn(LN1(x)))
//	x   = x + t2 ⊙ LS2(MLP(LN2(x)))
//	out = t3 ⊙ x
//
// Without depth scaling t1 = t2 = t3 = 1. ctx is the model's scope.
func (m *Model) Step(ctx *context.Context, j int, x, t *Node) *Node {
	c := m.Config
	s := ctx.In(BlockScope(j))
	var t1, t2, t3 *Node
	if c.DepthScaling {
		t1, t2, t3 = m.DepthScales(ctx, j, t)
	}
	a := vit.Attention(s.In("attn"), vit.LayerNorm(s.In("norm1"), x, c.LayerNormEps), c.Heads)
	if c.LayerScaleInit != 0 {
		a = vit.LayerScale(s.In("ls1"), a, c.LayerScaleInit)
	}
	if t1 != nil {
		a = Mul(a, t1)
	}
	x = Add(x, a)
	f := vit.MLP(s.In("mlp"), vit.LayerNorm(s.In("norm2"), x, c.LayerNormEps), c.MLP, c.MLPHidden, c.ApproximateGELU)
	if c.LayerScaleInit != 0 {
		f = vit.LayerScale(s.In("ls2"), f, c.LayerScaleInit)
	}
	if t2 != nil {
		f = Mul(f, t2)
	}
	x = Add(x, f)
	if t3 != nil {
		x = Mul(x, t3)
	}
	return x
}

// DepthScales returns block j's three per-channel scales at raw layer indices t [batch], each
// [batch, 1, dim]: S = W2·SiLU(W1·t + b1) + b2 + 1 with W1: 1→DepthHidden and W2: DepthHidden→3·dim,
// split in three consecutive chunks of dim channels (t1, t2, t3). W1 and b1 start uniform in
// [−1, 1] (PyTorch's default for a Linear with one input), W2 and b2 normal with DepthInitStd.
func (m *Model) DepthScales(ctx *context.Context, j int, t *Node) (t1, t2, t3 *Node) {
	c := m.Config
	s := ctx.In(BlockScope(j)).In("depth_scale")
	g := t.Graph()
	b := t.Shape().Dim(0)
	d := c.Dim
	uniform := initializers.RandomUniformFn(s, -1, 1)
	w1 := vit.Param(s.In("fc1"), g, "weights", uniform, 1, c.DepthHidden)
	b1 := vit.Param(s.In("fc1"), g, "biases", uniform, c.DepthHidden)
	small := initializers.RandomNormalFn(s, c.DepthInitStd)
	w2 := vit.Param(s.In("fc2"), g, "weights", small, c.DepthHidden, 3*d)
	b2 := vit.Param(s.In("fc2"), g, "biases", small, 3*d)
	h := Add(MatMul(Reshape(ConvertDType(t, dtypes.Float32), b, 1), w1), Reshape(b1, 1, c.DepthHidden))
	h = vit.SiLU(h)
	out := AddScalar(Add(MatMul(h, w2), Reshape(b2, 1, 3*d)), 1)
	out = Reshape(out, b, 3, d)
	pick := func(k int) *Node {
		sel := make([]float32, 3)
		sel[k] = 1
		// Contract the chunk axis with a one-hot vector: a selection with a gradient on every backend.
		v := DotGeneral(out, []int{1}, nil, Const(g, tensors.FromFlatDataAndDimensions(sel, 3)), []int{0}, nil)
		return Reshape(v, b, 1, d)
	}
	return pick(0), pick(1), pick(2)
}
