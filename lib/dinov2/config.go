package dinov2

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/blockrec/blockrec/lib/vit"
)

// HFConfig holds the fields of a HF config.json that determine the forward pass, for the model
// types of SupportedModelTypes: Dinov2Config, Dinov2WithRegistersConfig, ViTConfig (google/vit-*,
// facebook/dino-vit*) and DeiTConfig. Other fields (dropouts, initializer range, ...) are ignored.
type HFConfig struct {
	Architectures     []string `json:"architectures,omitempty"`
	ModelType         string   `json:"model_type"`
	HiddenSize        int      `json:"hidden_size"`
	NumHiddenLayers   int      `json:"num_hidden_layers"`
	NumAttentionHeads int      `json:"num_attention_heads"`
	MLPRatio          float64  `json:"mlp_ratio"`
	UseSwiGLU         bool     `json:"use_swiglu_ffn"`
	LayerScaleValue   float64  `json:"layerscale_value"`
	NumRegisterTokens int      `json:"num_register_tokens"`
	ImageSize         int      `json:"image_size"`
	PatchSize         int      `json:"patch_size"`
	NumChannels       int      `json:"num_channels"`
	LayerNormEps      float64  `json:"layer_norm_eps"`
	HiddenAct         string   `json:"hidden_act"`
	QKVBias           *bool    `json:"qkv_bias,omitempty"` // absent means true (the HF default)

	// ViT and DeiT only.
	IntermediateSize int `json:"intermediate_size"`  // the MLP's hidden width (DINOv2 uses mlp_ratio)
	PoolerOutputSize int `json:"pooler_output_size"` // the (unused) pooler's width; 0 means hidden_size
}

// Model types HF uses in config.json.
const (
	ModelTypeDinov2          = "dinov2"
	ModelTypeWithRegisters   = "dinov2_with_registers"
	ModelTypeViT             = "vit"
	ModelTypeDeiT            = "deit"
	defaultLayerNormEps      = 1e-6
	defaultViTLayerNormEps   = 1e-12 // ViTConfig's and DeiTConfig's default
	defaultNumChannels       = 3
	defaultMLPRatio          = 4
	defaultLayerScaleValue   = 1.0
	defaultHiddenAct         = "gelu"
	configFileName           = "config.json"
	weightsFileName          = "model.safetensors"
	maskTokenName            = "embeddings.mask_token"
	hfPositionEmbeddingsName = "embeddings.position_embeddings"
)

// ReadHFConfig reads and validates a config.json, filling HF's defaults for absent fields.
func ReadHFConfig(path string) (HFConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return HFConfig{}, fmt.Errorf("dinov2 config: %w", err)
	}
	c, err := ParseHFConfig(b)
	if err != nil {
		return HFConfig{}, fmt.Errorf("dinov2 config %s: %w", path, err)
	}
	return c, nil
}

// ParseHFConfig decodes config.json bytes, fills defaults and validates.
func ParseHFConfig(b []byte) (HFConfig, error) {
	c := HFConfig{MLPRatio: defaultMLPRatio, LayerScaleValue: defaultLayerScaleValue,
		NumChannels: defaultNumChannels, HiddenAct: defaultHiddenAct}
	if err := json.Unmarshal(b, &c); err != nil {
		return HFConfig{}, fmt.Errorf("bad JSON: %w", err)
	}
	if c.ModelType == "" {
		c.ModelType = ModelTypeDinov2
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = defaultLayerNormEps
		if c.IsViTFamily() {
			c.LayerNormEps = defaultViTLayerNormEps
		}
	}
	return c, c.Validate()
}

// SupportedModelTypes lists the config.json model_type values this package loads.
var SupportedModelTypes = []string{ModelTypeDinov2, ModelTypeWithRegisters, ModelTypeViT, ModelTypeDeiT}

// IsViTFamily reports a ViTModel / DeiTModel config (layernorm_before/after, intermediate.dense, no
// LayerScale) rather than a DINOv2 one.
func (c HFConfig) IsViTFamily() bool {
	return c.ModelType == ModelTypeViT || c.ModelType == ModelTypeDeiT
}

// ClassTokens is the number of tokens before the patches that have a position embedding: 2 for
// DeiT (CLS and distillation), 1 otherwise.
func (c HFConfig) ClassTokens() int {
	if c.ModelType == ModelTypeDeiT {
		return 2
	}
	return 1
}

