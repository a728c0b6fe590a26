package dinov2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestConvertLayouts spot-checks every layout change against the HF indices.
func TestConvertLayouts(t *testing.T) {
	cfg := TinyHFConfig(2, true)
	hf := RandomArrays(cfg, 3)
	w, err := ConvertWeights("mem", cfg, hf)
	if err != nil {
		t.Fatal(err)
	}
	d, p, ch, h := cfg.HiddenSize, cfg.PatchSize, cfg.NumChannels, cfg.MLPHidden()
	flat := func(name string) []float32 { return tensors.MustCopyFlatData[float32](w[name]) }
	conv, patch := hf["embeddings.patch_embeddings.projection.weight"].Data, flat("patch_embed/weights")
	for _, idx := range [][4]int{{0, 0, 0, 0}, {5, 2, 1, 3}, {d - 1, ch - 1, p - 1, p - 1}, {7, 1, 3, 0}} {
		o, c, py, px := idx[0], idx[1], idx[2], idx[3]
		if got, want := patch[((py*p+px)*ch+c)*d+o], conv[((o*ch+c)*p+py)*p+px]; got != want {
			t.Errorf("patch weight (o=%d c=%d py=%d px=%d) = %g, want %g", o, c, py, px, got, want)
		}
	}
	q, hq := flat("block_02/attn/query/weights"), hf["encoder.layer.2.attention.attention.query.weight"].Data
	if q[3*d+5] != hq[5*d+3] { // vit [in=3, out=5] = HF [out=5, in=3]
		t.Errorf("query weight not transposed")
	}
	win := hf["encoder.layer.0.mlp.weights_in.weight"].Data
	w1, w2 := flat("block_00/mlp/w1/weights"), flat("block_00/mlp/w2/weights")
	if w1[4*h+9] != win[9*d+4] || w2[4*h+9] != win[(h+9)*d+4] {
		t.Errorf("SwiGLU weights_in not split into w1 (first half) and w2 (second half)")
	}
	bin := hf["encoder.layer.0.mlp.weights_in.bias"].Data
	if b2 := flat("block_00/mlp/w2/biases"); b2[0] != bin[h] {
		t.Errorf("w2 bias %g, want %g", b2[0], bin[h])
	}
	if regs := flat("reg_tokens"); regs[d+1] != hf["embeddings.register_tokens"].Data[d+1] {
		t.Errorf("register tokens differ")
	}
	if got := len(w); got != len(cfg.ViT().WeightShapes()) {
		t.Errorf("%d converted tensors, vit wants %d", got, len(cfg.ViT().WeightShapes()))
	}
}

// TestConvertErrors: missing, unexpected and mis-shaped tensors are refused by name;
// mask_token may be absent.
func TestConvertErrors(t *testing.T) {
	cfg := TinyHFConfig(0, false)
	cases := []struct {
		name   string
		mutate func(map[string]*Array)
		wants  []string // empty: no error
	}{
		{"complete", func(map[string]*Array) {}, nil},
		{"no mask token", func(a map[string]*Array) { delete(a, maskTokenName) }, nil},
		{"missing", func(a map[string]*Array) { delete(a, "encoder.layer.1.mlp.fc2.bias") },
			[]string{`missing tensor "encoder.layer.1.mlp.fc2.bias"`}},
		{"unexpected", func(a map[string]*Array) { a["encoder.layer.9.norm1.weight"] = NewArray(32) },
			[]string{`unexpected tensor "encoder.layer.9.norm1.weight"`}},
		{"wrong shape", func(a map[string]*Array) { a["layernorm.weight"] = NewArray(31) },
			[]string{`tensor "layernorm.weight" has shape [31], want [32]`}},
		{"two problems", func(a map[string]*Array) {
			delete(a, "embeddings.cls_token")
			a["embeddings.position_embeddings"] = NewArray(1, 26, 32)
		}, []string{`"embeddings.cls_token"`, `"embeddings.position_embeddings" has shape [1 26 32]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := RandomArrays(cfg, 1)
			tc.mutate(a)
			_, err := ConvertWeights("ckpt.safetensors", cfg, a)
			if tc.wants == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.wants, "ckpt.safetensors") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestGenerateLoadRoundTrip writes a random checkpoint in HF layout and loads it back.
func TestGenerateLoadRoundTrip(t *testing.T) {
	for _, cfg := range []HFConfig{TinyHFConfig(4, false), TinyHFConfig(0, true)} {
		dir := t.TempDir()
		if err := Generate(dir, cfg, 99); err != nil {
			t.Fatal(err)
		}
		m, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.HF.ModelType != cfg.ModelType || m.Config() != cfg.ViT() {
			t.Errorf("config round trip: got %+v, want %+v", m.Config(), cfg.ViT())
		}
		want, err := ConvertWeights("mem", cfg, RandomArrays(cfg, 99))
		if err != nil {
			t.Fatal(err)
		}
		for name, wt := range want {
			got := tensors.MustCopyFlatData[float32](m.Weights[name])
			for i, v := range tensors.MustCopyFlatData[float32](wt) {
				if got[i] != v {
					t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], v)
				}
			}
		}
	}
}

// TestLoadDirErrors: a truncated weights file and a missing tensor are reported with the file.
func TestLoadDirErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := TinyHFConfig(0, false)
	if err := Generate(dir, cfg, 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, weightsFileName)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("truncated file: error %v", err)
	}
	a := RandomArrays(cfg, 1)
	delete(a, "encoder.layer.0.attention.attention.key.weight")
	if err := WriteSafetensors(path, a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), `"encoder.layer.0.attention.attention.key.weight"`) {
		t.Errorf("missing tensor: error %v", err)
	}
}
