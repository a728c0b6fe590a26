package phases

import (
	"fmt"
	"math"
)

// ContiguousResult is an optimal contiguous segmentation.
type ContiguousResult struct {
	Partition Partition // k contiguous phases covering 0..n−1 in order
	Cut       float64   // dissimilarity across phases (maximised)
	Within    float64   // dissimilarity within phases (minimised); Cut + Within = TotalWeight
}

// Contiguous splits the rows of w into k contiguous phases maximising the total dissimilarity
// across phases, i.e. minimising the summed dissimilarity W_ij over pairs i<j inside the same
// phase. Exact, by dynamic programming in O(k·n²) time and O(k·n + n²) memory. Among equally good
// segmentations it returns the one whose phase boundaries come first (earliest-ending first phase,
// then the same for the rest).
func Contiguous(w [][]float64, k int) (*ContiguousResult, error) {
	return ContiguousMinSize(w, k, 1)
}

// ContiguousMinSize is Contiguous with every phase holding at least minSize layers.
func ContiguousMinSize(w [][]float64, k, minSize int) (*ContiguousResult, error) {
	if err := ValidateMatrix(w); err != nil {
		return nil, err
	}
	n := len(w)
	minSize = max(minSize, 1)
	if k < 1 {
		return nil, fmt.Errorf("phases: k = %d, need k ≥ 1", k)
	}
	if k*minSize > n {
		return nil, fmt.Errorf("phases: cannot split %d layers into %d phases of at least %d", n, k, minSize)
	}
	seg := segmentCosts(w)
	// f[m][j]: least within-cost of splitting rows [0, j) into m phases; from[m][j] = start of the
	// last phase.
	inf := math.Inf(1)
	f := newSquare2(k+1, n+1)
	from := make([][]int, k+1)
	for m := range f {
		from[m] = make([]int, n+1)
		for j := range f[m] {
			f[m][j] = inf
		}
	}
	f[0][0] = 0
	for m := 1; m <= k; m++ {
		for j := m * minSize; j <= n; j++ {
			for i := (m - 1) * minSize; i <= j-minSize; i++ {
				if f[m-1][i] == inf {
					continue
				}
				if c := f[m-1][i] + seg[i][j]; c < f[m][j] {
					f[m][j], from[m][j] = c, i
				}
			}
		}
	}
	p := make(Partition, k)
	j := n
	for m := k; m >= 1; m-- {
		i := from[m][j]
		p[m-1] = seq(i, j)
		j = i
	}
	within := WithinValue(w, p)
	return &ContiguousResult{Partition: p, Cut: TotalWeight(w) - within, Within: within}, nil
}

// segmentCosts returns seg[a][b] = Σ_{a ≤ i < j < b} W_ij for 0 ≤ a ≤ b ≤ n.
func segmentCosts(w [][]float64) [][]float64 {
	n := len(w)
	seg := newSquare2(n+1, n+1)
	for b := 1; b <= n; b++ {
		// Adding row b−1 to [a, b−1) adds Σ_{i=a}^{b−2} W_{i,b−1}.
		col := 0.0
		for a := b - 1; a >= 0; a-- {
			if a < b-1 {
				col += w[a][b-1]
			}
			seg[a][b] = seg[a][b-1] + col
		}
	}
	return seg
}

// ContiguousForEps applies the released stopping rule to contiguous segmentation: starting from
// k = 1, it moves to k+1 phases while the optimal cut grows by more than eps = epsFrac ×
// TotalWeight(W), and returns the last segmentation accepted.
func ContiguousForEps(w [][]float64, epsFrac float64) (*ContiguousResult, error) {
	if epsFrac < 0 || math.IsNaN(epsFrac) {
		return nil, fmt.Errorf("phases: epsFrac %v must be ≥ 0", epsFrac)
	}
	cur, err := Contiguous(w, 1)
	if err != nil {
		return nil, err
	}
	eps := epsFrac * TotalWeight(w)
	for k := 2; k <= len(w); k++ {
		next, err := Contiguous(w, k)
		if err != nil {
			return nil, err
		}
		if next.Cut-cur.Cut <= eps {
			break
		}
		cur = next
	}
	return cur, nil
}
