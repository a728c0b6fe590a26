package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestEigenSolversKnownSpectrum(t *testing.T) {
	cases := []struct {
		name   string
		lambda []float64
	}{
		{"one", []float64{3}},
		{"two", []float64{2, -1}},
		{"distinct", []float64{10, 7, 5, 3, 2, 1, 0.5, 0}},
		{"degenerate", []float64{4, 4, 4, 1, 1, 0, 0, 0, 0, 0}},
		{"rank2 in 30", append([]float64{9, 2}, make([]float64, 28)...)},
		{"spread", []float64{1e3, 200, 50, 10, 3, 1, 0.3, 0.1, 0.01, 1e-3, 1e-4, 0}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := len(c.lambda)
			q := randomOrthonormal(rng, n, n)
			a := symFromSpectrum(q, c.lambda)
			want := append([]float64(nil), c.lambda...)
			sort.Sort(sort.Reverse(sort.Float64Slice(want)))
			scale := math.Abs(want[0]) + math.Abs(want[n-1])
			got, err := symEigenvalues(a, n, 0)
			if err != nil {
				t.Fatal(err)
			}
			top, err := symEigenvalues(a, n, 2)
			if err != nil {
				t.Fatal(err)
			}
			jv, jvec := jacobiEigen(a, n)
			for i := range want {
				near(t, fmt.Sprintf("householder λ%d", i), got[i], want[i], 1e-10*scale)
				if i < len(top) {
					near(t, fmt.Sprintf("householder top λ%d", i), top[i], want[i], 1e-10*scale)
				}
				near(t, fmt.Sprintf("jacobi λ%d", i), jv[i], want[i], 1e-10*scale)
				// A v = λ v
				for r := 0; r < n; r++ {
					var av float64
					for cc := 0; cc < n; cc++ {
						av += a[r*n+cc] * jvec[i][cc]
					}
					near(t, "jacobi residual", av, jv[i]*jvec[i][r], 1e-9*scale)
				}
			}
			if want[n-1] < 0 {
				return // topEigen is for positive semi-definite operators
			}
			k := min(3, n)
			tv, tvec, err := topEigen(mat.NewSymDense(n, a), k, 7, 1e-10, 2000)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < k; i++ {
				near(t, fmt.Sprintf("topEigen λ%d", i), tv[i], want[i], 1e-8*scale)
				v := mat.Col(nil, i, tvec)
				near(t, "topEigen |v|", math.Sqrt(dot64(v, v)), 1, 1e-9)
				// A v = λ v
				for r := 0; r < n; r++ {
					near(t, "topEigen residual", dot64(a[r*n:(r+1)*n], v), tv[i]*v[r], 1e-7*scale)
				}
			}
		})
	}
}
