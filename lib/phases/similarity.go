package phases

import (
	"fmt"
	"math"

	"github.com/blockrec/blockrec/lib/hidden"
)

// SimilarityOptions configures the similarity accumulators.
type SimilarityOptions struct {
	// Layout of the tokens. CLSMeanPatch needs it (to find the CLS token and the patch tokens,
	// registers excluded); the other accumulators only use it to check the token count when it
	// is non-zero.
	Layout hidden.Layout

	// IncludeEmbedding makes row 0 of the matrix the embedding output (hidden layer 0). By
	// default (false), as in the paper, layer 0 is skipped and row i is the output of block i+1.
	IncludeEmbedding bool

	// Tokens lists the token indices compared by TokenCosine and CKA; nil means all tokens.
	// CLSMeanPatch ignores it.
	Tokens []int
}

// Accumulator is a layer-by-layer dissimilarity matrix computed over a stream of images: Add one
// image's hidden states at a time, then read Matrix. Only O(L²) numbers (O(L²·D²) for CKA) are
// kept, never the activations. Accumulators are not safe for concurrent use.
type Accumulator interface {
	// Add folds in the hidden states of one image. All images must have the same shape.
	Add(s *hidden.States) error
	// Matrix returns the dissimilarity matrix (rows = layers, see SimilarityOptions), or nil
	// before the first Add.
	Matrix() [][]float64
	// Images is the number of images added.
	Images() int
}

// shapeGuard remembers the shape of the first image and checks later ones against it.
type shapeGuard struct {
	opts                SimilarityOptions
	layers, tokens, dim int
	images              int
}

// check validates s and returns the first hidden layer used and the number of rows.
func (g *shapeGuard) check(s *hidden.States) (first, rows int, err error) {
	if err := s.Validate(); err != nil {
		return 0, 0, err
	}
	if g.images == 0 {
		g.layers, g.tokens, g.dim = s.Layers, s.Tokens, s.Dim
	} else if s.Layers != g.layers || s.Tokens != g.tokens || s.Dim != g.dim {
		return 0, 0, fmt.Errorf("phases: image %d has shape %dx%dx%d, earlier images %dx%dx%d",
			g.images+1, s.Layers, s.Tokens, s.Dim, g.layers, g.tokens, g.dim)
	}
	if l := g.opts.Layout; l.NumPatches > 0 && l.NumTokens() != s.Tokens {
		return 0, 0, fmt.Errorf("phases: layout has %d tokens (CLS + %d registers + %d patches), states have %d",
			l.NumTokens(), l.NumRegisters, l.NumPatches, s.Tokens)
	}
	if g.opts.Tokens != nil && len(g.opts.Tokens) == 0 {
		return 0, 0, fmt.Errorf("phases: SimilarityOptions.Tokens is empty (use nil for all tokens)")
	}
	for _, t := range g.opts.Tokens {
		if t < 0 || t >= s.Tokens {
			return 0, 0, fmt.Errorf("phases: token index %d outside 0..%d", t, s.Tokens-1)
		}
	}
	if !g.opts.IncludeEmbedding {
		first = 1
	}
	rows = s.Layers - first
	if rows < 1 {
		return 0, 0, fmt.Errorf("phases: states have %d layers, nothing left after skipping the embedding", s.Layers)
	}
	return first, rows, nil
}

// tokenList returns the tokens to compare.
func (g *shapeGuard) tokenList() []int {
	if g.opts.Tokens != nil {
		return g.opts.Tokens
	}
	return seq(0, g.tokens)
}

// unit writes v/‖v‖ into dst (float64); a zero vector stays zero, so its cosine with anything
// is 0 (dissimilarity 1), as with a clamped denominator.
func unit(dst []float64, v []float32) {
	s := 0.0
	for i, x := range v {
		dst[i] = float64(x)
		s += dst[i] * dst[i]
	}
	if s == 0 {
		return
	}
	inv := 1 / math.Sqrt(s)
	for i := range dst {
		dst[i] *= inv
	}
}

func normalize(v []float64) {
	s := dot(v, v)
	if s == 0 {
		return
	}
	inv := 1 / math.Sqrt(s)
	for i := range v {
		v[i] *= inv
	}
}

// cos is the dot product of two unit (or zero) vectors, clamped to [−1, 1] against rounding.
func cos(a, b []float64) float64 { return max(-1, min(1, dot(a, b))) }

func dot(a, b []float64) float64 {
	s := 0.0
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

func newSquare(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}

// symmetricMean returns sum/count, mirrored from the upper triangle, zero diagonal.
func symmetricMean(sum [][]float64, count float64) [][]float64 {
	n := len(sum)
	m := newSquare(n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			m[i][j] = sum[i][j] / count
			m[j][i] = m[i][j]
		}
	}
	return m
}
