package parity

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// engines starts both engines or skips (fails where CI demands XLA).
func engines(t *testing.T) Engines {
	t.Helper()
	e, ok, reason, err := NewEngines()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if MustHaveXLA() {
			t.Fatalf("BLOCKREC_EXPECT_BACKEND=xla but %s", reason)
		}
		t.Skip(reason)
	}
	return e
}

// graphFn builds named outputs from a context and the inputs.
type graphFn func(ctx *context.Context, inputs []*Node) (names []string, outputs []*Node)

// withGradients returns the loss and the gradient of the loss with respect to every trainable
// variable of the context, named "loss" and "d/<scope>/<name>".
func withGradients(loss func(ctx *context.Context, inputs []*Node) *Node) graphFn {
	return func(ctx *context.Context, inputs []*Node) ([]string, []*Node) {
		l := loss(ctx, inputs)
		names := TrainableNames(ctx)
		wrt := make([]*Node, len(names))
		for i, n := range names {
			wrt[i] = ctx.GetVariableByScopeAndName(scopeOf(n), leafOf(n)).ValueGraph(l.Graph())
		}
		grads := Gradient(l, wrt...)
		out := append([]string{"loss"}, prefixed("d", names)...)
		return out, append([]*Node{l}, grads...)
	}
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

func scopeOf(scopeAndName string) string {
	i := lastSlash(scopeAndName)
	if i <= 0 {
		return "/"
	}
	return scopeAndName[:i]
}

func leafOf(scopeAndName string) string { return scopeAndName[lastSlash(scopeAndName)+1:] }

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// run executes fn on the backend with the context and returns the named outputs' data.
func run(t *testing.T, e Engines, onXLA bool, ctx *context.Context, fn graphFn, inputs []*tensors.Tensor) (map[string][]float32, []string) {
	t.Helper()
	b := e.Go
	if onXLA {
		b = e.XLA
	}
	var names []string
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, in []*Node) []*Node {
		var outs []*Node
		names, outs = fn(ctx, in)
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, x := range inputs {
		// A tensor once sent to one backend cannot be used by another: each run gets its own copy.
		c, err := x.LocalClone()
		if err != nil {
			t.Fatal(err)
		}
		args[i] = c
	}
	outs, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("exec on %s: %v", b.Name(), err)
	}
	got := map[string][]float32{}
	for i, o := range outs {
		if got[names[i]], err = Flat(o); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
	}
	return got, names
}

// compareEngines runs fn first on pure Go in a seeded context (which initialises the weights),
// then on XLA with a copy of those weights, and checks every output within Tolerance.
func compareEngines(t *testing.T, e Engines, fn graphFn, inputs ...*tensors.Tensor) {
	t.Helper()
	ctx := testctx.New(t)
	want, names := run(t, e, false, ctx, fn, inputs)
	copied, err := CopyVariables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := run(t, e, true, copied, fn, inputs)
	// A gradient that is zero in exact arithmetic (the key biases': softmax ignores a shift along the
	// keys) is float noise on both engines, so each tensor's error is taken relative to at least
	// 1e-3 of the largest value among all outputs: an absolute error of 1e-7 of that scale.
	floor := 0.0
	for _, n := range names {
		floor = max(floor, 1e-3*MaxAbs(want[n]))
	}
	worst, worstName := 0.0, ""
	for _, n := range names {
		r := RelErrorFloor(got[n], want[n], floor)
		if r > Tolerance {
			t.Errorf("%s: relative error %.3g between XLA and pure Go > %g", n, r, Tolerance)
		}
		if r >= worst {
			worst, worstName = r, n
		}
	}
	t.Logf("%d outputs; largest relative error %.3g (%s)", len(names), worst, worstName)
}

func randomImages(n, h, w, c int, seed uint64) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float32, n*h*w*c)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, n, h, w, c)
}

func smallViT(mlp vit.MLPKind, registers int, head vit.HeadInput, layerScale float64) vit.Config {
	return vit.Config{ImageSize: 16, PatchSize: 4, Channels: 3, Dim: 32, Depth: 3, Heads: 2, MLPHidden: 64,
		MLP: mlp, LayerNormEps: 1e-6, Registers: registers, NumClasses: 5, HeadInput: head, LayerScaleInit: layerScale}
}

// TestViTParity: forward hidden states and logits, and the classifier loss with the gradient of
// every weight, for GELU and SwiGLU blocks, with and without registers and LayerScale.
func TestViTParity(t *testing.T) {
	e := engines(t)
	cases := []struct {
		name string
		cfg  vit.Config
	}{
		{"gelu-cls", smallViT(vit.MLPGELU, 0, vit.HeadCLS, 0)},
		{"swiglu-registers-layerscale-clsmean", smallViT(vit.MLPSwiGLU, 2, vit.HeadCLSMeanPatch, 0.1)},
	}
	images := randomImages(3, 16, 16, 3, 7)
	labels := tensors.FromFlatDataAndDimensions([]int32{0, 3, 4}, 3)
	for _, tc := range cases {
		m, err := vit.New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(tc.name+"/forward", func(t *testing.T) {
			compareEngines(t, e, func(ctx *context.Context, in []*Node) ([]string, []*Node) {
				out := m.Forward(ctx, in[0])
				var names []string
				for i := range out.Hidden {
					names = append(names, fmt.Sprintf("hidden_%d", i))
				}
				return append(names, "logits"), append(append([]*Node{}, out.Hidden...), out.Logits)
			}, images)
		})
		t.Run(tc.name+"/gradients", func(t *testing.T) {
			loss := train.ClassifierLoss(m, 0.1)
			compareEngines(t, e, withGradients(func(ctx *context.Context, in []*Node) *Node {
				l, _ := loss(ctx, in)
				return l
			}), images, labels)
		})
	}
}

