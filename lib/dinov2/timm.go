package dinov2

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// timm's DINOv2 layout (vit_*_patch14_dinov2, vit_*_patch14_reg4_dinov2 on the hub as
// timm/<name>: config.json with "architecture" and "pretrained_cfg", model.safetensors):
//
//	cls_token [1, 1, D], pos_embed [1, 1+G², D] (or [1, G², D] with registers: timm's
//	no_embed_class form, where cls_token already holds its position embedding), reg_token [1, R, D],
//	patch_embed.proj.{weight [D, C, P, P], bias}, blocks.N.{norm1, norm2}.{weight, bias},
//	blocks.N.attn.qkv.{weight [3D, D], bias [3D]} (query, key, value stacked), blocks.N.attn.proj,
//	blocks.N.ls1.gamma, blocks.N.ls2.gamma, blocks.N.mlp.fc1 / fc2 (GELU, or SwiGLUPacked: fc1
//	[2H, D] whose first half goes through SiLU), norm.{weight, bias}.
//
// The architecture is read off the tensor shapes; the number of heads, which no shape gives, is
// config.json's model_args.num_heads if present, else D/64 (the head width of every DINOv2 size). timm interpolates position embeddings
// with antialiased bicubic resizing for every model, so the loaded model does too.

type timmConfig struct {
	Architecture  string            `json:"architecture"`
	NumClasses    int               `json:"num_classes"`
	PretrainedCfg timmPretrainedCfg `json:"pretrained_cfg"`
	ModelArgs     struct {
		NumHeads int `json:"num_heads"`
	} `json:"model_args"` // timm's overrides of the architecture's defaults
}

type timmPretrainedCfg struct {
	InputSize     []int     `json:"input_size"`
	Interpolation string    `json:"interpolation"`
	CropPct       float64   `json:"crop_pct"`
	Mean          []float32 `json:"mean"`
	Std           []float32 `json:"std"`
}

