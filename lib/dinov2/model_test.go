package dinov2

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/vit"
)

func randomData(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

// maxRelDiff is max|got-want| / max(max|want|, 1e-12) with want in float64.
func maxRelDiff(got []float32, want []float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-12)
}

// TestComponentsMatchReference checks lib/vit's building blocks, fed the converted HF weights,
// against the plain-Go reference on a tiny input: attention, LayerScale, LayerNorm and both MLPs.
func TestComponentsMatchReference(t *testing.T) {
	b := backend.MustNew()
	for _, swiglu := range []bool{false, true} {
		cfg := TinyHFConfig(2, swiglu)
		arrays := RandomArrays(cfg, 7)
		m, err := FromArrays("random", cfg, arrays)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.New()
		if err := m.Install(ctx.In(Scope)); err != nil {
			t.Fatal(err)
		}
		block := ctx.In(Scope).In(vit.BlockScope(1))
		const tokens = 5
		d := cfg.HiddenSize
		x := randomData(rand.New(rand.NewPCG(3, 4)), tokens*d)
		xm := mat{tokens, d, f64(x)}
		pre := "encoder.layer.1."
		cases := []struct {
			name  string
			graph func(ctx *context.Context, x *Node) *Node
			ref   mat
		}{
			{"attention", func(ctx *context.Context, x *Node) *Node {
				return vit.Attention(block.In("attn"), x, cfg.NumAttentionHeads)
			},
				refAttention(xm, arrays, pre, cfg.NumAttentionHeads)},
			{"layerscale", func(ctx *context.Context, x *Node) *Node { return vit.LayerScale(block.In("ls2"), x, 1) },
				refLayerScale(xm, arrays[pre+"layer_scale2.lambda1"].Data)},
			{"layernorm", func(ctx *context.Context, x *Node) *Node { return vit.LayerNorm(block.In("norm1"), x, 1e-6) },
				refLayerNorm(xm, arrays[pre+"norm1.weight"].Data, arrays[pre+"norm1.bias"].Data, 1e-6)},
			{"mlp", func(ctx *context.Context, x *Node) *Node {
				return vit.MLP(block.In("mlp"), x, m.Config().MLP, m.Config().MLPHidden, false)
			}, refMLP(xm, arrays, pre, cfg)},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("swiglu=%v/%s", swiglu, tc.name), func(t *testing.T) {
				exec := context.MustNewExec(b, ctx, tc.graph)
				got := tensors.MustCopyFlatData[float32](exec.MustExec(tensors.FromFlatDataAndDimensions(x, 1, tokens, d))[0])
				if e := maxRelDiff(got, tc.ref.v); e > 1e-5 {
					t.Errorf("relative difference %.3g from the reference", e)
				}
			})
		}
	}
}

// TestForwardMatchesReference runs whole random checkpoints (GELU and SwiGLU, with and without
// registers, at the training size and interpolated) through lib/vit and the reference.
func TestForwardMatchesReference(t *testing.T) {
	b := backend.MustNew()
	cases := []struct {
		registers int
		swiglu    bool
		h, w      int
	}{
		{2, false, 24, 20}, // antialiased, non-square
		{0, true, 12, 20},  // plain bicubic, downscale and upscale
		{1, true, 16, 16},  // no interpolation
	}
	for _, tc := range cases {
		cfg := TinyHFConfig(tc.registers, tc.swiglu)
		t.Run(fmt.Sprintf("reg%d_swiglu%v_%dx%d", tc.registers, tc.swiglu, tc.h, tc.w), func(t *testing.T) {
			arrays := RandomArrays(cfg, 11)
			m, err := FromArrays("random", cfg, arrays)
			if err != nil {
				t.Fatal(err)
			}
			e, err := NewExtractor(b, m, 2)
			if err != nil {
				t.Fatal(err)
			}
			const n = 2
			rng := rand.New(rand.NewPCG(5, 6))
			nchw := randomData(rng, n*3*tc.h*tc.w)
			nhwc := nchwToNHWC(&Array{Shape: []int{n, 3, tc.h, tc.w}, Data: nchw})
			acts, err := e.Extract(tensors.MustCopyFlatData[float32](nhwc), n, tc.h, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				states, normed := refForward(cfg, arrays, nchw[i*3*tc.h*tc.w:(i+1)*3*tc.h*tc.w], tc.h, tc.w)
				img := acts.Hidden.Image(i)
				for l, s := range states {
					if e := maxRelDiff(img.Layer(l), s.v); e > 1e-4 {
						t.Errorf("image %d layer %d: relative difference %.3g", i, l, e)
					}
				}
				tok := acts.Hidden.Tokens * acts.Hidden.Dim
				if e := maxRelDiff(acts.Normed[i*tok:(i+1)*tok], normed.v); e > 1e-4 {
					t.Errorf("image %d normed output: relative difference %.3g", i, e)
				}
			}
		})
	}
}

// TestInterpolationMatchesDirect2D compares vit.InterpolationMatrix with a direct 2-D bicubic
// evaluation, up- and downscaling, square and not, with and without antialias.
func TestInterpolationMatchesDirect2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	cases := []struct{ inH, inW, outH, outW int }{
		{4, 4, 6, 6}, {4, 4, 5, 7}, {4, 4, 3, 5}, {6, 6, 2, 3}, {37, 37, 16, 16}, {37, 37, 35, 46}, {16, 16, 37, 37},
	}
	for _, tc := range cases {
		for _, aa := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d->%dx%d_aa%v", tc.inH, tc.inW, tc.outH, tc.outW, aa), func(t *testing.T) {
				in := randomData(rng, tc.inH*tc.inW)
				want := refBicubic2D(f64(in), tc.inH, tc.inW, 1, tc.outH, tc.outW, aa)
				m := tensors.MustCopyFlatData[float32](vit.InterpolationMatrix(tc.inH, tc.inW, tc.outH, tc.outW, aa))
				got := make([]float32, tc.outH*tc.outW)
				for o := range got {
					s := 0.0
					for i, v := range in {
						s += float64(m[o*len(in)+i]) * float64(v)
					}
					got[o] = float32(s)
				}
				if e := maxRelDiff(got, want); e > 1e-6 {
					t.Errorf("relative difference %.3g from the direct evaluation", e)
				}
			})
		}
	}
}
