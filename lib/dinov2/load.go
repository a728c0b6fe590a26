package dinov2

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/vit"
)

// Model is a loaded DINOv2 checkpoint: its HF config, the equivalent lib/vit model and the
// converted weights, ready to be installed into a GoMLX context.
type Model struct {
	Source  string // what was asked for: a folder or a hub id
	Dir     string // the folder config.json and model.safetensors were read from
	HF      HFConfig
	ViT     *vit.Model
	Weights map[string]*tensors.Tensor // keyed as vit.Config.WeightShapes
	Format  string                     // FormatHF or FormatTimm: the tensor layout read

	// Preprocess is the model's own evaluation preprocessing (preprocessor_config.json for HF,
	// pretrained_cfg for timm) when HasPreprocess; LoadDir fills it.
	Preprocess    data.Preprocessor
	HasPreprocess bool
}

// Tensor layouts LoadDir reads.
const (
	FormatHF   = "hf"   // transformers' names (Dinov2Model, Dinov2WithRegistersModel, ViTModel, DeiTModel)
	FormatTimm = "timm" // timm's DINOv2 names (blocks.N.attn.qkv, blocks.N.ls1.gamma, ...)
)

// Scope is the context scope the helpers of this package install the weights under.
const Scope = "dinov2"

// LoadDir loads config.json and model.safetensors from a folder in HF layout (config.json with a
// model_type; preprocessor_config.json read if present) or in timm's (config.json with an
// architecture and pretrained_cfg; DINOv2 models only).
func LoadDir(dir string) (*Model, error) {
	cfgPath := filepath.Join(dir, configFileName)
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("dinov2 config: %w", err)
	}
	if isTimmConfig(b) {
		return loadTimmDir(dir, cfgPath, b)
	}
	cfg, err := ParseHFConfig(b)
	if err != nil {
		return nil, fmt.Errorf("dinov2 config %s: %w", cfgPath, err)
	}
	path := filepath.Join(dir, weightsFileName)
	arrays, _, err := ReadSafetensors(path)
	if err != nil {
		return nil, err
	}
	m, err := FromArrays(path, cfg, arrays)
	if err != nil {
		return nil, err
	}
	if m.Preprocess, m.HasPreprocess, err = ReadPreprocessing(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// FromArrays builds a Model from a config and HF-named tensors (name is used in errors).
func FromArrays(name string, cfg HFConfig, arrays map[string]*Array) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dinov2 %s: %w", name, err)
	}
	arrays = stripModelPrefix(cfg, arrays)
	for _, key := range sortedKeys(arrays) {
		if i, v, bad := firstNonFinite(arrays[key].Data); bad {
			return nil, fmt.Errorf("dinov2 %s: tensor %q has the non-finite value %g at element %d: the checkpoint is corrupt or diverged", name, key, v, i)
		}
	}
	weights, err := ConvertWeights(name, cfg, arrays)
	if err != nil {
		return nil, err
	}
	m, err := vit.New(cfg.ViT())
	if err != nil {
		return nil, fmt.Errorf("dinov2 %s: %w", name, err)
	}
	return &Model{Source: name, Dir: filepath.Dir(name), HF: cfg, ViT: m, Weights: weights, Format: FormatHF}, nil
}

// Config is the lib/vit config of the model.
func (m *Model) Config() vit.Config { return m.ViT.Config }

// Layout is the token layout for h×w-pixel images.
func (m *Model) Layout(h, w int) hidden.Layout { return m.ViT.Layout(h, w) }

// Install stores the weights as variables under ctx's scope (use ctx.In(Scope) to follow this
// package's convention), where m.ViT's methods find them.
func (m *Model) Install(ctx *context.Context) error {
	// vit.Config.SetWeights creates a missing variable with the given tensor and then calls
	// SetValue with that same tensor, which finalizes it (GoMLX frees the previous value). Creating
	// the variables first, holding placeholders, makes SetValue replace the placeholder instead.
	for name, t := range m.Weights {
		sc := ctx
		parts := strings.Split(name, "/")
		for _, p := range parts[:len(parts)-1] {
			sc = sc.In(p)
		}
		leaf := parts[len(parts)-1]
		if sc.GetVariable(leaf) == nil {
			sc.Checked(false).VariableWithValue(leaf, tensors.FromShape(t.Shape()))
		}
	}
	if err := m.ViT.Config.SetWeights(ctx, m.Weights); err != nil {
		return fmt.Errorf("dinov2 %s: %w", m.Source, err)
	}
	return nil
}

// String describes the model in one line.
func (m *Model) String() string {
	c := m.ViT.Config
	return fmt.Sprintf("%s (%s): dim %d, %d layers, %d heads, patch %d, %d registers, %s MLP %d, trained at %d px",
		m.Source, m.HF.ModelType, c.Dim, c.Depth, c.Heads, c.PatchSize, c.Registers, c.MLP, c.MLPHidden, c.ImageSize)
}

// firstNonFinite finds the first NaN or ±Inf of data.
func firstNonFinite(data []float32) (int, float32, bool) {
	for i, v := range data {
		if v != v || math.IsInf(float64(v), 0) {
			return i, v, true
		}
	}
	return 0, 0, false
}
