package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// symEigenvalues returns the k largest eigenvalues (all when k <= 0 or k > n), in decreasing
// order, of the symmetric n×n matrix a (row-major; only read). It reduces a to tridiagonal form
// with Householder reflections, then finds each eigenvalue by bisection on Sturm sequence counts.
// Cost ≈ n³ + 60·k·n flops.
func symEigenvalues(a []float64, n, k int) []float64 {
	if n == 0 {
		return nil
	}
	d, e := tridiagonalize(a, n)
	return tridiagEigenvalues(d, e, k)
}

// tridiagonalize returns the diagonal d (n) and off-diagonal e (n-1) of a tridiagonal matrix
// similar to the symmetric matrix a.
func tridiagonalize(a []float64, n int) (d, e []float64) {
	w := append([]float64(nil), a...)
	d = make([]float64, n)
	e = make([]float64, max(n-1, 0))
	v := make([]float64, n)
	p := make([]float64, n)
	for k := 0; k+2 < n; k++ {
		m := n - k - 1 // length of the column below the diagonal
		x := v[:m]
		var nx float64
		for i := 0; i < m; i++ {
			x[i] = w[(k+1+i)*n+k]
			nx += x[i] * x[i]
		}
		nx = math.Sqrt(nx)
		d[k] = w[k*n+k]
		if nx == 0 {
			e[k] = 0
			continue
		}
		alpha := -nx
		if x[0] < 0 {
			alpha = nx
		}
		x[0] -= alpha
		vn := math.Sqrt(dot64(x, x))
		for i := range x {
			x[i] /= vn
		}
		// B ← H B H with H = I − 2vvᵀ, B = w[k+1:, k+1:]: B −= 2(v qᵀ + q vᵀ), q = Bv − (vᵀBv) v.
		// Only the lower triangle of B is read and written.
		pp := p[:m]
		clear(pp)
		for i := 0; i < m; i++ {
			row := w[(k+1+i)*n+k+1 : (k+1+i)*n+k+2+i] // B[i][0..i]
			xi := x[i]
			pp[i] += dot64(row[:i], x[:i]) + row[i]*xi
			for j, b := range row[:i] {
				pp[j] += b * xi
			}
		}
		kk := dot64(x, pp)
		for i := range pp {
			pp[i] -= kk * x[i]
		}
		for i := 0; i < m; i++ {
			row := w[(k+1+i)*n+k+1 : (k+1+i)*n+k+2+i]
			vi, qi := 2*x[i], 2*pp[i]
			for j := range row {
				row[j] -= vi*pp[j] + qi*x[j]
			}
		}
		e[k] = alpha
	}
	if n >= 2 {
		d[n-2] = w[(n-2)*n+n-2]
		e[n-2] = w[(n-1)*n+n-2]
	}
	d[n-1] = w[(n-1)*n+n-1]
	return d, e
}

// sturmCount is the number of eigenvalues of the tridiagonal (d, e) strictly below x.
func sturmCount(d, e []float64, x float64) int {
	count := 0
	q := d[0] - x
	for i := 0; ; i++ {
		if q == 0 {
			q = -1e-300
		}
		if q < 0 {
			count++
		}
		if i+1 == len(d) {
			return count
		}
		q = d[i+1] - x - e[i]*e[i]/q
	}
}

// tridiagEigenvalues returns the k largest eigenvalues (all when k <= 0 or k > n) of a symmetric
// tridiagonal matrix in decreasing order.
func tridiagEigenvalues(d, e []float64, k int) []float64 {
	n := len(d)
	if k <= 0 || k > n {
		k = n
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ { // Gershgorin discs
		r := 0.0
		if i > 0 {
			r += math.Abs(e[i-1])
		}
		if i+1 < n {
			r += math.Abs(e[i])
		}
		lo = math.Min(lo, d[i]-r)
		hi = math.Max(hi, d[i]+r)
	}
	scale := math.Max(math.Abs(lo), math.Abs(hi))
	pad := 1e-12*scale + 1e-300
	lo, hi = lo-pad, hi+pad
	out := make([]float64, k)
	for j := n - 1; j >= n-k; j-- { // j-th smallest: count(x) <= j below, > j above
		a, b := lo, hi
		for it := 0; it < 200 && b-a > 2e-16*scale+1e-300; it++ {
			mid := 0.5 * (a + b)
			if mid == a || mid == b {
				break
			}
			if sturmCount(d, e, mid) > j {
				b = mid
			} else {
				a = mid
			}
		}
		out[n-1-j] = 0.5 * (a + b)
	}
	return out
}

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

// topEigen returns the k largest eigenvalues (decreasing) and their unit eigenvectors of a
// symmetric positive semi-definite n×n operator given by apply (y = A x), by subspace iteration
// with Rayleigh–Ritz on a block of k+10 vectors, until every residual ‖Av − θv‖ ≤ tol·θ_1.
func topEigen(apply func(x, y []float64), n, k int, seed uint64, tol float64, maxIter int) ([]float64, [][]float64, error) {
	if k > n {
		k = n
	}
	p := min(n, k+10)
	rng := rand.New(rand.NewPCG(seed, 0x65_69_67)) // "eig"
	q := make([][]float64, p)
	y := make([][]float64, p)
	for i := range q {
		q[i] = make([]float64, n)
		y[i] = make([]float64, n)
		for j := range q[i] {
			q[i][j] = rng.NormFloat64()
		}
	}
	orthonormalize(q, rng)
	h := make([]float64, p*p)
	var lastRes float64
	for it := 0; it < maxIter; it++ {
		for i := range q {
			apply(q[i], y[i])
		}
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				h[i*p+j] = 0.5 * (dot64(q[i], y[j]) + dot64(q[j], y[i]))
				h[j*p+i] = h[i*p+j]
			}
		}
		theta, s := jacobiEigen(h, p)
		ritz := combine(q, s)
		aRitz := combine(y, s)
		scale := math.Abs(theta[0])
		lastRes = 0
		for i := 0; i < k; i++ {
			var r float64
			for j := 0; j < n; j++ {
				d := aRitz[i][j] - theta[i]*ritz[i][j]
				r += d * d
			}
			lastRes = math.Max(lastRes, math.Sqrt(r))
		}
		if lastRes <= tol*scale || scale == 0 {
			return theta[:k], ritz[:k], nil
		}
		q = aRitz
		orthonormalize(q, rng)
	}
	return nil, nil, fmt.Errorf("dynamics: eigen solver: no convergence after %d iterations (residual %.3g)", maxIter, lastRes)
}

// combine returns the vectors Σ_j s[i][j]·basis[j] for each i.
func combine(basis [][]float64, s [][]float64) [][]float64 {
	out := make([][]float64, len(s))
	for i := range s {
		v := make([]float64, len(basis[0]))
		for j, c := range s[i] {
			if c == 0 {
				continue
			}
			for t, b := range basis[j] {
				v[t] += c * b
			}
		}
		out[i] = v
	}
	return out
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