// isTimmConfig tells a timm config.json (an "architecture" string, no "model_type") from a HF one.
func isTimmConfig(b []byte) bool {
	var probe struct {
		Architecture *string `json:"architecture"`
		ModelType    *string `json:"model_type"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Architecture != nil && probe.ModelType == nil
}

const timmHeadDim = 64

// TimmConfig infers the HF-equivalent config of timm DINOv2 tensors (heads 0: D/64). The
// returned config converts the tensors renamed by timmToHF.
func TimmConfig(name string, t map[string]*Array, heads int) (HFConfig, error) {
	fail := func(format string, args ...any) (HFConfig, error) {
		return HFConfig{}, fmt.Errorf("dinov2 timm weights %s: %s", name, fmt.Sprintf(format, args...))
	}
	shape := func(n string, rank int) ([]int, error) {
		a, ok := t[n]
		if !ok {
			return nil, fmt.Errorf("missing tensor %q", n)
		}
		if len(a.Shape) != rank {
			return nil, fmt.Errorf("tensor %q has shape %v, want rank %d", n, a.Shape, rank)
		}
		return a.Shape, nil
	}
	cls, err := shape("cls_token", 3)
	if err != nil {
		return fail("%v", err)
	}
	conv, err := shape("patch_embed.proj.weight", 4)
	if err != nil {
		return fail("%v", err)
	}
	pos, err := shape("pos_embed", 3)
	if err != nil {
		return fail("%v", err)
	}
	fc2, err := shape("blocks.0.mlp.fc2.weight", 2)
	if err != nil {
		return fail("%v", err)
	}
	fc1, err := shape("blocks.0.mlp.fc1.weight", 2)
	if err != nil {
		return fail("%v", err)
	}
	d, p, h := cls[2], conv[2], fc2[1]
	c := HFConfig{ModelType: ModelTypeDinov2, HiddenSize: d, NumAttentionHeads: heads, NumChannels: conv[1],
		PatchSize: p, LayerScaleValue: 1, LayerNormEps: defaultLayerNormEps, HiddenAct: "gelu", MLPRatio: defaultMLPRatio,
		IntermediateSize: h}
	if c.NumAttentionHeads == 0 {
		if d%timmHeadDim != 0 {
			return fail("width %d is not a multiple of %d: give the number of heads", d, timmHeadDim)
		}
		c.NumAttentionHeads = d / timmHeadDim
	}
	switch fc1[0] {
	case h:
	case 2 * h:
		c.UseSwiGLU = true
	default:
		return fail("tensor %q has %d rows, want %d (GELU) or %d (SwiGLU) for fc2's width %d", "blocks.0.mlp.fc1.weight", fc1[0], h, 2*h, h)
	}
	if r, ok := t["reg_token"]; ok {
		if len(r.Shape) != 3 {
			return fail("tensor %q has shape %v, want [1, registers, %d]", "reg_token", r.Shape, d)
		}
		c.ModelType, c.NumRegisterTokens = ModelTypeWithRegisters, r.Shape[1]
	}
	n := pos[1]
	if c.NumRegisterTokens == 0 {
		n-- // the CLS slot; timm's register models are no_embed_class
	}
	grid := isqrt(n)
	if grid*grid != n || grid == 0 {
		return fail("tensor %q has shape %v: %d grid positions is not a square", "pos_embed", pos, n)
	}
	c.ImageSize = grid * p
	for t[fmt.Sprintf("blocks.%d.norm1.weight", c.NumHiddenLayers)] != nil {
		c.NumHiddenLayers++
	}
	return c, c.Validate()
}

func isqrt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}

// timmTensorShapes lists the tensors of a timm DINOv2 checkpoint of config c.
func timmTensorShapes(c HFConfig) map[string][]int {
	d, p, ch, h := c.HiddenSize, c.PatchSize, c.NumChannels, c.MLPHidden()
	grid := c.ImageSize / c.PatchSize
	s := map[string][]int{
		"cls_token": {1, 1, d}, "pos_embed": {1, 1 + grid*grid, d}, "mask_token": {1, d},
		"patch_embed.proj.weight": {d, ch, p, p}, "patch_embed.proj.bias": {d},
		"norm.weight": {d}, "norm.bias": {d},
	}
	if c.NumRegisterTokens > 0 {
		s["reg_token"], s["pos_embed"] = []int{1, c.NumRegisterTokens, d}, []int{1, grid * grid, d}
	}
	fc1 := h
	if c.UseSwiGLU {
		fc1 = 2 * h
	}
	for i := range c.NumHiddenLayers {
		b := "blocks." + strconv.Itoa(i) + "."
		for _, n := range []string{"norm1", "norm2"} {
			s[b+n+".weight"], s[b+n+".bias"] = []int{d}, []int{d}
		}
		s[b+"attn.qkv.weight"], s[b+"attn.qkv.bias"] = []int{3 * d, d}, []int{3 * d}
		s[b+"attn.proj.weight"], s[b+"attn.proj.bias"] = []int{d, d}, []int{d}
		s[b+"ls1.gamma"], s[b+"ls2.gamma"] = []int{d}, []int{d}
		s[b+"mlp.fc1.weight"], s[b+"mlp.fc1.bias"] = []int{fc1, d}, []int{fc1}
		s[b+"mlp.fc2.weight"], s[b+"mlp.fc2.bias"] = []int{d, h}, []int{d}
	}
	return s
}

// timmToHF renames checked timm tensors to the HF Dinov2 layout: qkv split into query, key and
// value; in the no_embed_class form the CLS position embedding is zero (cls_token holds it).
func timmToHF(c HFConfig, t map[string]*Array) map[string]*Array {
	d := c.HiddenSize
	hf := map[string]*Array{
		"embeddings.cls_token":                          t["cls_token"],
		"embeddings.patch_embeddings.projection.weight": t["patch_embed.proj.weight"],
		"embeddings.patch_embeddings.projection.bias":   t["patch_embed.proj.bias"],
		"layernorm.weight":                              t["norm.weight"],
		"layernorm.bias":                                t["norm.bias"],
	}
	pos := t["pos_embed"]
	if c.NumRegisterTokens > 0 {
		hf["embeddings.register_tokens"] = t["reg_token"]
		withCLS := NewArray(1, pos.Shape[1]+1, d)
		copy(withCLS.Data[d:], pos.Data)
		pos = withCLS
	}
	hf[hfPositionEmbeddingsName] = pos
	slice := func(a *Array, from, to int, shape ...int) *Array {
		return &Array{Shape: shape, Data: a.Data[from:to]}
	}
	for i := range c.NumHiddenLayers {
		b, l := "blocks."+strconv.Itoa(i)+".", "encoder.layer."+strconv.Itoa(i)+"."
		for _, n := range []string{"norm1", "norm2"} {
			hf[l+n+".weight"], hf[l+n+".bias"] = t[b+n+".weight"], t[b+n+".bias"]
		}
		qkvW, qkvB := t[b+"attn.qkv.weight"], t[b+"attn.qkv.bias"]
		for k, n := range []string{"query", "key", "value"} {
			hf[l+"attention.attention."+n+".weight"] = slice(qkvW, k*d*d, (k+1)*d*d, d, d)
			hf[l+"attention.attention."+n+".bias"] = slice(qkvB, k*d, (k+1)*d, d)
		}
		hf[l+"attention.output.dense.weight"], hf[l+"attention.output.dense.bias"] = t[b+"attn.proj.weight"], t[b+"attn.proj.bias"]
		hf[l+"layer_scale1.lambda1"], hf[l+"layer_scale2.lambda1"] = t[b+"ls1.gamma"], t[b+"ls2.gamma"]
		mlpIn, mlpOut := "mlp.fc1", "mlp.fc2"
		if c.UseSwiGLU {
			mlpIn, mlpOut = "mlp.weights_in", "mlp.weights_out"
		}
		hf[l+mlpIn+".weight"], hf[l+mlpIn+".bias"] = t[b+"mlp.fc1.weight"], t[b+"mlp.fc1.bias"]
		hf[l+mlpOut+".weight"], hf[l+mlpOut+".bias"] = t[b+"mlp.fc2.weight"], t[b+"mlp.fc2.bias"]
	}
	return hf
}

// FromTimmArrays builds a Model from timm-named DINOv2 tensors (heads 0: D/64; name is used in
// errors). Missing, unexpected and mis-shaped tensors are refused by their timm names; the
// mask_token of the original DINOv2 release may be present and is dropped.
func FromTimmArrays(name string, t map[string]*Array, heads int) (*Model, error) {
	c, err := TimmConfig(name, t, heads)
	if err != nil {
		return nil, err
	}
	if err := checkTensors("dinov2 timm weights "+name, timmTensorShapes(c), map[string]bool{"mask_token": true}, t); err != nil {
		return nil, err
	}
	m, err := FromArrays(name, c, timmToHF(c, t))
	if err != nil {
		return nil, err
	}
	m.ViT.Config.PosEmbedAntialias = true
	m.Format = FormatTimm
	return m, nil
}

// loadTimmDir loads a timm folder: config.json (architecture, pretrained_cfg) and model.safetensors.
func loadTimmDir(dir, cfgPath string, b []byte) (*Model, error) {
	var tc timmConfig
	if err := json.Unmarshal(b, &tc); err != nil {
		return nil, fmt.Errorf("dinov2 timm config %s: bad JSON: %w", cfgPath, err)
	}
	if !strings.Contains(tc.Architecture, "dinov2") {
		return nil, fmt.Errorf("dinov2 timm config %s: architecture %q is not supported (timm DINOv2 models only: vit_*_dinov2, vit_*_reg4_dinov2)", cfgPath, tc.Architecture)
	}
	path := dir + "/" + weightsFileName
	arrays, _, err := ReadSafetensors(path)
	if err != nil {
		return nil, err
	}
	m, err := FromTimmArrays(path, arrays, tc.ModelArgs.NumHeads)
	if err != nil {
		return nil, err
	}
	if len(tc.PretrainedCfg.InputSize) > 0 {
		p, err := timmPreprocessing(tc.PretrainedCfg)
		if err != nil {
			return nil, fmt.Errorf("dinov2 timm config %s: %w", cfgPath, err)
		}
		m.Preprocess, m.HasPreprocess = p, true
	}
	return m, nil
}
