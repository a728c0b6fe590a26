package phases

import (
	"cmp"
	"slices"
)

// maxCutBranchAndBound solves max-cut exactly by Russian-doll search: with the vertices in a
// fixed order v_0..v_{m−1}, it solves the sub-problems on the suffixes {v_k..v_{m−1}} for
// k = m−1 down to 0, each by depth-first branch and bound. The upper bound at a node where
// v_k..v_{t−1} are assigned is
//
//	cut so far + Σ_{u ≥ t} max(w(u, side A), w(u, side B)) + maxcut({v_t..v_{m−1}}),
//
// the last term known exactly from the earlier, smaller sub-problem. Each sub-problem starts from
// the previous optimum extended by one vertex. Worst-case time is exponential, as for any exact
// max-cut method; on layer dissimilarity matrices (smooth in depth) it prunes well.
func maxCutBranchAndBound(sub []float64, m int) []bool {
	// Order: heaviest vertices first, so they are decided near the root where bounds are loose.
	order := seq(0, m)
	deg := make([]float64, m)
	for v := range m {
		for u := range m {
			deg[v] += sub[v*m+u]
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(deg[b], deg[a]) })
	w := make([]float64, m*m)
	for i, u := range order {
		for j, v := range order {
			w[i*m+j] = sub[u*m+v]
		}
	}

	s := &bbSearch{
		m:      m,
		w:      w,
		best:   make([]float64, m+1),
		wA:     make([]float64, m),
		wB:     make([]float64, m),
		sides:  make([][]bool, m+1),
		curInB: make([]bool, m),
	}
	s.sides[m] = make([]bool, m)
	for k := m - 1; k >= 0; k-- {
		s.solveSuffix(k)
	}
	inB := make([]bool, m)
	for i, v := range order {
		inB[v] = s.sides[0][i]
	}
	return inB
}

type bbSearch struct {
	m      int
	w      []float64 // reordered, zero diagonal
	best   []float64 // best[k] = max-cut value of the suffix k..m−1 (best[m] = 0)
	sides  [][]bool  // sides[k] = optimal side assignment (true = B) of the suffix k..m−1
	wA, wB []float64 // weight from each unassigned vertex to assigned vertices on side A / B
	curInB []bool

	incumbent float64
	incSide   []bool
}

func (s *bbSearch) solveSuffix(k int) {
	m, w := s.m, s.w
	// Incumbent: the optimum of suffix k+1 plus v_k on its better side, flipped so v_k is on A.
	prev := s.sides[k+1]
	toA, toB := 0.0, 0.0
	for u := k + 1; u < m; u++ {
		if prev[u] {
			toB += w[k*m+u]
		} else {
			toA += w[k*m+u]
		}
	}
	s.incSide = make([]bool, m)
	copy(s.incSide[k+1:], prev[k+1:])
	if toA > toB { // v_k joins B; flip everything so v_k is on A
		for u := k + 1; u < m; u++ {
			s.incSide[u] = !s.incSide[u]
		}
	}
	s.incumbent = s.best[k+1] + max(toA, toB)
	if s.incumbent < 0 { // the empty cut (everything on A) is better
		s.incumbent = 0
		clear(s.incSide)
	}

	// Pin v_k on side A.
	for u := k + 1; u < m; u++ {
		s.wA[u] = w[k*m+u]
		s.wB[u] = 0
	}
	s.curInB[k] = false
	s.search(k, k+1, 0)
	s.best[k] = s.incumbent
	s.sides[k] = s.incSide
}

func (s *bbSearch) search(k, t int, cur float64) {
	m, w := s.m, s.w
	if t == m {
		if cur > s.incumbent {
			s.incumbent = cur
			copy(s.incSide[k:], s.curInB[k:])
		}
		return
	}
	ub := cur + s.best[t]
	for u := t; u < m; u++ {
		ub += max(s.wA[u], s.wB[u])
	}
	if ub <= s.incumbent {
		return
	}
	gainA, gainB := s.wB[t], s.wA[t] // joining A cuts the edges to B, and vice versa
	row := w[t*m : (t+1)*m]
	for _, toB := range [2]bool{gainB > gainA, gainB <= gainA} {
		s.curInB[t] = toB
		if toB {
			for u := t + 1; u < m; u++ {
				s.wB[u] += row[u]
			}
			s.search(k, t+1, cur+gainB)
			for u := t + 1; u < m; u++ {
				s.wB[u] -= row[u]
			}
		} else {
			for u := t + 1; u < m; u++ {
				s.wA[u] += row[u]
			}
			s.search(k, t+1, cur+gainA)
			for u := t + 1; u < m; u++ {
				s.wA[u] -= row[u]
			}
		}
	}
}
