package phases

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchMatrix is a 40-layer layer-like matrix (drift, four planted phases, noise).
func benchMatrix(n int) [][]float64 {
	rng := rand.New(rand.NewPCG(7, 7))
	q := n / 4
	return layerLike([]int{q, q, q, n - 3*q}, 1, 0.15, 0.05, rng)
}

func BenchmarkContiguous40(b *testing.B) {
	w := benchMatrix(40)
	for b.Loop() {
		if _, err := Contiguous(w, 4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBisection40(b *testing.B) {
	w := benchMatrix(40)
	for b.Loop() {
		if _, err := RecursiveBisection(w, BisectionOptions{EpsFrac: 0.05}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMaxCutEnumerate times one exhaustive max-cut step (2^(n−1) bipartitions) by cluster
// size, on a random matrix (enumeration time does not depend on the values).
func BenchmarkMaxCutEnumerate(b *testing.B) {
	for _, n := range []int{12, 16, 20, 22, 24, 25, 26, 27, 28} {
		w := randSym(n, 0, 1, rand.New(rand.NewPCG(1, uint64(n))))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				MaxCut(w, nil, MaxCutOptions{EnumerationLimit: 40})
			}
		})
	}
}

// BenchmarkMaxCutBranchAndBound times the branch-and-bound max-cut by cluster size on layer-like
// matrices and on random ones (its hard case).
func BenchmarkMaxCutBranchAndBound(b *testing.B) {
	for _, n := range []int{20, 24, 28, 32, 40} {
		w := benchMatrix(n)
		b.Run(fmt.Sprintf("layerlike/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				MaxCut(w, nil, MaxCutOptions{EnumerationLimit: -1})
			}
		})
	}
	for _, n := range []int{20, 24, 28} {
		w := randSym(n, 0, 1, rand.New(rand.NewPCG(2, uint64(n))))
		b.Run(fmt.Sprintf("random/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				MaxCut(w, nil, MaxCutOptions{EnumerationLimit: -1})
			}
		})
	}
}
