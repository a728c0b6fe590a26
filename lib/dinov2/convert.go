package dinov2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/blockrec/blockrec/lib/vit"
)

// HFTensorShapes lists every tensor a HF checkpoint of this config holds (names as
// Dinov2Model / Dinov2WithRegistersModel save them, without prefix) with its shape, including
// embeddings.mask_token, which the converter ignores.
func (c HFConfig) HFTensorShapes() map[string][]int {
	if c.IsViTFamily() {
		return c.vitTensorShapes()
	}
	d, p, ch := c.HiddenSize, c.PatchSize, c.NumChannels
	grid := c.ImageSize / c.PatchSize
	h := c.MLPHidden()
	s := map[string][]int{
		"embeddings.cls_token":                          {1, 1, d},
		maskTokenName:                                   {1, d},
		hfPositionEmbeddingsName:                        {1, 1 + grid*grid, d},
		"embeddings.patch_embeddings.projection.weight": {d, ch, p, p},
		"embeddings.patch_embeddings.projection.bias":   {d},
		"layernorm.weight":                              {d},
		"layernorm.bias":                                {d},
	}
	if c.NumRegisterTokens > 0 {
		s["embeddings.register_tokens"] = []int{1, c.NumRegisterTokens, d}
	}
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("encoder.layer.%d.", i)
		for _, n := range []string{"norm1", "norm2"} {
			s[l+n+".weight"], s[l+n+".bias"] = []int{d}, []int{d}
		}
		for _, n := range []string{"attention.attention.query", "attention.attention.key", "attention.attention.value"} {
			s[l+n+".weight"] = []int{d, d}
			if c.HasQKVBias() {
				s[l+n+".bias"] = []int{d}
			}
		}
		s[l+"attention.output.dense.weight"], s[l+"attention.output.dense.bias"] = []int{d, d}, []int{d}
		s[l+"layer_scale1.lambda1"], s[l+"layer_scale2.lambda1"] = []int{d}, []int{d}
		if c.UseSwiGLU {
			s[l+"mlp.weights_in.weight"], s[l+"mlp.weights_in.bias"] = []int{2 * h, d}, []int{2 * h}
			s[l+"mlp.weights_out.weight"], s[l+"mlp.weights_out.bias"] = []int{d, h}, []int{d}
		} else {
			s[l+"mlp.fc1.weight"], s[l+"mlp.fc1.bias"] = []int{h, d}, []int{h}
			s[l+"mlp.fc2.weight"], s[l+"mlp.fc2.bias"] = []int{d, h}, []int{d}
		}
	}
	return s
}

// ConvertWeights maps HF tensors onto lib/vit's variables (names as vit.Config.WeightShapes).
// Every HF tensor of HFTensorShapes must be present with its shape and no other may be, except
// embeddings.mask_token, which may be present or not and is dropped (it only replaces masked
// patches in DINOv2's pre-training). The error lists every offending tensor by name. name (the
// file) prefixes the error.
//
// Layouts: Linear weights [out, in] become [in, out]; the patch-embedding convolution [D, C, P, P]
// becomes [(py·P+px)·C+c, D] (patches are flattened (py, px, c) from NHWC images); the SwiGLU
// weights_in [2H, D] splits into w1 (rows 0..H-1, through SiLU) and w2 (rows H..2H-1); leading
// singleton axes of cls_token, register_tokens and position_embeddings are dropped; without
// qkv_bias the query/key/value biases are zeros.
//
// ViT and DeiT checkpoints (IsViTFamily) are converted by convertViTFamily.
func ConvertWeights(name string, c HFConfig, hf map[string]*Array) (map[string]*tensors.Tensor, error) {
	if err := checkTensors("dinov2 weights "+name, c.HFTensorShapes(), c.optionalTensors(), hf); err != nil {
		return nil, err
	}
	if c.IsViTFamily() {
		return c.convertViTFamily(hf), nil
	}

	d, h := c.HiddenSize, c.MLPHidden()
	v := newHFConverter(hf)
	grid := c.ImageSize / c.PatchSize
	v.put("cls_token", copyOf(hf["embeddings.cls_token"].Data), d)
	v.put("pos_embed", copyOf(hf[hfPositionEmbeddingsName].Data), 1+grid*grid, d)
	if c.NumRegisterTokens > 0 {
		v.put("reg_tokens", copyOf(hf["embeddings.register_tokens"].Data), c.NumRegisterTokens, d)
	}
	v.encoder(c, "norm1", "norm2")
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("encoder.layer.%d.", i)
		s := vit.BlockScope(i) + "/"
		v.put(s+"ls1/gamma", copyOf(hf[l+"layer_scale1.lambda1"].Data), d)
		v.put(s+"ls2/gamma", copyOf(hf[l+"layer_scale2.lambda1"].Data), d)
		if c.UseSwiGLU {
			win, bin := hf[l+"mlp.weights_in.weight"].Data, hf[l+"mlp.weights_in.bias"].Data
			v.put(s+"mlp/w1/weights", transpose(win[:h*d], h, d), d, h)
			v.put(s+"mlp/w1/biases", copyOf(bin[:h]), h)
			v.put(s+"mlp/w2/weights", transpose(win[h*d:], h, d), d, h)
			v.put(s+"mlp/w2/biases", copyOf(bin[h:]), h)
			v.linear(i, "mlp.weights_out", "mlp/w3", d, h)
		} else {
			v.linear(i, "mlp.fc1", "mlp/fc1", h, d)
			v.linear(i, "mlp.fc2", "mlp/fc2", d, h)
		}
	}
	return v.out, nil
}

