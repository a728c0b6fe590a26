package vit

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// InitStd is the standard deviation of the normal initialisation of weights, embeddings and tokens.
const InitStd = 0.02

// Param returns the value in graph g of the variable `name` in ctx's scope, creating it with
// shape dims and the given initializer (nil: normal with InitStd) if it does not exist yet.
// Contexts are used unchecked, so the same model can be built in several graphs (train, eval).
func Param(ctx *context.Context, g *Graph, name string, init context.VariableInitializer, dims ...int) *Node {
	if init == nil {
		init = initializers.RandomNormalFn(ctx, InitStd)
	}
	v := ctx.Checked(false).WithInitializer(init).VariableWithShape(name, shapes.Make(dtypes.Float32, dims...))
	return v.ValueGraph(g)
}

// constInit returns an initializer that fills with a constant.
func constInit(value float64) context.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		return BroadcastToShape(Scalar(g, shape.DType, value), shape)
	}
}

// Dense is x·W + b over the last axis of x, with W [in, out] in scope ctx ("weights", "biases").
func Dense(ctx *context.Context, x *Node, out int) *Node {
	in := x.Shape().Dim(-1)
	w := Param(ctx, x.Graph(), "weights", nil, in, out)
	b := Param(ctx, x.Graph(), "biases", initializers.Zero, out)
	y := DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
	return Add(y, lastAxis(b, y.Rank()))
}

// lastAxis reshapes a vector v [d] to rank `rank` ([1, ..., 1, d]) so it broadcasts over x's last axis.
func lastAxis(v *Node, rank int) *Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[rank-1] = v.Shape().Dim(0)
	return Reshape(v, dims...)
}

// LayerNorm normalises the last axis and applies a learned gain ("gain") and offset ("offset").
func LayerNorm(ctx *context.Context, x *Node, eps float64) *Node {
	d := x.Shape().Dim(-1)
	last := x.Rank() - 1
	mean := ReduceAndKeep(x, ReduceMean, last)
	centred := Sub(x, mean)
	variance := ReduceAndKeep(Square(centred), ReduceMean, last)
	// centred / sqrt(var+eps), written as a product with the reciprocal computed on the small
	// [..., 1] tensor: the gradient of a broadcast Mul needs fewer full-size ops than that of Div
	// (which squares and divides at full size). Rsqrt has no gradient in GoMLX.
	normed := Mul(centred, Reciprocal(Sqrt(AddScalar(variance, eps))))
	gain := Param(ctx, x.Graph(), "gain", initializers.One, d)
	offset := Param(ctx, x.Graph(), "offset", initializers.Zero, d)
	return Add(Mul(normed, lastAxis(gain, x.Rank())), lastAxis(offset, x.Rank()))
}

// LayerScale multiplies x by a learned per-channel γ ("gamma") initialised to init.
func LayerScale(ctx *context.Context, x *Node, init float64) *Node {
	gamma := Param(ctx, x.Graph(), "gamma", constInit(init), x.Shape().Dim(-1))
	return Mul(x, lastAxis(gamma, x.Rank()))
}

// DropPath implements stochastic depth on a residual branch x of shape [batch, ...]: in training,
// each sample's branch is zeroed with probability rate and otherwise scaled by 1/(1-rate), so its
// expectation equals the branch; outside training (or at rate 0) it is the identity.
func DropPath(ctx *context.Context, x *Node, rate float64) *Node {
	g := x.Graph()
	if rate <= 0 || !ctx.IsTraining(g) {
		return x
	}
	maskDims := make([]int, x.Rank())
	for i := range maskDims {
		maskDims[i] = 1
	}
	maskDims[0] = x.Shape().Dim(0)
	u := ctx.RandomUniform(g, shapes.Make(x.DType(), maskDims...))
	keep := ConvertDType(LessThan(u, Scalar(g, x.DType(), 1-rate)), x.DType())
	return Mul(x, MulScalar(keep, 1/(1-rate)))
}

// GELU is the exact (erf) GELU, or its tanh approximation.
func GELU(x *Node, approximate bool) *Node {
	if approximate {
		return activations.GeluApproximate(x)
	}
	return activations.Gelu(x)
}

// SiLU is x·sigmoid(x).
func SiLU(x *Node) *Node { return Mul(x, Sigmoid(x)) }

// MLP is the block's feed-forward network on the last axis.
// GELU: "fc1" → GELU → "fc2". SwiGLU: SiLU("w1"(x)) ⊙ "w2"(x) → "w3".
func MLP(ctx *context.Context, x *Node, kind MLPKind, hidden int, approximateGELU bool) *Node {
	d := x.Shape().Dim(-1)
	if kind == MLPSwiGLU {
		h := Mul(SiLU(Dense(ctx.In("w1"), x, hidden)), Dense(ctx.In("w2"), x, hidden))
		return Dense(ctx.In("w3"), h, d)
	}
	return Dense(ctx.In("fc2"), GELU(Dense(ctx.In("fc1"), x, hidden), approximateGELU), d)
}

// Attention is multi-head self-attention on x [batch, tokens, dim] with separate "query", "key",
// "value" projections and an output projection "proj".
func Attention(ctx *context.Context, x *Node, heads int) *Node {
	b, t, d := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	hd := d / heads
	split := func(name string) *Node { return Reshape(Dense(ctx.In(name), x, d), b, t, heads, hd) }
	q, k, v := split("query"), split("key"), split("value")
	q = MulScalar(q, 1/math.Sqrt(float64(hd)))
	// scores [b, h, tq, tk]: batch axes (b, h), contract the head dimension.
	scores := DotGeneral(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2})
	probs := softmaxLastAxis(scores)
	// out [b, h, tq, hd]: contract the key tokens.
	out := DotGeneral(probs, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2})
	out = Reshape(TransposeAllAxes(out, 0, 2, 1, 3), b, t, d)
	return Dense(ctx.In("proj"), out, d)
}

// softmaxLastAxis is the softmax over the last axis, the same maths as graph.Softmax, but it
// multiplies by the reciprocal of the (small, [..., 1]) normaliser instead of dividing by it: on
// the pure-Go backend the gradient of a broadcast Div costs several extra full-size ops.
func softmaxLastAxis(logits *Node) *Node {
	last := logits.Rank() - 1
	shifted := Sub(logits, StopGradient(ReduceAndKeep(logits, ReduceMax, last)))
	e := Exp(shifted)
	return Mul(e, Reciprocal(ReduceAndKeep(e, ReduceSum, last)))
}
