package dinov2

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
)

// hfTolerance is the largest relative error (max |got-want| / max |want| over one token group of
// one layer) accepted against transformers' hidden states.
const hfTolerance = 1e-5

// groupErrors compares [B, T, D] hidden states token group by token group: "cls" (token 0),
// "extra" (registers or DeiT's distillation token, if any) and "patches". It returns the relative
// error of each group present.
func groupErrors(got, want []float32, b, tokens, dim, extra int) map[string]float64 {
	groups := map[string][2]int{"cls": {0, 1}, "patches": {1 + extra, tokens}}
	if extra > 0 {
		groups["extra"] = [2]int{1, 1 + extra}
	}
	out := map[string]float64{}
	for g, r := range groups {
		var diff, scale float64
		for i := range b {
			for t := r[0]; t < r[1]; t++ {
				for k := range dim {
					j := (i*tokens+t)*dim + k
					diff = math.Max(diff, math.Abs(float64(got[j])-float64(want[j])))
					scale = math.Max(scale, math.Abs(float64(want[j])))
				}
			}
		}
		out[g] = diff / scale
	}
	return out
}

// inputSizes lists the HxW keys of an expected.safetensors file.
func inputSizes(expected map[string]*Array) []string {
	var sizes []string
	for k := range expected {
		if s, ok := strings.CutSuffix(k, ".pixel_values"); ok {
			sizes = append(sizes, s)
		}
	}
	sort.Strings(sizes)
	return sizes
}

// checkAgainstReference runs m on every input of expected and checks every hidden state and the
// final normed output, token group by token group; it returns the worst relative error.
func checkAgainstReference(t *testing.T, m *Model, expected map[string]*Array, sizes []string) float64 {
	t.Helper()
	ctx := context.New()
	if err := m.Install(ctx.In(Scope)); err != nil {
		t.Fatal(err)
	}
	exec := context.MustNewExec(backend.MustNew(), ctx.In(Scope), func(ctx *context.Context, images *Node) []*Node {
		out := m.ViT.Forward(ctx, images)
		return append(append([]*Node{}, out.Hidden...), out.Normed)
	})
	worst := 0.0
	L := m.Config().Depth
	for _, size := range sizes {
		px, ok := expected[size+".pixel_values"]
		if !ok {
			t.Fatalf("no input %s in the reference", size)
		}
		outs := exec.MustExec(nchwToNHWC(px))
		for i := 0; i <= L+1; i++ {
			name := fmt.Sprintf("%s.hidden_states.%d", size, i)
			if i == L+1 {
				name = size + ".last_hidden_state"
			}
			want, ok := expected[name]
			if !ok {
				t.Fatalf("no %s in the reference", name)
			}
			if !sameShape(outs[i].Shape().Dimensions, want.Shape) {
				t.Fatalf("%s: shape %v, want %v", name, outs[i].Shape().Dimensions, want.Shape)
			}
			got := tensors.MustCopyFlatData[float32](outs[i])
			errs := groupErrors(got, want.Data, want.Shape[0], want.Shape[1], want.Shape[2], m.Config().Registers)
			for g, e := range errs {
				worst = math.Max(worst, e)
				if e > hfTolerance || math.IsNaN(e) {
					t.Errorf("%s, %s tokens: relative error %.3g > %g", name, g, e, hfTolerance)
				}
			}
		}
	}
	return worst
}

// TestParityWithTransformers checks every fixture written by transformers itself
// (scripts/make_hf_fixtures.py) at every input size: square at the training size, square
// interpolated, non-square interpolated; batch 2. timm folders hold the weights of an HF fixture
// in timm's layout and are checked against that fixture's references (only at the sizes where
// timm's interpolation, always antialiased, is HF's).
func TestParityWithTransformers(t *testing.T) {
	cases := []struct {
		dir, refs string
		sizes     []string // nil: every size of the reference
		extra     int      // tokens between CLS and the patches
		modelType string
	}{
		{"hf-dinov2", "", nil, 0, ModelTypeDinov2},
		{"hf-dinov2-reg", "", nil, 4, ModelTypeWithRegisters},
		{"hf-dinov2-swiglu", "", nil, 0, ModelTypeDinov2},
		{"hf-vit", "", nil, 0, ModelTypeViT},
		{"hf-deit", "", nil, 1, ModelTypeDeiT},
		{"tiny-reg", "", nil, 2, ModelTypeWithRegisters},
		{"tiny-swiglu", "", nil, 0, ModelTypeDinov2},
		{"timm-dinov2-reg", "hf-dinov2-reg", nil, 4, ModelTypeWithRegisters},
		{"timm-dinov2-swiglu", "hf-dinov2-swiglu", []string{"16x16"}, 0, ModelTypeDinov2},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			m, err := LoadDir(filepath.Join("testdata", tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			if m.HF.ModelType != tc.modelType || m.Config().Registers != tc.extra {
				t.Fatalf("loaded as %s with %d extra tokens, want %s with %d", m.HF.ModelType, m.Config().Registers, tc.modelType, tc.extra)
			}
			refs := tc.refs
			if refs == "" {
				refs = tc.dir
			}
			expected, _, err := ReadSafetensors(filepath.Join("testdata", refs, "expected.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			sizes := tc.sizes
			if sizes == nil {
				sizes = inputSizes(expected)
			}
			worst := checkAgainstReference(t, m, expected, sizes)
			t.Logf("%s (%s): max relative error %.3g over %v, every layer and token group", tc.dir, tc.modelType, worst, sizes)
		})
	}
}
