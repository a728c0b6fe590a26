package phases

import (
	"errors"

	"github.com/blockrec/blockrec/lib/hidden"
)

var errNoPatches = errors.New("phases: CLSMeanPatch needs a Layout with NumPatches > 0")

// TokenCosine accumulates the per-token cosine dissimilarity: W_ij is the mean, over images and
// over the selected tokens (SimilarityOptions.Tokens, default all, CLS and registers included),
// of 1 − cos(a_i^t, a_j^t). 0 ≤ W_ij ≤ 2. Memory: O(L²) plus L·T·D scratch.
type TokenCosine struct {
	g     shapeGuard
	sum   [][]float64
	units [][][]float64 // scratch: [row][token] unit vectors
}

// NewTokenCosine returns an empty accumulator.
func NewTokenCosine(opts SimilarityOptions) *TokenCosine {
	return &TokenCosine{g: shapeGuard{opts: opts}}
}

// Add folds in one image.
func (a *TokenCosine) Add(s *hidden.States) error {
	first, rows, err := a.g.check(s)
	if err != nil {
		return err
	}
	tokens := a.g.tokenList()
	if a.sum == nil {
		a.sum = newSquare(rows)
		a.units = make([][][]float64, rows)
		for r := range a.units {
			a.units[r] = newSquare2(len(tokens), s.Dim)
		}
	}
	for r := range rows {
		for k, t := range tokens {
			unit(a.units[r][k], s.Token(first+r, t))
		}
	}
	for i := range rows {
		for j := i + 1; j < rows; j++ {
			acc := 0.0
			for k := range tokens {
				acc += 1 - cos(a.units[i][k], a.units[j][k])
			}
			a.sum[i][j] += acc
		}
	}
	a.g.images++
	return nil
}

// Matrix returns W (nil before the first Add).
func (a *TokenCosine) Matrix() [][]float64 {
	if a.g.images == 0 {
		return nil
	}
	return symmetricMean(a.sum, float64(a.g.images*len(a.g.tokenList())))
}

// Images is the number of images added.
func (a *TokenCosine) Images() int { return a.g.images }
