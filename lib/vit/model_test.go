package vit

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/backend"
)

func randomImages(rng *rand.Rand, b, h, w, c int) *tensors.Tensor {
	data := make([]float32, b*h*w*c)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, b, h, w, c)
}

func tinyConfig() Config {
	return Config{ImageSize: 8, PatchSize: 4, Channels: 3, Dim: 8, Depth: 3, Heads: 2, MLPHidden: 16,
		MLP: MLPGELU, LayerNormEps: 1e-6, NumClasses: 5, HeadInput: HeadCLS}
}

func TestForwardShapes(t *testing.T) {
	b := backend.MustNew()
	tests := []struct {
		name   string
		mutate func(*Config)
		h, w   int
	}{
		{"gelu cls head", func(*Config) {}, 8, 8},
		{"registers and layerscale", func(c *Config) { c.Registers = 2; c.LayerScaleInit = 1e-5 }, 8, 8},
		{"swiglu cls+meanpatch", func(c *Config) { c.MLP = MLPSwiGLU; c.HeadInput = HeadCLSMeanPatch }, 8, 8},
		{"interpolated 12x16", func(c *Config) { c.Registers = 1 }, 12, 16},
		{"no head", func(c *Config) { c.NumClasses = 0 }, 8, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig()
			tc.mutate(&cfg)
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := testctx.New(t)
			exec := context.MustNewExec(b, ctx, func(ctx *context.Context, images *Node) []*Node {
				out := m.Forward(ctx, images)
				nodes := append([]*Node{}, out.Hidden...)
				nodes = append(nodes, out.Normed)
				if out.Logits != nil {
					nodes = append(nodes, out.Logits)
				}
				return nodes
			})
			outs := exec.MustExec(randomImages(rand.New(rand.NewPCG(1, 1)), 2, tc.h, tc.w, 3))
			tokens := 1 + cfg.Registers + (tc.h/4)*(tc.w/4)
			wantOuts := cfg.Depth + 2
			if cfg.NumClasses > 0 {
				wantOuts++
			}
			if len(outs) != wantOuts {
				t.Fatalf("got %d outputs, want %d", len(outs), wantOuts)
			}
			for i := 0; i <= cfg.Depth+1; i++ {
				dims := outs[i].Shape().Dimensions
				if len(dims) != 3 || dims[0] != 2 || dims[1] != tokens || dims[2] != cfg.Dim {
					t.Errorf("hidden %d has shape %v, want [2 %d %d]", i, dims, tokens, cfg.Dim)
				}
			}
			if cfg.NumClasses > 0 {
				if dims := outs[len(outs)-1].Shape().Dimensions; dims[0] != 2 || dims[1] != cfg.NumClasses {
					t.Errorf("logits shape %v", dims)
				}
			}
			// Every weight listed by WeightShapes exists with its shape, and no other trainable one.
			got, err := cfg.Weights(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for name, shape := range cfg.WeightShapes() {
				if !equalDims(got[name].Shape().Dimensions, shape) {
					t.Errorf("%s: shape %v, want %v", name, got[name].Shape().Dimensions, shape)
				}
			}
			n := 0
			for v := range ctx.IterVariables() {
				if v.Trainable {
					n++
				}
			}
			if n != len(cfg.WeightShapes()) {
				t.Errorf("context has %d trainable variables, WeightShapes lists %d", n, len(cfg.WeightShapes()))
			}
		})
	}
}

func TestResizeMatrixRowsSumToOne(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		aa      bool
	}{{4, 6, false}, {4, 6, true}, {6, 4, true}, {37, 16, true}, {5, 7, false}} {
		m := ResizeMatrix1D(tc.in, tc.out, tc.aa)
		for o, row := range m {
			s := 0.0
			for _, v := range row {
				s += v
			}
			if math.Abs(s-1) > 1e-9 {
				t.Errorf("in=%d out=%d aa=%v row %d sums to %g", tc.in, tc.out, tc.aa, o, s)
			}
		}
	}
	// Same size without antialias is the identity.
	m := ResizeMatrix1D(5, 5, false)
	for i := range 5 {
		for j := range 5 {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(m[i][j]-want) > 1e-12 {
				t.Fatalf("identity resize [%d][%d] = %g", i, j, m[i][j])
			}
		}
	}
}

// TestHiddenStatesOnlyGraph returns only the hidden states, leaving the head's nodes unused. On
// GoMLX v0.26.0's pure-Go backend that fails unless the outputs go through backend.LastOutputs.
func TestHiddenStatesOnlyGraph(t *testing.T) {
	b := backend.MustNew()
	m, err := New(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	images := randomImages(rand.New(rand.NewPCG(1, 1)), 2, 8, 8, 3)
	build := func(fix bool) func(ctx *context.Context, images *Node) []*Node {
		return func(ctx *context.Context, images *Node) []*Node {
			h := m.Forward(ctx, images).Hidden
			if fix {
				return backend.LastOutputs(h...)
			}
			return h
		}
	}
	ctx := testctx.New(t)
	if backend.IsPureGo(b) {
		if _, err := context.MustNewExec(b, ctx, build(false)).Exec(images); err == nil {
			t.Log("the pure-Go backend now runs graphs with an unused head: backend.LastOutputs may be dropped")
		}
	}
	outs, err := context.MustNewExec(b, ctx, build(true)).Exec(images)
	if err != nil {
		t.Fatalf("with backend.LastOutputs: %v", err)
	}
	if len(outs) != tinyConfig().Depth+1 {
		t.Fatalf("%d outputs", len(outs))
	}
}
