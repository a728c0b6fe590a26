package phases

import (
	"math"
	"math/rand/v2"
	"slices"
)

// randSym returns an n×n symmetric matrix with zero diagonal and entries uniform in [lo, hi).
func randSym(n int, lo, hi float64, rng *rand.Rand) [][]float64 {
	w := newSquare(n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			w[i][j] = lo + (hi-lo)*rng.Float64()
			w[j][i] = w[i][j]
		}
	}
	return w
}

// layerLike returns a matrix shaped like a ViT's: dissimilarity grows with depth distance
// (smooth drift), plus a jump across each planted boundary, plus symmetric noise.
func layerLike(sizes []int, drift, jump, noise float64, rng *rand.Rand) [][]float64 {
	p, _ := FromSizes(sizes)
	lab := p.Labels()
	n := len(lab)
	w := newSquare(n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := drift*float64(j-i)/float64(n) + jump*float64(lab[j]-lab[i]) + noise*rng.Float64()
			w[i][j], w[j][i] = v, v
		}
	}
	return w
}

// bruteMaxCut tries all 2^m sign assignments of the vertices (nothing pinned) and returns the
// best cut value.
func bruteMaxCut(w [][]float64, vertices []int) float64 {
	m := len(vertices)
	best := math.Inf(-1)
	for mask := 0; mask < 1<<m; mask++ {
		c := 0.0
		for a := range m {
			for b := a + 1; b < m; b++ {
				if (mask>>a)&1 != (mask>>b)&1 {
					c += w[vertices[a]][vertices[b]]
				}
			}
		}
		best = max(best, c)
	}
	return best
}

// bruteMaxCutSides returns the best bipartition found by bruteMaxCut's enumeration.
func bruteMaxCutSides(w [][]float64, vertices []int) (a, b []int, val float64) {
	m := len(vertices)
	val = math.Inf(-1)
	for mask := 0; mask < 1<<m; mask++ {
		if mask&1 != 0 {
			continue // symmetric duplicate
		}
		c := 0.0
		for x := range m {
			for y := x + 1; y < m; y++ {
				if (mask>>x)&1 != (mask>>y)&1 {
					c += w[vertices[x]][vertices[y]]
				}
			}
		}
		if c > val {
			val = c
			a, b = nil, nil
			for x := range m {
				if (mask>>x)&1 == 0 {
					a = append(a, vertices[x])
				} else {
					b = append(b, vertices[x])
				}
			}
		}
	}
	return a, b, val
}

// refBisection is an independent, plainly recursive implementation of the released algorithm
// (without MaxPhases the processing order does not matter) on top of bruteMaxCutSides.
func refBisection(w [][]float64, cluster []int, eps float64, minSize int) Partition {
	if len(cluster) < 2*minSize {
		return Partition{cluster}
	}
	a, b, cut := bruteMaxCutSides(w, cluster)
	if cut <= eps || len(b) == 0 {
		return Partition{cluster}
	}
	return append(refBisection(w, a, eps, minSize), refBisection(w, b, eps, minSize)...)
}

// bruteContiguous enumerates all ways to choose k−1 of the n−1 gaps and returns the best cut and
// its partition, honouring minSize.
func bruteContiguous(w [][]float64, k, minSize int) (Partition, float64) {
	n := len(w)
	bestCut := math.Inf(-1)
	var best Partition
	for mask := 0; mask < 1<<(n-1); mask++ {
		var th []int
		for g := range n - 1 {
			if mask>>g&1 == 1 {
				th = append(th, g+1)
			}
		}
		if len(th) != k-1 {
			continue
		}
		p, err := FromThresholds(th, n)
		if err != nil {
			panic(err)
		}
		if slices.Min(p.Sizes()) < minSize {
			continue
		}
		if c := CutValue(w, p); c > bestCut {
			bestCut, best = c, p
		}
	}
	return best, bestCut
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }
