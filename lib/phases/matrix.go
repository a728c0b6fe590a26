package phases

import (
	"fmt"
	"math"
)

// SymmetryTolerance is the relative tolerance of ValidateMatrix's symmetry check: |W_ij - W_ji|
// may be at most SymmetryTolerance times the largest |W_ab| of the matrix (or times 1 if that is
// smaller than 1).
const SymmetryTolerance = 1e-6

// ValidateMatrix checks that w is a usable dissimilarity matrix: non-empty, square, finite (no NaN
// or ±Inf) and symmetric within SymmetryTolerance. The diagonal is ignored by every function of
// this package. The error names the first offending entry (1-indexed row and column).
func ValidateMatrix(w [][]float64) error {
	n := len(w)
	if n == 0 {
		return fmt.Errorf("matrix is empty")
	}
	maxAbs := 1.0
	for i, row := range w {
		if len(row) != n {
			return fmt.Errorf("matrix is not square: %d rows but row %d has %d values", n, i+1, len(row))
		}
		for j, x := range row {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("matrix has a non-finite value %v at row %d, column %d", x, i+1, j+1)
			}
			maxAbs = max(maxAbs, math.Abs(x))
		}
	}
	tol := SymmetryTolerance * maxAbs
	for i := range n {
		for j := i + 1; j < n; j++ {
			if math.Abs(w[i][j]-w[j][i]) > tol {
				return fmt.Errorf("matrix is not symmetric: entry (%d,%d)=%g but (%d,%d)=%g",
					i+1, j+1, w[i][j], j+1, i+1, w[j][i])
			}
		}
	}
	return nil
}

// ValidateDissimilarity is ValidateMatrix plus the check that no off-diagonal entry is negative:
// a dissimilarity is a distance-like quantity, and a max-cut of negative weights is not a phase
// split (the diagonal is ignored, as everywhere in this package).
func ValidateDissimilarity(w [][]float64) error {
	if err := ValidateMatrix(w); err != nil {
		return err
	}
	for i, row := range w {
		for j, x := range row {
			if i != j && x < 0 {
				return fmt.Errorf("matrix has a negative dissimilarity %g at row %d, column %d (dissimilarities are >= 0; did you pass a similarity?)", x, i+1, j+1)
			}
		}
	}
	return nil
}

// TotalWeight is the sum of the upper triangle, ΣW/2 for a symmetric matrix with zero diagonal:
// the total_W of the released notebook.
func TotalWeight(w [][]float64) float64 {
	t := 0.0
	for i := range w {
		for j := i + 1; j < len(w); j++ {
			t += w[i][j]
		}
	}
	return t
}

// CutValue is the total dissimilarity across phases: the sum of W_ij over pairs i<j in different
// phases. For a two-phase partition it is the max-cut objective.
func CutValue(w [][]float64, p Partition) float64 {
	lab := p.Labels()
	c := 0.0
	for i := range lab {
		for j := i + 1; j < len(lab); j++ {
			if lab[i] != lab[j] {
				c += w[i][j]
			}
		}
	}
	return c
}

// WithinValue is the total dissimilarity within phases: the sum of W_ij over pairs i<j in the
// same phase. CutValue + WithinValue = TotalWeight.
func WithinValue(w [][]float64, p Partition) float64 {
	lab := p.Labels()
	c := 0.0
	for i := range lab {
		for j := i + 1; j < len(lab); j++ {
			if lab[i] == lab[j] {
				c += w[i][j]
			}
		}
	}
	return c
}

// checkPartition validates w and that p partitions its rows.
func checkPartition(w [][]float64, p Partition) error {
	if err := ValidateMatrix(w); err != nil {
		return err
	}
	return p.Validate(len(w))
}
