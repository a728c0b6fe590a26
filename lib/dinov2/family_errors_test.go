package dinov2

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/blockrec/blockrec/lib/data"
)

// readFixture returns the config and tensors of a testdata folder.
func readFixture(t *testing.T, dir string) (HFConfig, map[string]*Array) {
	t.Helper()
	arrays, _, err := ReadSafetensors(filepath.Join("testdata", dir, weightsFileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(dir, "timm-") {
		return HFConfig{}, arrays
	}
	cfg, err := ReadHFConfig(filepath.Join("testdata", dir, configFileName))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, arrays
}

// TestFamilyTensorErrors: for every family, a missing, an unexpected and a mis-shaped tensor are
// each refused with an error naming that tensor (in the family's own names) and what is wrong;
// optional tensors (mask token, pooler) may be absent.
func TestFamilyTensorErrors(t *testing.T) {
	cases := []struct {
		dir, tensor string // the tensor removed / reshaped
		optional    string // a tensor that may be removed
	}{
		{"hf-dinov2", "encoder.layer.1.layer_scale2.lambda1", maskTokenName},
		{"hf-dinov2-swiglu", "encoder.layer.0.mlp.weights_in.weight", maskTokenName},
		{"hf-vit", "encoder.layer.2.intermediate.dense.weight", poolerWeightName},
		{"hf-deit", distillationTokenName, poolerBiasName},
		{"timm-dinov2-reg", "blocks.1.attn.qkv.weight", ""},
		{"timm-dinov2-swiglu", "blocks.2.ls1.gamma", ""},
	}
	load := func(dir string, cfg HFConfig, a map[string]*Array) error {
		if strings.HasPrefix(dir, "timm-") {
			_, err := FromTimmArrays(dir, a, 4)
			return err
		}
		_, err := FromArrays(dir, cfg, a)
		return err
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			cfg, base := readFixture(t, tc.dir)
			fresh := func() map[string]*Array {
				out := map[string]*Array{}
				for k, v := range base {
					out[k] = v
				}
				return out
			}
			if err := load(tc.dir, cfg, fresh()); err != nil {
				t.Fatalf("complete checkpoint: %v", err)
			}
			if tc.optional != "" {
				a := fresh()
				if _, ok := a[tc.optional]; !ok {
					t.Fatalf("fixture has no %q", tc.optional)
				}
				delete(a, tc.optional)
				if err := load(tc.dir, cfg, a); err != nil {
					t.Errorf("without optional %q: %v", tc.optional, err)
				}
			}
			a := fresh()
			delete(a, tc.tensor)
			wantErr(t, "missing", load(tc.dir, cfg, a), `missing tensor "`+tc.tensor+`"`)

			a = fresh()
			a["encoder.layer.9.extra.weight"] = NewArray(2)
			wantErr(t, "extra", load(tc.dir, cfg, a), `unexpected tensor "encoder.layer.9.extra.weight"`)

			a = fresh()
			orig := base[tc.tensor]
			bad := NewArray(append(append([]int{}, orig.Shape[:len(orig.Shape)-1]...), orig.Shape[len(orig.Shape)-1]+1)...)
			a[tc.tensor] = bad
			wantErr(t, "mis-shaped", load(tc.dir, cfg, a), `"`+tc.tensor+`" has shape`)
		})
	}
}

func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %v, want one containing %q", what, err, want)
	}
}

// TestClassificationCheckpointPrefix: a ViTForImageClassification-style checkpoint ("vit." before
// every backbone tensor, a classifier head) loads into the same weights as the bare model; a
// stray tensor outside the prefix is still refused.
func TestClassificationCheckpointPrefix(t *testing.T) {
	cfg, base := readFixture(t, "hf-vit")
	prefixed := map[string]*Array{"classifier.weight": NewArray(10, 32), "classifier.bias": NewArray(10)}
	for k, v := range base {
		if !strings.HasPrefix(k, "pooler.") { // ViTForImageClassification has no pooler
			prefixed["vit."+k] = v
		}
	}
	m, err := FromArrays("prefixed", cfg, prefixed)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := FromArrays("plain", cfg, base)
	if err != nil {
		t.Fatal(err)
	}
	for n, w := range plain.Weights {
		if relError(mustFlat(m.Weights[n]), mustFlat(w)) != 0 {
			t.Errorf("weight %s differs between the prefixed and the bare checkpoint", n)
		}
	}
	prefixed["head.weight"] = NewArray(3)
	wantErr(t, "stray", func() error { _, err := FromArrays("prefixed", cfg, prefixed); return err }(), `unexpected tensor "head.weight"`)
}

// TestTimmInference: the architecture read off timm tensor shapes.
func TestTimmInference(t *testing.T) {
	_, reg := readFixture(t, "timm-dinov2-reg")
	c, err := TimmConfig("reg", reg, 4)
	if err != nil {
		t.Fatal(err)
	}
	if c.ModelType != ModelTypeWithRegisters || c.NumRegisterTokens != 4 || c.NumHiddenLayers != 3 || c.ImageSize != 16 || c.UseSwiGLU || c.MLPHidden() != 128 {
		t.Errorf("reg: got %+v", c)
	}
	_, swi := readFixture(t, "timm-dinov2-swiglu")
	if c, err = TimmConfig("swiglu", swi, 4); err != nil {
		t.Fatal(err)
	}
	if c.ModelType != ModelTypeDinov2 || !c.UseSwiGLU || c.MLPHidden() != 88 || c.NumRegisterTokens != 0 {
		t.Errorf("swiglu: got %+v (MLP %d)", c, c.MLPHidden())
	}
	if _, err := TimmConfig("swiglu", swi, 0); err == nil || !strings.Contains(err.Error(), "give the number of heads") {
		t.Errorf("width 32 without heads: %v", err)
	}
}

// TestPreprocessing: the model's own preprocessing from preprocessor_config.json (HF) and
// pretrained_cfg (timm).
func TestPreprocessing(t *testing.T) {
	cases := []struct {
		dir  string
		want data.Preprocessor
	}{
		{"hf-dinov2", data.Preprocessor{Resize: 18, Crop: 16, Filter: data.Bicubic, Stats: data.ImageNetStats}},
		{"hf-vit", data.Preprocessor{Resize: 16, Crop: 16, Filter: data.Bilinear,
			Stats: data.Stats{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.5, 0.5}}}},
		{"timm-dinov2-reg", data.Preprocessor{Resize: 16, Crop: 16, Filter: data.Bicubic, Stats: data.ImageNetStats}},
	}
	for _, tc := range cases {
		m, err := LoadDir(filepath.Join("testdata", tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		p := m.Preprocess
		if !m.HasPreprocess || p.Resize != tc.want.Resize || p.Crop != tc.want.Crop || p.Filter != tc.want.Filter ||
			!sameFloats(p.Stats.Mean, tc.want.Stats.Mean) || !sameFloats(p.Stats.Std, tc.want.Stats.Std) {
			t.Errorf("%s: preprocessing %+v (present %v), want %+v", tc.dir, p, m.HasPreprocess, tc.want)
		}
	}
	if _, err := parseHFPreprocessor([]byte(`{"size":{"height":16,"width":20},"resample":3,"image_mean":[0,0,0],"image_std":[1,1,1]}`)); err == nil ||
		!strings.Contains(err.Error(), "size") {
		t.Errorf("non-square size: %v", err)
	}
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustFlat(x *tensors.Tensor) []float32 { return tensors.MustCopyFlatData[float32](x) }