// TestRaptorStepParity: a Raptor's teacher-forced and autoregressive losses (stage 1 of one block,
// and stage 2) and the gradient of every Raptor weight, on random teacher activations.
func TestRaptorStepParity(t *testing.T) {
	e := engines(t)
	teacher := smallViT(vit.MLPGELU, 1, vit.HeadCLS, 0)
	teacher.Depth = 4
	cfg := raptor.ForTeacher(teacher, []int{0, 0, 1, 1})
	cfg.LayerScaleInit = 0.1 // larger than the paper's 1e-5 so that the blocks' gradients are not tiny
	m, err := raptor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 16}
	stage1, err := raptor.Stage1Plan(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	plans := []struct {
		name string
		plan raptor.Plan
		w    raptor.Weights
	}{
		{"stage1-block1", stage1, raptor.Stage1Weights},
		{"stage2", raptor.Stage2Plan(cfg), raptor.Stage2Weights},
	}
	for _, p := range plans {
		obj := raptor.Objective{Model: m, Plan: p.plan, Layout: layout, Weights: p.w}
		acts := randomImages(2, len(p.plan.Layers), layout.NumTokens(), teacher.Dim, 11)
		for _, mode := range []struct {
			name string
			loss func(*context.Context, *Node) *Node
		}{{"tf", obj.TeacherForced}, {"ar", obj.Autoregressive}} {
			t.Run(p.name+"/"+mode.name, func(t *testing.T) {
				compareEngines(t, e, withGradients(func(ctx *context.Context, in []*Node) *Node {
					return mode.loss(ctx, in[0])
				}), acts)
			})
		}
	}
}

// TestDINOv2FixtureParity: every hidden state and the final LayerNorm of both DINOv2 fixtures, at
// the training size and at a size that needs position-embedding interpolation.
func TestDINOv2FixtureParity(t *testing.T) {
	e := engines(t)
	fixtures := []struct {
		dir   string
		sizes [][2]int
	}{
		{"tiny-reg", [][2]int{{16, 16}, {24, 24}}},
		{"tiny-swiglu", [][2]int{{16, 16}, {20, 28}}},
	}
	for _, fx := range fixtures {
		m, err := dinov2.LoadDir(filepath.Join("..", "dinov2", "testdata", fx.dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range fx.sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", fx.dir, size[0], size[1]), func(t *testing.T) {
				images := randomImages(2, size[0], size[1], 3, 5)
				ctx := context.New()
				if err := m.Install(ctx.In(dinov2.Scope)); err != nil {
					t.Fatal(err)
				}
				fn := func(ctx *context.Context, in []*Node) ([]string, []*Node) {
					out := m.ViT.Forward(ctx.In(dinov2.Scope), in[0])
					var names []string
					for i := range out.Hidden {
						names = append(names, fmt.Sprintf("hidden_states.%d", i))
					}
					return append(names, "last_hidden_state"), append(append([]*Node{}, out.Hidden...), out.Normed)
				}
				want, names := run(t, e, false, ctx, fn, []*tensors.Tensor{images})
				copied, err := CopyVariables(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := run(t, e, true, copied, fn, []*tensors.Tensor{images})
				for _, n := range names {
					if r := RelError(got[n], want[n]); r > Tolerance {
						t.Errorf("%s: relative error %.3g > %g", n, r, Tolerance)
					}
				}
			})
		}
	}
}

// TestRelErrorCatchesDifferences is the comparison's own negative control.
func TestRelErrorCatchesDifferences(t *testing.T) {
	nan := float32(0)
	nan = nan / nan
	tests := []struct {
		name      string
		got, want []float32
		over      bool
	}{
		{"equal", []float32{1, -2, 3}, []float32{1, -2, 3}, false},
		{"tiny float32 noise", []float32{1, -2, 3.0000002}, []float32{1, -2, 3}, false},
		{"one entry off by 1e-3 of the scale", []float32{1, -2, 3.003}, []float32{1, -2, 3}, true},
		{"NaN", []float32{1, nan, 3}, []float32{1, 2, 3}, true},
		{"length", []float32{1, 2}, []float32{1, 2, 3}, true},
	}
	for _, tc := range tests {
		if r := RelError(tc.got, tc.want); (r > Tolerance) != tc.over {
			t.Errorf("%s: RelError = %g, over tolerance = %v, want %v", tc.name, r, r > Tolerance, tc.over)
		}
	}
	// The floor forgives noise on a near-zero tensor only up to 1e-7 of the outputs' scale.
	noise := []float32{3e-9, -1e-9}
	if r := RelErrorFloor(noise, []float32{-2e-9, 1e-9}, 1e-3); r > Tolerance {
		t.Errorf("noise of 5e-9 against a floor of 1e-3: %g, want ≤ %g", r, Tolerance)
	}
	if r := RelErrorFloor([]float32{2e-6, 0}, []float32{0, 0}, 1e-3); r <= Tolerance {
		t.Errorf("an error of 2e-6 against a floor of 1e-3 passed (%g)", r)
	}
}
