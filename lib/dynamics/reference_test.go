package dynamics

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Independent reference implementations for the tests (the package itself uses gonum).

// jacobiEigen returns the eigenvalues (decreasing) and eigenvectors (vecs[i] for vals[i]) of a
// small symmetric n×n matrix by cyclic Jacobi rotations.
func jacobiEigen(a []float64, n int) (vals []float64, vecs [][]float64) {
	w := append([]float64(nil), a...)
	v := make([]float64, n*n)
	for i := 0; i < n; i++ {
		v[i*n+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off, tot float64
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				tot += w[i*n+j] * w[i*n+j]
				if i != j {
					off += w[i*n+j] * w[i*n+j]
				}
			}
		}
		if off <= 1e-30*tot || off == 0 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := w[p*n+q]
				if apq == 0 {
					continue
				}
				theta := (w[q*n+q] - w[p*n+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ { // columns p, q
					akp, akq := w[k*n+p], w[k*n+q]
					w[k*n+p] = c*akp - s*akq
					w[k*n+q] = s*akp + c*akq
				}
				for k := 0; k < n; k++ { // rows p, q
					apk, aqk := w[p*n+k], w[q*n+k]
					w[p*n+k] = c*apk - s*aqk
					w[q*n+k] = s*apk + c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p] = c*vkp - s*vkq
					v[k*n+q] = s*vkp + c*vkq
				}
			}
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return w[idx[x]*n+idx[x]] > w[idx[y]*n+idx[y]] })
	vals = make([]float64, n)
	vecs = make([][]float64, n)
	for r, i := range idx {
		vals[r] = w[i*n+i]
		vecs[r] = make([]float64, n)
		for k := 0; k < n; k++ {
			vecs[r][k] = v[k*n+i]
		}
	}
	return vals, vecs
}

// orthonormalize makes the vectors orthonormal in order by twice-repeated Gram–Schmidt,
// replacing any vector that is (numerically) in the span of the previous ones by a random one.
func orthonormalize(vs [][]float64, rng *rand.Rand) {
	for i := 0; i < len(vs); i++ {
		for attempt := 0; ; attempt++ {
			orig := math.Sqrt(dot64(vs[i], vs[i]))
			for pass := 0; pass < 2; pass++ {
				for j := 0; j < i; j++ {
					c := dot64(vs[j], vs[i])
					for t := range vs[i] {
						vs[i][t] -= c * vs[j][t]
					}
				}
			}
			nv := math.Sqrt(dot64(vs[i], vs[i]))
			if nv > 1e-10*orig && nv > 0 {
				for t := range vs[i] {
					vs[i][t] /= nv
				}
				break
			}
			if attempt > 5 {
				panic("dynamics: orthonormalize: cannot complete a basis (more vectors than dimensions?)")
			}
			for t := range vs[i] {
				vs[i][t] = rng.NormFloat64()
			}
		}
	}
}
