package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/blockrec/blockrec/lib/hidden"
)

// TestPCAMatchesGonumPC checks the streamed PCA fit against gonum's stat.PC (an SVD of all the
// centred points at once) on anisotropic random CLS paths.
func TestPCAMatchesGonumPC(t *testing.T) {
	layout := hidden.Layout{NumPatches: 2}
	for _, c := range []struct {
		images, layers, dim, k int
		normalize              bool
	}{
		{6, 5, 8, 2, false},
		{10, 4, 30, 3, true},
		{3, 3, 40, 2, false}, // fewer points (9) than dimensions
	} {
		t.Run(fmt.Sprintf("%dx%dx%d norm=%v", c.images, c.layers, c.dim, c.normalize), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(c.dim)))
			fit, err := NewPCAFit(layout, TrajectoryConfig{Kind: TrajectoryCLS, Normalize: c.normalize})
			if err != nil {
				t.Fatal(err)
			}
			var rows []float64
			for i := 0; i < c.images; i++ {
				s := hidden.NewStates(c.layers, layout.NumTokens(), c.dim)
				for l := 0; l < c.layers; l++ {
					x := s.Token(l, 0)
					var n2 float64
					for j := range x {
						x[j] = float32(5 + rng.NormFloat64()*4/float64(1+j))
						n2 += float64(x[j]) * float64(x[j])
					}
					for _, v := range x {
						if c.normalize {
							rows = append(rows, float64(v)/math.Sqrt(n2))
						} else {
							rows = append(rows, float64(v))
						}
					}
				}
				if err := fit.Add(s); err != nil {
					t.Fatal(err)
				}
			}
			got, err := fit.Result(c.k)
			if err != nil {
				t.Fatal(err)
			}
			var pc stat.PC
			if !pc.PrincipalComponents(mat.NewDense(c.images*c.layers, c.dim, rows), nil) {
				t.Fatal("stat.PC failed")
			}
			vars := pc.VarsTo(nil) // variances with the n−1 denominator
			var vecs mat.Dense
			pc.VectorsTo(&vecs)
			n := float64(c.images * c.layers)
			for i := 0; i < c.k; i++ {
				want := vars[i] * (n - 1) / n
				near(t, fmt.Sprintf("variance %d", i), got.Variance[i], want, 1e-8*vars[0])
				cos := math.Abs(dot64(got.Components[i], mat.Col(nil, i, &vecs)))
				near(t, fmt.Sprintf("|cos| of component %d with stat.PC", i), cos, 1, 1e-6)
			}
		})
	}
}
