package phases

import "github.com/blockrec/blockrec/lib/hidden"

// CLSMeanPatch accumulates the released notebook's dissimilarity: each layer of an image is
// represented by two vectors, the CLS token and the mean of the patch tokens (registers
// excluded), and
//
//	W_ij = mean over images of Σ_{t ∈ {CLS, mean-patch}} (1 − cos(a_i^t, a_j^t)),
//
// so 0 ≤ W_ij ≤ 4, zero diagonal. Memory: O(L²) plus 2·L·D scratch.
type CLSMeanPatch struct {
	g   shapeGuard
	sum [][]float64
	// keep, when set by KeepImages, makes Add also store each image's own matrix (upper
	// triangle, row-major), for bootstrapping over images (BootstrapPhases).
	keep     bool
	perImage [][]float64
	cls      [][]float64 // scratch: unit CLS vector per row
	mp       [][]float64 // scratch: unit mean-patch vector per row
}

// NewCLSMeanPatch returns an empty accumulator. opts.Layout must have NumPatches > 0.
func NewCLSMeanPatch(opts SimilarityOptions) *CLSMeanPatch {
	return &CLSMeanPatch{g: shapeGuard{opts: opts}}
}

// Add folds in one image.
func (a *CLSMeanPatch) Add(s *hidden.States) error {
	if a.g.opts.Layout.NumPatches <= 0 {
		return errNoPatches
	}
	first, rows, err := a.g.check(s)
	if err != nil {
		return err
	}
	if a.sum == nil {
		a.sum = newSquare(rows)
		a.cls, a.mp = newSquare2(rows, s.Dim), newSquare2(rows, s.Dim)
	}
	pFrom, pTo := a.g.opts.Layout.Patches()
	for r := range rows {
		l := first + r
		unit(a.cls[r], s.Token(l, a.g.opts.Layout.CLS()))
		mp := a.mp[r]
		clear(mp)
		for t := pFrom; t < pTo; t++ {
			for d, x := range s.Token(l, t) {
				mp[d] += float64(x)
			}
		}
		normalize(mp) // the mean's direction is the sum's direction
	}
	var own []float64
	if a.keep {
		own = make([]float64, 0, rows*(rows-1)/2)
	}
	for i := range rows {
		for j := i + 1; j < rows; j++ {
			d := (1 - cos(a.cls[i], a.cls[j])) + (1 - cos(a.mp[i], a.mp[j]))
			a.sum[i][j] += d
			if a.keep {
				own = append(own, d)
			}
		}
	}
	if a.keep {
		a.perImage = append(a.perImage, own)
	}
	a.g.images++
	return nil
}

// Matrix returns W (nil before the first Add).
func (a *CLSMeanPatch) Matrix() [][]float64 {
	if a.g.images == 0 {
		return nil
	}
	return symmetricMean(a.sum, float64(a.g.images))
}

// Images is the number of images added.
func (a *CLSMeanPatch) Images() int { return a.g.images }

// KeepImages makes every later Add also keep that image's own matrix (L(L−1)/2 numbers per
// image), so that PerImage can be bootstrapped over images. Call it before the first Add.
func (a *CLSMeanPatch) KeepImages() { a.keep = true }

// PerImage returns the images' own matrices as kept since KeepImages (nil if not kept).
func (a *CLSMeanPatch) PerImage() *PerImage {
	if !a.keep || len(a.perImage) == 0 {
		return nil
	}
	return &PerImage{Rows: len(a.sum), Upper: a.perImage}
}

func newSquare2(r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}
