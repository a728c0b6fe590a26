package dinov2

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// HF ViT family (ViTModel: google/vit-*, facebook/dino-vit*; DeiTModel): the layout of the hub
// checkpoints, which transformers still writes with save_pretrained.

const (
	poolerWeightName      = "pooler.dense.weight"
	poolerBiasName        = "pooler.dense.bias"
	distillationTokenName = "embeddings.distillation_token"
)

// vitTensorShapes lists the tensors of a ViTModel / DeiTModel checkpoint (without prefix),
// including the optional mask token and pooler.
func (c HFConfig) vitTensorShapes() map[string][]int {
	d, p, ch, h := c.HiddenSize, c.PatchSize, c.NumChannels, c.MLPHidden()
	grid := c.ImageSize / c.PatchSize
	pooler := c.PoolerOutputSize
	if pooler == 0 {
		pooler = d
	}
	s := map[string][]int{
		"embeddings.cls_token":                          {1, 1, d},
		maskTokenName:                                   {1, 1, d},
		hfPositionEmbeddingsName:                        {1, c.ClassTokens() + grid*grid, d},
		"embeddings.patch_embeddings.projection.weight": {d, ch, p, p},
		"embeddings.patch_embeddings.projection.bias":   {d},
		"layernorm.weight":                              {d},
		"layernorm.bias":                                {d},
		poolerWeightName:                                {pooler, d},
		poolerBiasName:                                  {pooler},
	}
	if c.ModelType == ModelTypeDeiT {
		s[distillationTokenName] = []int{1, 1, d}
	}
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("encoder.layer.%d.", i)
		for _, n := range []string{"layernorm_before", "layernorm_after"} {
			s[l+n+".weight"], s[l+n+".bias"] = []int{d}, []int{d}
		}
		for _, n := range []string{"attention.attention.query", "attention.attention.key", "attention.attention.value"} {
			s[l+n+".weight"] = []int{d, d}
			if c.HasQKVBias() {
				s[l+n+".bias"] = []int{d}
			}
		}
		s[l+"attention.output.dense.weight"], s[l+"attention.output.dense.bias"] = []int{d, d}, []int{d}
		s[l+"intermediate.dense.weight"], s[l+"intermediate.dense.bias"] = []int{h, d}, []int{h}
		s[l+"output.dense.weight"], s[l+"output.dense.bias"] = []int{d, h}, []int{d}
	}
	return s
}

// convertViTFamily maps checked ViT / DeiT tensors onto lib/vit's variables: layernorm_before/after
// become norm1/norm2, intermediate.dense and output.dense the MLP's fc1 and fc2; the position
// embeddings keep the CLS slot and the grid; DeiT's distillation token plus its position embedding
// becomes the one register token (see HFConfig.ViT).
func (c HFConfig) convertViTFamily(hf map[string]*Array) map[string]*tensors.Tensor {
	d, h := c.HiddenSize, c.MLPHidden()
	grid := c.ImageSize / c.PatchSize
	v := newHFConverter(hf)
	pos := hf[hfPositionEmbeddingsName].Data
	k := c.ClassTokens()
	v.put("cls_token", copyOf(hf["embeddings.cls_token"].Data), d)
	v.put("pos_embed", append(copyOf(pos[:d]), pos[k*d:]...), 1+grid*grid, d)
	if c.ModelType == ModelTypeDeiT {
		dist := copyOf(hf[distillationTokenName].Data)
		for i := range dist {
			dist[i] += pos[d+i]
		}
		v.put("reg_tokens", dist, 1, d)
	}
	v.encoder(c, "layernorm_before", "layernorm_after")
	for i := range c.NumHiddenLayers {
		v.linear(i, "intermediate.dense", "mlp/fc1", h, d)
		v.linear(i, "output.dense", "mlp/fc2", d, h)
	}
	return v.out
}

// classificationHeads are the tensor-name prefixes of the heads the *ForImageClassification
// checkpoints add next to the backbone; they are dropped with the backbone's prefix.
var classificationHeads = []string{"classifier.", "cls_classifier.", "distillation_classifier."}

// stripModelPrefix removes the backbone prefix that task checkpoints (ViTForImageClassification:
// "vit.", DeiT*: "deit.", Dinov2ForImageClassification: "dinov2.") put before every backbone tensor,
// and then drops their classification heads. Checkpoints of the bare model pass unchanged.
func stripModelPrefix(c HFConfig, hf map[string]*Array) map[string]*Array {
	prefix := map[string]string{ModelTypeDinov2: "dinov2.", ModelTypeWithRegisters: "dinov2.",
		ModelTypeViT: "vit.", ModelTypeDeiT: "deit."}[c.ModelType]
	found := false
	for n := range hf {
		if strings.HasPrefix(n, prefix) {
			found = true
			break
		}
	}
	if !found {
		return hf
	}
	out := make(map[string]*Array, len(hf))
	for n, a := range hf {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			out[rest] = a
			continue
		}
		head := false
		for _, h := range classificationHeads {
			head = head || strings.HasPrefix(n, h)
		}
		if !head {
			out[n] = a // reported as unexpected by the converter
		}
	}
	return out
}
