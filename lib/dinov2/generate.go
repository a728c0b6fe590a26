package dinov2

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// TinyHFConfig is a CPU-sized DINOv2 config for tests and notebooks without real weights:
// dim 32, 3 layers, 4 heads, patch 4, trained at 16 px (a 4×4 grid). registers > 0 gives a
// Dinov2WithRegistersModel (antialiased position-embedding interpolation); swiglu selects the
// SwiGLU MLP of dinov2-giant.
func TinyHFConfig(registers int, swiglu bool) HFConfig {
	c := HFConfig{ModelType: ModelTypeDinov2, HiddenSize: 32, NumHiddenLayers: 3, NumAttentionHeads: 4,
		MLPRatio: 4, UseSwiGLU: swiglu, LayerScaleValue: 1, ImageSize: 16, PatchSize: 4, NumChannels: 3,
		LayerNormEps: 1e-6, HiddenAct: "gelu"}
	if registers > 0 {
		c.ModelType, c.NumRegisterTokens = ModelTypeWithRegisters, registers
	}
	return c
}

// RandomArrays draws a random checkpoint of config c in HF layout (names and shapes of
// HFTensorShapes, mask_token included), deterministically from seed. Scales keep activations
// O(1) through the blocks: linear and convolution weights N(0, 1/fan_in), biases N(0, 0.02²),
// LayerNorm gains 1+N(0, 0.1²) and offsets N(0, 0.1²), LayerScale layerscale_value·(1+N(0, 0.1²)),
// tokens and position embeddings N(0, 0.1²).
func RandomArrays(c HFConfig, seed uint64) map[string]*Array {
	rng := rand.New(rand.NewPCG(seed, 0x64696e6f7632))
	shapes := c.HFTensorShapes()
	out := make(map[string]*Array, len(shapes))
	for _, name := range sortedKeys(shapes) { // sorted: the draw order must not depend on map order
		shape := shapes[name]
		a := NewArray(shape...)
		mean, std := 0.0, 0.1
		switch {
		case strings.HasSuffix(name, ".weight") && len(shape) >= 2: // Linear [out, in] or conv [D, C, P, P]
			std = 1 / math.Sqrt(float64(a.Size()/shape[0]))
		case strings.HasSuffix(name, ".bias") && !strings.Contains(name, "norm"):
			std = 0.02
		case strings.Contains(name, "norm") && strings.HasSuffix(name, ".weight"):
			mean = 1
		case strings.Contains(name, "layer_scale"):
			mean, std = c.LayerScaleValue, 0.1*math.Abs(c.LayerScaleValue)
		}
		for i := range a.Data {
			a.Data[i] = float32(mean + std*rng.NormFloat64())
		}
		out[name] = a
	}
	return out
}

// Generate writes a random checkpoint of config c into dir (created if needed) in exact HF
// layout: config.json and model.safetensors. LoadDir reads it back.
func Generate(dir string, c HFConfig, seed uint64) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("dinov2 generate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dinov2 generate: %w", err)
	}
	js, err := c.MarshalConfig()
	if err != nil {
		return fmt.Errorf("dinov2 generate: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, configFileName), append(js, '\n')); err != nil {
		return fmt.Errorf("dinov2 generate: %w", err)
	}
	meta := map[string]string{"format": "pt", "generator": fmt.Sprintf("blockrec dinov2.Generate seed %d", seed)}
	return WriteSafetensors(filepath.Join(dir, weightsFileName), RandomArrays(c, seed), meta)
}
