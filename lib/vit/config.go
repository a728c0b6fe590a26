package vit

import (
	"errors"
	"fmt"
)

// MLPKind selects the block's feed-forward network.
type MLPKind string

const (
	// MLPGELU is Linear(D→H) → GELU → Linear(H→D).
	MLPGELU MLPKind = "gelu"
	// MLPSwiGLU is Linear(D→H) ⊙ SiLU(Linear(D→H)) → Linear(H→D), as DINOv2-giant and Raptor use.
	MLPSwiGLU MLPKind = "swiglu"
)

// HeadInput selects what the classification head reads.
type HeadInput string

const (
	// HeadCLS reads the normalised CLS token (D features).
	HeadCLS HeadInput = "cls"
	// HeadCLSMeanPatch reads [CLS, mean of patch tokens] (2D features), as DINOv2's linear probes do.
	HeadCLSMeanPatch HeadInput = "cls+meanpatch"
)

// Config describes a ViT. The zero value is not valid; start from Small or Tiny.
type Config struct {
	ImageSize int // side of the square training image; the position-embedding grid is ImageSize/PatchSize
	PatchSize int
	Channels  int

	Dim, Depth, Heads int
	MLPHidden         int     // hidden width of the MLP (for SwiGLU: the width of each of the two branches)
	MLP               MLPKind // GELU or SwiGLU
	ApproximateGELU   bool    // tanh approximation instead of the exact erf GELU

	LayerScaleInit float64 // initial LayerScale γ; 0 disables LayerScale
	Registers      int     // register tokens, inserted after CLS; they get no position embedding
	LayerNormEps   float64

	// DropPath is the uniform stochastic-depth rate: every residual branch of every block is dropped
	// per sample with this probability during training (and rescaled by 1/(1-p) when kept).
	DropPath float64

	NumClasses int       // 0: no head
	HeadInput  HeadInput // what the head reads

	// PosEmbedAntialias selects antialiased bicubic interpolation of the position embeddings when
	// the input grid differs from the training grid (HF DINOv2-with-registers uses it).
	PosEmbedAntialias bool
}

// Tiny is a CPU-sized classifier config for 32×32 images: dim 64, 8 layers, patch 8 (17 tokens).
func Tiny(numClasses int) Config {
	return Config{ImageSize: 32, PatchSize: 8, Channels: 3, Dim: 64, Depth: 8, Heads: 4, MLPHidden: 256,
		MLP: MLPGELU, LayerNormEps: 1e-6, NumClasses: numClasses, HeadInput: HeadCLS}
}

// Small is the reference config of the benchmarks: dim 192, 6 layers, 3 heads, patch 4 (65 tokens).
func Small(numClasses int) Config {
	return Config{ImageSize: 32, PatchSize: 4, Channels: 3, Dim: 192, Depth: 6, Heads: 3, MLPHidden: 768,
		MLP: MLPGELU, LayerNormEps: 1e-6, NumClasses: numClasses, HeadInput: HeadCLS}
}

// Grid is the side of the training patch grid.
func (c Config) Grid() int { return c.ImageSize / c.PatchSize }

// NumPatches is the number of patch tokens at the training image size.
func (c Config) NumPatches() int { return c.Grid() * c.Grid() }

// NumTokens is 1 + registers + patches at the training image size.
func (c Config) NumTokens() int { return 1 + c.Registers + c.NumPatches() }

// HeadDim is Dim / Heads.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// Validate reports the first inconsistency in the config.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.PatchSize > 0 && c.ImageSize > 0 && c.ImageSize%c.PatchSize == 0,
		"image size %d must be a positive multiple of patch size %d", c.ImageSize, c.PatchSize)
	check(c.Channels > 0, "channels must be positive, got %d", c.Channels)
	check(c.Dim > 0 && c.Depth > 0 && c.Heads > 0, "dim, depth and heads must be positive, got %d, %d, %d", c.Dim, c.Depth, c.Heads)
	check(c.Heads > 0 && c.Dim%c.Heads == 0, "dim %d must be divisible by heads %d", c.Dim, c.Heads)
	check(c.MLPHidden > 0, "MLP hidden width must be positive, got %d", c.MLPHidden)
	check(c.MLP == MLPGELU || c.MLP == MLPSwiGLU, "unknown MLP kind %q (want %q or %q)", c.MLP, MLPGELU, MLPSwiGLU)
	check(c.DropPath >= 0 && c.DropPath < 1, "drop-path rate must be in [0, 1), got %g", c.DropPath)
	check(c.Registers >= 0, "registers must be >= 0, got %d", c.Registers)
	check(c.LayerNormEps > 0, "layer-norm eps must be positive, got %g", c.LayerNormEps)
	check(c.NumClasses >= 0, "classes must be >= 0, got %d", c.NumClasses)
	check(c.NumClasses == 0 || c.HeadInput == HeadCLS || c.HeadInput == HeadCLSMeanPatch,
		"unknown head input %q", c.HeadInput)
	return errors.Join(errs...)
}