// hfConverter collects lib/vit variables converted from a checked set of HF tensors; the parts
// every HF ViT-like encoder lays out alike are its methods.
type hfConverter struct {
	hf  map[string]*Array
	out map[string]*tensors.Tensor
}

func newHFConverter(hf map[string]*Array) *hfConverter {
	return &hfConverter{hf: hf, out: map[string]*tensors.Tensor{}}
}

// put stores a lib/vit variable.
func (v *hfConverter) put(name string, data []float32, dims ...int) {
	v.out[name] = tensors.FromFlatDataAndDimensions(data, dims...)
}

// linear converts block i's HF Linear hfName (weight [out=rows, in=cols], bias optional: zeros
// without one) into the block's vitName weights [in, out] and biases.
func (v *hfConverter) linear(i int, hfName, vitName string, rows, cols int) {
	l := fmt.Sprintf("encoder.layer.%d.%s", i, hfName)
	s := vit.BlockScope(i) + "/" + vitName
	v.put(s+"/weights", transpose(v.hf[l+".weight"].Data, rows, cols), cols, rows)
	if b, ok := v.hf[l+".bias"]; ok {
		v.put(s+"/biases", copyOf(b.Data), rows)
	} else {
		v.put(s+"/biases", make([]float32, rows), rows)
	}
}

// encoder converts what DINOv2 and the ViT family share: the patch embedding, the final norm,
// and in every block the two norms (HF names norm1 and norm2) and the attention's query, key,
// value and output projections.
func (v *hfConverter) encoder(c HFConfig, norm1, norm2 string) {
	d, p, ch := c.HiddenSize, c.PatchSize, c.NumChannels
	v.put("patch_embed/weights", convToPatchMatrix(v.hf["embeddings.patch_embeddings.projection.weight"].Data, d, ch, p), p*p*ch, d)
	v.put("patch_embed/biases", copyOf(v.hf["embeddings.patch_embeddings.projection.bias"].Data), d)
	v.put("norm/gain", copyOf(v.hf["layernorm.weight"].Data), d)
	v.put("norm/offset", copyOf(v.hf["layernorm.bias"].Data), d)
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("encoder.layer.%d.", i)
		s := vit.BlockScope(i) + "/"
		for hfName, vitName := range map[string]string{norm1: "norm1", norm2: "norm2"} {
			v.put(s+vitName+"/gain", copyOf(v.hf[l+hfName+".weight"].Data), d)
			v.put(s+vitName+"/offset", copyOf(v.hf[l+hfName+".bias"].Data), d)
		}
		v.linear(i, "attention.attention.query", "attn/query", d, d)
		v.linear(i, "attention.attention.key", "attn/key", d, d)
		v.linear(i, "attention.attention.value", "attn/value", d, d)
		v.linear(i, "attention.output.dense", "attn/proj", d, d)
	}
}

// optionalTensors are the tensors of HFTensorShapes a checkpoint may hold or not; the converter
// drops them: the mask token (pre-training only) and the pooler of ViTModel / DeiTModel (a
// Linear+tanh on the final CLS token, outside the hidden states).
func (c HFConfig) optionalTensors() map[string]bool {
	o := map[string]bool{maskTokenName: true}
	if c.IsViTFamily() {
		o[poolerWeightName], o[poolerBiasName] = true, true
	}
	return o
}

// checkTensors compares got with want (name → shape): every tensor of want must be present with
// its shape unless optional, and no other may be. The error, prefixed by what, lists every
// offending tensor by name, sorted.
func checkTensors(what string, want map[string][]int, optional map[string]bool, got map[string]*Array) error {
	var problems []string
	for n, shape := range want {
		a, ok := got[n]
		switch {
		case !ok && !optional[n]:
			problems = append(problems, fmt.Sprintf("missing tensor %q (shape %v)", n, shape))
		case ok && !sameShape(a.Shape, shape):
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, want %v", n, a.Shape, shape))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected tensor %q", n))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s: %s", what, strings.Join(problems, "; "))
	}
	return nil
}

// convToPatchMatrix turns a convolution kernel [D, C, P, P] into the [(py·P+px)·C+c, D] matrix
// that multiplies (py, px, c)-flattened patches.
func convToPatchMatrix(w []float32, d, ch, p int) []float32 {
	out := make([]float32, len(w))
	for o := range d {
		for c := range ch {
			for py := range p {
				for px := range p {
					out[((py*p+px)*ch+c)*d+o] = w[((o*ch+c)*p+py)*p+px]
				}
			}
		}
	}
	return out
}

// transpose returns the [cols, rows] transpose of a row-major [rows, cols] matrix.
func transpose(m []float32, rows, cols int) []float32 {
	out := make([]float32, rows*cols)
	for r := range rows {
		for c := range cols {
			out[c*rows+r] = m[r*cols+c]
		}
	}
	return out
}

func copyOf(x []float32) []float32 { return append([]float32(nil), x...) }

func sameShape(a, b []int) bool {
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
