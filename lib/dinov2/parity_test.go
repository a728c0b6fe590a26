package dinov2

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
)

// nchwToNHWC transposes a [B, C, H, W] array to NHWC.
func nchwToNHWC(a *Array) *tensors.Tensor {
	b, c, h, w := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	out := make([]float32, len(a.Data))
	for n := range b {
		for ch := range c {
			for y := range h {
				for x := range w {
					out[((n*h+y)*w+x)*c+ch] = a.Data[((n*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(out, b, h, w, c)
}

// relError is max|got-want| / max|want|.
func relError(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	return diff / scale
}

// TestParityWithHF checks every hidden state and the final normed output against the reference
// computed by HF transformers, for both fixtures and both input sizes of each.
func TestParityWithHF(t *testing.T) {
	const tol = 1e-4
	b := backend.MustNew()
	fixtures := []struct {
		dir   string
		sizes []string
	}{
		{"tiny-reg", []string{"16x16", "24x24"}},
		{"tiny-swiglu", []string{"16x16", "20x28"}},
	}
	for _, fx := range fixtures {
		dir := filepath.Join("testdata", fx.dir)
		m, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		expected, _, err := ReadSafetensors(filepath.Join(dir, "expected.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.New()
		if err := m.Install(ctx.In(Scope)); err != nil {
			t.Fatal(err)
		}
		exec := context.MustNewExec(b, ctx.In(Scope), func(ctx *context.Context, images *Node) []*Node {
			out := m.ViT.Forward(ctx, images)
			return append(append([]*Node{}, out.Hidden...), out.Normed)
		})
		for _, size := range fx.sizes {
			t.Run(fx.dir+"/"+size, func(t *testing.T) {
				px := expected[size+".pixel_values"]
				outs := exec.MustExec(nchwToNHWC(px))
				L := m.Config().Depth
				for i := 0; i <= L+1; i++ {
					name := fmt.Sprintf("%s.hidden_states.%d", size, i)
					if i == L+1 {
						name = size + ".last_hidden_state"
					}
					want := expected[name]
					got := tensors.MustCopyFlatData[float32](outs[i])
					if !sameShape(outs[i].Shape().Dimensions, want.Shape) {
						t.Fatalf("%s: shape %v, want %v", name, outs[i].Shape().Dimensions, want.Shape)
					}
					if e := relError(got, want.Data); e > tol {
						t.Errorf("%s: relative error %.3g > %g", name, e, tol)
					} else {
						t.Logf("%s: relative error %.3g", name, e)
					}
				}
			})
		}
	}
}

// TestParityDetectsInterpolation is a negative control: the 24x24 fixture needs antialiased
// interpolation, so turning antialias off must break the match of the embedding output.
func TestParityDetectsInterpolation(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-reg")
	m, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m.ViT.Config.PosEmbedAntialias = false
	expected, _, err := ReadSafetensors(filepath.Join(dir, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewExtractor(backend.MustNew(), m, 8)
	if err != nil {
		t.Fatal(err)
	}
	px := expected["24x24.pixel_values"]
	acts, err := e.Extract(tensors.MustCopyFlatData[float32](nchwToNHWC(px)), 2, 24, 24)
	if err != nil {
		t.Fatal(err)
	}
	want := expected["24x24.hidden_states.0"].Data
	n := acts.Hidden.Tokens * acts.Hidden.Dim
	got := append(append([]float32{}, acts.Hidden.Image(0).Layer(0)...), acts.Hidden.Image(1).Layer(0)...)
	if e := relError(got, want[:2*n]); e < 1e-3 {
		t.Errorf("without antialias the embeddings still match (relative error %.3g): the fixture does not test it", e)
	}
}

// TestExtractStreamsBatches runs the 20x28 fixture through Extract one image per batch and
// compares every layer with the reference.
func TestExtractStreamsBatches(t *testing.T) {
	dir := filepath.Join("testdata", "tiny-swiglu")
	m, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	expected, _, err := ReadSafetensors(filepath.Join(dir, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewExtractor(backend.MustNew(), m, 1)
	if err != nil {
		t.Fatal(err)
	}
	px := expected["20x28.pixel_values"]
	acts, err := e.Extract(tensors.MustCopyFlatData[float32](nchwToNHWC(px)), 2, 20, 28)
	if err != nil {
		t.Fatal(err)
	}
	hb := acts.Hidden
	if hb.Images != 2 || hb.Layers != 5 || hb.Tokens != 36 || hb.Dim != 48 {
		t.Fatalf("batch shape %dx%dx%dx%d", hb.Images, hb.Layers, hb.Tokens, hb.Dim)
	}
	n := hb.Tokens * hb.Dim
	for l := range hb.Layers {
		want := expected[fmt.Sprintf("20x28.hidden_states.%d", l)].Data
		for i := range 2 {
			if e := relError(hb.Image(i).Layer(l), want[i*n:(i+1)*n]); e > 1e-4 {
				t.Errorf("image %d layer %d: relative error %.3g", i, l, e)
			}
		}
	}
	if e := relError(acts.Normed, expected["20x28.last_hidden_state"].Data); e > 1e-4 {
		t.Errorf("normed: relative error %.3g", e)
	}
	// CLS + mean patch of image 1 from the normed output, computed by hand.
	feats := acts.CLSAndMeanPatch()
	last := expected["20x28.last_hidden_state"].Data[n:]
	for k := range 48 {
		mean := 0.0
		for tok := 1; tok < 36; tok++ {
			mean += float64(last[tok*48+k])
		}
		mean /= 35
		if math.Abs(float64(feats[96+k])-float64(last[k])) > 1e-4 || math.Abs(float64(feats[96+48+k])-mean) > 1e-4 {
			t.Fatalf("CLSAndMeanPatch differs at dim %d", k)
		}
	}
}
