package phases

import (
	"math"

	"github.com/blockrec/blockrec/lib/hidden"
)

// CKA accumulates linear centred kernel alignment between layers, with every selected token of
// every image as one sample (N = images × tokens samples of dimension D per layer):
//
//	CKA(X_i, X_j) = ‖X̃_iᵀ X̃_j‖²_F / (‖X̃_iᵀ X̃_i‖_F ‖X̃_jᵀ X̃_j‖_F),
//
// X̃ being X with its column means over all N samples removed. Matrix returns the dissimilarity
// 1 − CKA; Similarity returns CKA itself.
//
// It is exact and streaming: it keeps, for every pair of rows i ≤ j, the D×D cross-product
// Σ_n (x_in − r_i)(x_jn − r_j)ᵀ and the column sums, where the shift r_i (the first image's mean
// token at row i) only improves the numerics. Memory is L(L+1)/2 · D² float64s (for ViT-B, L=12,
// D=768: 78 × 768² × 8 B ≈ 368 MB) and each image costs L(L+1)/2 · T · D² multiply-adds, which is
// slow in pure Go for thousands of images with all 261 tokens: select fewer tokens
// (SimilarityOptions.Tokens) or fewer images. A row with zero variance gives NaN.
type CKA struct {
	g     shapeGuard
	rows  int
	shift [][]float64   // [row][D]
	sums  [][]float64   // [row][D] Σ (x − r)
	cross [][][]float64 // [i][j−i] D×D row-major, i ≤ j
	n     float64
	y     [][][]float64 // scratch: [row][token][D] shifted samples
}

// NewCKA returns an empty accumulator.
func NewCKA(opts SimilarityOptions) *CKA {
	return &CKA{g: shapeGuard{opts: opts}}
}

// Add folds in one image.
func (a *CKA) Add(s *hidden.States) error {
	first, rows, err := a.g.check(s)
	if err != nil {
		return err
	}
	tokens := a.g.tokenList()
	D := s.Dim
	if a.cross == nil {
		a.rows = rows
		a.shift, a.sums = newSquare2(rows, D), newSquare2(rows, D)
		a.cross = make([][][]float64, rows)
		a.y = make([][][]float64, rows)
		for i := range rows {
			a.cross[i] = newSquare2(rows-i, D*D)
			a.y[i] = newSquare2(len(tokens), D)
			for _, t := range tokens {
				for d, x := range s.Token(first+i, t) {
					a.shift[i][d] += float64(x)
				}
			}
			for d := range a.shift[i] {
				a.shift[i][d] /= float64(len(tokens))
			}
		}
	}
	for i := range rows {
		for k, t := range tokens {
			y := a.y[i][k]
			for d, x := range s.Token(first+i, t) {
				y[d] = float64(x) - a.shift[i][d]
				a.sums[i][d] += y[d]
			}
		}
	}
	for i := range rows {
		for j := i; j < rows; j++ {
			c := a.cross[i][j-i]
			for k := range tokens {
				yi, yj := a.y[i][k], a.y[j][k]
				for p, u := range yi {
					if u == 0 {
						continue
					}
					row := c[p*D : (p+1)*D]
					for q, v := range yj {
						row[q] += u * v
					}
				}
			}
		}
	}
	a.n += float64(len(tokens))
	a.g.images++
	return nil
}

// hsic returns ‖X̃_iᵀ X̃_j‖²_F for i ≤ j.
func (a *CKA) hsic(i, j int) float64 {
	c := a.cross[i][j-i]
	si, sj := a.sums[i], a.sums[j]
	D := len(si)
	total := 0.0
	for p := range D {
		for q := range D {
			v := c[p*D+q] - si[p]*sj[q]/a.n
			total += v * v
		}
	}
	return total
}

// Similarity returns the CKA matrix (ones on the diagonal), or nil before the first Add.
func (a *CKA) Similarity() [][]float64 {
	if a.g.images == 0 {
		return nil
	}
	self := make([]float64, a.rows)
	for i := range a.rows {
		self[i] = math.Sqrt(a.hsic(i, i))
	}
	m := newSquare(a.rows)
	for i := range a.rows {
		m[i][i] = 1
		for j := i + 1; j < a.rows; j++ {
			m[i][j] = a.hsic(i, j) / (self[i] * self[j])
			m[j][i] = m[i][j]
		}
	}
	return m
}

// Matrix returns 1 − CKA (zero diagonal), or nil before the first Add.
func (a *CKA) Matrix() [][]float64 {
	m := a.Similarity()
	for i := range m {
		for j := range m[i] {
			if i == j {
				m[i][j] = 0
			} else {
				m[i][j] = 1 - m[i][j]
			}
		}
	}
	return m
}

// Images is the number of images added.
func (a *CKA) Images() int { return a.g.images }