// Validate reports fields this package cannot map onto lib/vit.
func (c HFConfig) Validate() error {
	if !slices.Contains(SupportedModelTypes, c.ModelType) {
		return fmt.Errorf("model_type %q is not supported (supported: %s)", c.ModelType, strings.Join(SupportedModelTypes, ", "))
	}
	if c.ModelType != ModelTypeWithRegisters && c.NumRegisterTokens != 0 {
		return fmt.Errorf("model_type %q has no register tokens, but num_register_tokens is %d", c.ModelType, c.NumRegisterTokens)
	}
	if _, err := c.approximateGELU(); err != nil {
		return err
	}
	if c.IsViTFamily() {
		if c.IntermediateSize <= 0 {
			return fmt.Errorf("intermediate_size must be positive, got %d", c.IntermediateSize)
		}
		if c.UseSwiGLU {
			return fmt.Errorf("model_type %q has no SwiGLU MLP, but use_swiglu_ffn is set", c.ModelType)
		}
		return c.ViT().Validate()
	}
	if c.MLPRatio <= 0 {
		return fmt.Errorf("mlp_ratio must be positive, got %g", c.MLPRatio)
	}
	if c.LayerScaleValue == 0 {
		// HF always creates layer_scale{1,2}.lambda1; vit disables LayerScale when its init is 0.
		return fmt.Errorf("layerscale_value 0 is not supported (vit would drop the LayerScale weights)")
	}
	return c.ViT().Validate()
}

// approximateGELU maps hidden_act to vit's choice between exact and tanh GELU.
func (c HFConfig) approximateGELU() (bool, error) {
	switch c.HiddenAct {
	case "gelu":
		return false, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return true, nil
	}
	return false, fmt.Errorf("hidden_act %q is not supported (want gelu, gelu_new or gelu_pytorch_tanh)", c.HiddenAct)
}

// MLPHidden is the hidden width of the MLP: intermediate_size for ViT and DeiT; int(hidden·mlp_ratio)
// for DINOv2 with GELU; for SwiGLU the width of each of the two branches, rounded as HF does:
// (int(int(hidden·mlp_ratio)·2/3)+7)//8·8.
func (c HFConfig) MLPHidden() int {
	if c.IsViTFamily() || c.IntermediateSize > 0 {
		return c.IntermediateSize // DINOv2 configs have none, except those read from timm tensors
	}
	h := int(float64(c.HiddenSize) * c.MLPRatio)
	if !c.UseSwiGLU {
		return h
	}
	return (int(float64(h)*2/3) + 7) / 8 * 8
}

// ViT returns the lib/vit config of this checkpoint: no classification head; position
// embeddings interpolated with antialiasing for the with-registers model only (as HF does). ViT
// and DeiT have no LayerScale; DeiT's distillation token becomes lib/vit's one register: it is a
// constant token (distillation_token plus its own, never interpolated, position embedding) placed
// right after CLS, which is exactly what a register is.
func (c HFConfig) ViT() vit.Config {
	approx, _ := c.approximateGELU()
	mlp := vit.MLPGELU
	if c.UseSwiGLU {
		mlp = vit.MLPSwiGLU
	}
	if c.IsViTFamily() {
		return vit.Config{
			ImageSize: c.ImageSize, PatchSize: c.PatchSize, Channels: c.NumChannels,
			Dim: c.HiddenSize, Depth: c.NumHiddenLayers, Heads: c.NumAttentionHeads,
			MLPHidden: c.MLPHidden(), MLP: vit.MLPGELU, ApproximateGELU: approx,
			Registers: c.ClassTokens() - 1, LayerNormEps: c.LayerNormEps,
		}
	}
	return vit.Config{
		ImageSize: c.ImageSize, PatchSize: c.PatchSize, Channels: c.NumChannels,
		Dim: c.HiddenSize, Depth: c.NumHiddenLayers, Heads: c.NumAttentionHeads,
		MLPHidden: c.MLPHidden(), MLP: mlp, ApproximateGELU: approx,
		LayerScaleInit: c.LayerScaleValue, Registers: c.NumRegisterTokens, LayerNormEps: c.LayerNormEps,
		PosEmbedAntialias: c.ModelType == ModelTypeWithRegisters,
	}
}

// HasQKVBias reports whether the attention projections have biases (HF default: true).
func (c HFConfig) HasQKVBias() bool { return c.QKVBias == nil || *c.QKVBias }

// MarshalConfig writes the config as HF does (indented JSON), with the fields HF needs to
// rebuild the model.
func (c HFConfig) MarshalConfig() ([]byte, error) {
	if c.IsViTFamily() {
		return nil, fmt.Errorf("model_type %q: only DINOv2 configs are written", c.ModelType)
	}
	arch := "Dinov2Model"
	if c.ModelType == ModelTypeWithRegisters {
		arch = "Dinov2WithRegistersModel"
	}
	m := map[string]any{
		"architectures": []string{arch}, "model_type": c.ModelType,
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.NumHiddenLayers, "num_attention_heads": c.NumAttentionHeads,
		"mlp_ratio": c.MLPRatio, "use_swiglu_ffn": c.UseSwiGLU, "layerscale_value": c.LayerScaleValue,
		"image_size": c.ImageSize, "patch_size": c.PatchSize, "num_channels": c.NumChannels,
		"layer_norm_eps": c.LayerNormEps, "hidden_act": c.HiddenAct, "qkv_bias": c.HasQKVBias(),
		"attention_probs_dropout_prob": 0.0, "hidden_dropout_prob": 0.0, "drop_path_rate": 0.0,
		"initializer_range": 0.02,
	}
	if c.ModelType == ModelTypeWithRegisters {
		m["num_register_tokens"] = c.NumRegisterTokens
	}
	return json.MarshalIndent(m, "", "  ")
}
