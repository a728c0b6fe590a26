package phases

import (
	"fmt"
	"math/bits"
)

// DefaultEnumerationLimit is the largest cluster MaxCut solves by enumerating all 2^(n−1)
// bipartitions; larger clusters use branch and bound. Both are exact.
const DefaultEnumerationLimit = 20

// maxEnumeration is the largest cluster enumeration accepts at all (2^(n−1) must fit in a uint64
// and finish in reasonable time).
const maxEnumeration = 40

// MaxCutOptions selects the exact max-cut method.
type MaxCutOptions struct {
	// EnumerationLimit: clusters of at most this many vertices are solved by Gray-code
	// enumeration of all bipartitions (first vertex pinned, O(2^(n−1)·n)), larger ones by
	// branch and bound (Russian-doll search). 0 means DefaultEnumerationLimit; a negative value
	// always uses branch and bound.
	EnumerationLimit int
}

func (o MaxCutOptions) limit() int {
	switch {
	case o.EnumerationLimit == 0:
		return DefaultEnumerationLimit
	case o.EnumerationLimit > maxEnumeration:
		return maxEnumeration
	}
	return o.EnumerationLimit
}

// MaxCut returns an exact maximum cut of the sub-graph of w induced by vertices (all rows of w
// when vertices is nil): the bipartition (a, b) maximising the sum of w[u][v] over u ∈ a, v ∈ b.
// a holds vertices[0]; both sides are sorted; b is empty when no cut beats 0 (e.g. a single
// vertex). The diagonal of w is ignored. w must be symmetric (see ValidateMatrix).
func MaxCut(w [][]float64, vertices []int, opts MaxCutOptions) (a, b []int, value float64) {
	if vertices == nil {
		vertices = seq(0, len(w))
	}
	m := len(vertices)
	if m == 0 {
		return nil, nil, 0
	}
	sub := subMatrix(w, vertices)
	var inB []bool
	if m <= opts.limit() {
		inB = maxCutEnumerate(sub, m)
	} else {
		inB = maxCutBranchAndBound(sub, m)
	}
	if inB[0] { // keep vertices[0] on side A
		for k := range inB {
			inB[k] = !inB[k]
		}
	}
	for k, v := range vertices {
		if inB[k] {
			b = append(b, v)
		} else {
			a = append(a, v)
		}
	}
	a, b = sortedCopy(a), sortedCopy(b)
	return a, b, cutOf(sub, m, inB)
}

// subMatrix returns the m×m sub-matrix on vertices, row-major, with a zero diagonal.
func subMatrix(w [][]float64, vertices []int) []float64 {
	m := len(vertices)
	sub := make([]float64, m*m)
	for i, u := range vertices {
		for j, v := range vertices {
			if i != j {
				sub[i*m+j] = w[u][v]
			}
		}
	}
	return sub
}

// cutOf computes the cut value of a bipartition directly.
func cutOf(sub []float64, m int, inB []bool) float64 {
	c := 0.0
	for i := range m {
		for j := i + 1; j < m; j++ {
			if inB[i] != inB[j] {
				c += sub[i*m+j]
			}
		}
	}
	return c
}

// maxCutEnumerate visits all 2^(m−1) bipartitions with vertex 0 on side A in Gray-code order,
// flipping one vertex per step and updating the cut in O(m). Ties keep the first found.
func maxCutEnumerate(sub []float64, m int) []bool {
	if m > maxEnumeration {
		panic(fmt.Sprintf("phases: enumeration of %d vertices", m))
	}
	// same[v]: weight from v to vertices on its own side; deg[v]: to all others.
	same := make([]float64, m)
	deg := make([]float64, m)
	sign := make([]float64, m) // +1 on side A, −1 on side B
	for v := range m {
		for u := range m {
			deg[v] += sub[v*m+u]
		}
		same[v] = deg[v]
		sign[v] = 1
	}
	cut, best := 0.0, 0.0
	var state, bestState uint64
	steps := uint64(1) << (m - 1)
	for g := uint64(1); g < steps; g++ {
		v := bits.TrailingZeros64(g) + 1
		cut += 2*same[v] - deg[v]
		f := sign[v]
		row := sub[v*m : (v+1)*m]
		for u, x := range row {
			same[u] -= f * sign[u] * x
		}
		same[v] = deg[v] - same[v] // row[v] is 0, so the loop left same[v] unchanged
		sign[v] = -f
		state ^= 1 << v
		if cut > best {
			best, bestState = cut, state
		}
	}
	inB := make([]bool, m)
	for v := range m {
		inB[v] = bestState&(1<<v) != 0
	}
	return inB
}

func sortedCopy(s []int) []int {
	c := append([]int(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}
