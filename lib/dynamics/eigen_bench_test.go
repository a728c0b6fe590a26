package dynamics

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// benchCov returns the n×n covariance of 2n random points with a decaying spectrum.
func benchCov(n int) []float64 {
	rng := rand.New(rand.NewPCG(3, uint64(n)))
	m := 2 * n
	x := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			x[i*n+j] = rng.NormFloat64() / float64(1+j)
		}
	}
	return gramCols(x, n, 0, m, true, nil)
}

// BenchmarkEigen times the two solvers on realistic sizes: all eigenvalues (UpdateField: the
// 257×257 token Gram matrix of DINOv2-g; 384 and 1536 for wider scopes) and the top 2
// eigenvectors (PCAFit: the dim×dim covariance).
//
// Measured on the shared, loaded 2-core machine when gonum replaced the hand-written solvers
// (ms/op; rows 1-4 in one run, row 5 in a later run under heavier load, where row 2 read 35, 113
// and 12350):
//
//	                                     n=257   n=384   n=1536
//	values, old Householder + Sturm         15      36     1620
//	values, gonum EigenSym (used)           19      79     5530
//	top-2 vectors, old subspace iteration  6.5      12      528   (Jacobi, Gram–Schmidt)
//	top-2 vectors, gonum EigenSym           67     189   117600   (all vectors: unusable)
//	top-2 vectors, subspace on gonum (used) 22      42      294   (Mul, QR, small EigenSym)
//
// Values are only needed at n = tokens ≤ 257 (per image and step), where gonum is within 1.3×.
func BenchmarkEigen(b *testing.B) {
	for _, n := range []int{257, 384, 1536} {
		a := benchCov(n)
		b.Run(fmt.Sprintf("values/%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := symEigenvalues(a, n, 8); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("top2vectors/%d", n), func(b *testing.B) {
			s := mat.NewSymDense(n, a)
			for i := 0; i < b.N; i++ {
				if _, _, err := topEigen(s, 2, 1, 1e-9, 3000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
