package vit

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
)

// TestDropPath checks, per rate, the fraction of samples kept, that kept samples are rescaled by
// 1/(1-p) exactly, and that evaluation mode and p = 0 are the identity.
func TestDropPath(t *testing.T) {
	b := backend.MustNew()
	const n, d = 4000, 3
	ones := make([]float32, n*d)
	for i := range ones {
		ones[i] = 1
	}
	x := tensors.FromFlatDataAndDimensions(ones, n, 1, d)
	for _, rate := range []float64{0, 0.1, 0.5, 0.9} {
		for _, training := range []bool{true, false} {
			ctx := context.New()
			if err := ctx.SetRNGStateFromSeed(42); err != nil {
				t.Fatal(err)
			}
			out := context.MustNewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
				ctx.SetTraining(x.Graph(), training)
				return DropPath(ctx, x, rate)
			}).MustExec(x)[0]
			vals := tensors.MustCopyFlatData[float32](out)
			keptValue := 1 / (1 - rate)
			if !training {
				keptValue = 1
			}
			kept := 0
			for i := range n {
				first := vals[i*d]
				for j := 1; j < d; j++ {
					if vals[i*d+j] != first {
						t.Fatalf("rate %g: sample %d is not dropped or kept as a whole: %v", rate, i, vals[i*d:i*d+d])
					}
				}
				switch {
				case first == 0:
				case math.Abs(float64(first)-keptValue) < 1e-5:
					kept++
				default:
					t.Fatalf("rate %g training=%v: kept value %g, want %g", rate, training, first, keptValue)
				}
			}
			frac := float64(kept) / n
			want := 1 - rate
			if !training {
				want = 1
				if rate > 0 && frac != 1 {
					t.Fatalf("rate %g: evaluation mode dropped samples", rate)
				}
			}
			// 4 standard deviations of a binomial proportion.
			if tol := 4*math.Sqrt(want*(1-want)/n) + 1e-9; math.Abs(frac-want) > tol {
				t.Errorf("rate %g training=%v: kept fraction %.4f, want %.4f ± %.4f", rate, training, frac, want, tol)
			}
		}
	}
}

// TestViTGradientsAgainstFiniteDifferences compares d loss / d weights of a tiny ViT (with
// registers, LayerScale, SwiGLU and the CLS+mean-patch head) against central differences.
func TestViTGradientsAgainstFiniteDifferences(t *testing.T) {
	b := backend.MustNew()
	cfg := Config{ImageSize: 8, PatchSize: 4, Channels: 2, Dim: 4, Depth: 2, Heads: 2, MLPHidden: 6,
		MLP: MLPSwiGLU, LayerNormEps: 1e-5, Registers: 1, LayerScaleInit: 0.5, NumClasses: 3, HeadInput: HeadCLSMeanPatch}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	images := randomImages(rng, 2, 8, 8, 2)
	weights := map[string]*tensors.Tensor{}
	for name, dims := range cfg.WeightShapes() {
		weights[name] = randomImagesLike(rng, 0.5, dims...)
	}
	names := []string{"patch_embed/weights", "pos_embed", "reg_tokens", "block_00/attn/query/weights",
		"block_01/mlp/w1/weights", "block_01/ls2/gamma", "block_00/norm1/gain", "norm/offset", "head/weights"}

	lossOf := func(ctx *context.Context, images *Node) *Node {
		out := m.Forward(ctx, images)
		// A loss that reads every hidden state and the logits.
		loss := ReduceAllSum(Square(out.Logits))
		for _, h := range out.Hidden {
			loss = Add(loss, MulScalar(ReduceAllSum(Mul(h, Sin(h))), 0.01))
		}
		return loss
	}
	ctx := context.New()
	if err := cfg.SetWeights(ctx, weights); err != nil {
		t.Fatal(err)
	}
	gradExec := context.MustNewExec(b, ctx, func(ctx *context.Context, images *Node) []*Node {
		loss := lossOf(ctx, images)
		var params []*Node
		for _, name := range names {
			params = append(params, variableNode(ctx, images.Graph(), name))
		}
		return Gradient(loss, params...)
	})
	grads := gradExec.MustExec(images)
	lossExec := context.MustNewExec(b, ctx, lossOf)
	const h = 1e-2
	for k, name := range names {
		g := tensors.MustCopyFlatData[float32](grads[k])
		orig := tensors.MustCopyFlatData[float32](weights[name])
		dims := cfg.WeightShapes()[name]
		for _, i := range []int{0, len(orig) / 2, len(orig) - 1} {
			eval := func(delta float32) float64 {
				p := append([]float32(nil), orig...)
				p[i] += delta
				setVariable(t, ctx, name, tensors.FromFlatDataAndDimensions(p, dims...))
				return float64(tensors.MustCopyFlatData[float32](lossExec.MustExec(images)[0])[0])
			}
			fd := (eval(h) - eval(-h)) / (2 * h)
			setVariable(t, ctx, name, tensors.FromFlatDataAndDimensions(append([]float32(nil), orig...), dims...))
			if math.Abs(fd-float64(g[i])) > 3e-2*(math.Abs(fd)+0.05) {
				t.Errorf("d loss / d %s[%d] = %g, finite difference %g", name, i, g[i], fd)
			}
		}
	}
}

func randomImagesLike(rng *rand.Rand, std float64, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(std * rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

func variableNode(ctx *context.Context, g *Graph, name string) *Node {
	scope, leaf := splitName(name)
	full := ctx.Scope()
	if scope != "" {
		full = full + "/" + scope
	}
	full = "/" + trimSlashes(full)
	return ctx.GetVariableByScopeAndName(full, leaf).ValueGraph(g)
}

func setVariable(t *testing.T, ctx *context.Context, name string, value *tensors.Tensor) {
	t.Helper()
	scope, leaf := splitName(name)
	v := ctx.GetVariableByScopeAndName("/"+trimSlashes(ctx.Scope()+"/"+scope), leaf)
	if err := v.SetValue(value); err != nil {
		t.Fatal(err)
	}
}

func trimSlashes(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && i > 0 && s[i-1] == '/' {
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}
