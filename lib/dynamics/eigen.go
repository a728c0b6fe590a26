package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// symEigenvalues returns the k largest eigenvalues (all when k <= 0 or k > n), in decreasing
// order, of the symmetric n×n matrix a (row-major; only read), by gonum's EigenSym.
func symEigenvalues(a []float64, n, k int) ([]float64, error) {
	if n == 0 {
		return nil, nil
	}
	if k <= 0 || k > n {
		k = n
	}
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, a), false) {
		return nil, fmt.Errorf("dynamics: eigenvalues of a %d×%d matrix did not converge (non-finite entries?)", n, n)
	}
	asc := es.Values(nil)
	out := make([]float64, k)
	for i := range out {
		out[i] = asc[n-1-i]
	}
	return out, nil
}

// topEigen returns the k largest eigenvalues (decreasing) of the symmetric positive semi-definite
// n×n matrix a and their unit eigenvectors (the columns of vecs), by subspace iteration with
// Rayleigh–Ritz on a block of k+10 vectors until every residual ‖Av − θv‖ ≤ tol·θ_1. The dense
// algebra (products, QR, the small eigenproblem) is gonum's. A full EigenSym with vectors would
// cost ~120 s at n = 1536 where this takes ~1 s (see BenchmarkEigen).
func topEigen(a *mat.SymDense, k int, seed uint64, tol float64, maxIter int) ([]float64, *mat.Dense, error) {
	n := a.SymmetricDim()
	if k < 1 || k > n {
		return nil, nil, fmt.Errorf("dynamics: eigen solver: %d eigenvectors requested of a %d×%d matrix", k, n, n)
	}
	p := min(n, k+10)
	rng := rand.New(rand.NewPCG(seed, 0x65_69_67)) // "eig"
	q := mat.NewDense(n, p, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			q.Set(i, j, rng.NormFloat64())
		}
	}
	orthonormalizeCols(q)
	var y, h, ritz, aRitz, s mat.Dense
	var es mat.EigenSym
	lastRes := math.NaN()
	for it := 0; it < maxIter; it++ {
		y.Mul(a, q)
		h.Mul(q.T(), &y)
		hs := mat.NewSymDense(p, nil)
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				hs.SetSym(i, j, 0.5*(h.At(i, j)+h.At(j, i)))
			}
		}
		if !es.Factorize(hs, true) {
			return nil, nil, fmt.Errorf("dynamics: eigen solver: Rayleigh–Ritz step did not converge (non-finite entries?)")
		}
		asc := es.Values(nil)
		es.VectorsTo(&s)
		// decreasing order: column j of sd is eigenvector p-1-j of hs
		sd := mat.NewDense(p, p, nil)
		theta := make([]float64, p)
		for j := 0; j < p; j++ {
			theta[j] = asc[p-1-j]
			for i := 0; i < p; i++ {
				sd.Set(i, j, s.At(i, p-1-j))
			}
		}
		ritz.Mul(q, sd)
		aRitz.Mul(&y, sd)
		scale := math.Abs(theta[0])
		lastRes = 0
		for j := 0; j < k; j++ {
			var r float64
			for i := 0; i < n; i++ {
				d := aRitz.At(i, j) - theta[j]*ritz.At(i, j)
				r += d * d
			}
			lastRes = math.Max(lastRes, math.Sqrt(r))
		}
		if lastRes <= tol*scale || scale == 0 {
			vecs := mat.DenseCopyOf(ritz.Slice(0, n, 0, k))
			return theta[:k], vecs, nil
		}
		q.Copy(&aRitz)
		orthonormalizeCols(q)
	}
	return nil, nil, fmt.Errorf("dynamics: eigen solver: no convergence after %d iterations (residual %.3g)", maxIter, lastRes)
}

// orthonormalizeCols replaces the columns of q (n×p, n ≥ p) by an orthonormal basis of their
// span (thin Householder QR: LAPACK's Geqrf and Orgqr as implemented by gonum).
func orthonormalizeCols(q *mat.Dense) {
	g := q.RawMatrix()
	tau := make([]float64, g.Cols)
	work := make([]float64, 1)
	lapack64.Geqrf(g, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(g, tau, work, len(work))
	work = make([]float64, 1)
	lapack64.Orgqr(g, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Orgqr(g, tau, work, len(work))
}
