package phases

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestMaxCutAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	methods := []struct {
		name string
		opts MaxCutOptions
	}{
		{"enumerate", MaxCutOptions{EnumerationLimit: 40}},
		{"branch-and-bound", MaxCutOptions{EnumerationLimit: -1}},
	}
	for n := 1; n <= 12; n++ {
		for trial := range 6 {
			lo := 0.0
			if trial%2 == 1 {
				lo = -1 // negative weights too
			}
			w := randSym(n+2, lo, 1, rng)
			// A vertex subset in scrambled order exercises the index mapping.
			vertices := rng.Perm(n + 2)[:n]
			want := bruteMaxCut(w, vertices)
			for _, m := range methods {
				t.Run(fmt.Sprintf("%s/n=%d/%d", m.name, n, trial), func(t *testing.T) {
					a, b, got := MaxCut(w, vertices, m.opts)
					if !near(got, want) {
						t.Fatalf("cut %v, brute force %v", got, want)
					}
					if len(a)+len(b) != n || len(a) == 0 {
						t.Fatalf("sides %v %v do not split %v", a, b, vertices)
					}
					seen := map[int]bool{}
					for _, v := range append(append([]int{}, a...), b...) {
						seen[v] = true
					}
					for _, v := range vertices {
						if !seen[v] {
							t.Fatalf("vertex %d missing from %v | %v", v, a, b)
						}
					}
					if !inSlice(a, vertices[0]) {
						t.Fatalf("side A %v lacks the first vertex %d", a, vertices[0])
					}
					direct := 0.0
					for _, u := range a {
						for _, v := range b {
							direct += w[u][v]
						}
					}
					if !near(direct, got) {
						t.Fatalf("returned value %v but the sides cut %v", got, direct)
					}
				})
			}
		}
	}
}

// Branch and bound against enumeration beyond brute-force sizes, on random and layer-like matrices.
func TestBranchAndBoundAgainstEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{13, 16, 18, 22} {
		for trial := range 3 {
			var w [][]float64
			if trial == 0 {
				w = randSym(n, 0, 1, rng)
			} else {
				w = layerLike([]int{n / 3, n / 3, n - 2*(n/3)}, 1, 0.2*float64(trial), 0.05, rng)
			}
			_, _, enum := MaxCut(w, nil, MaxCutOptions{EnumerationLimit: 40})
			_, _, bb := MaxCut(w, nil, MaxCutOptions{EnumerationLimit: -1})
			if !near(enum, bb) {
				t.Errorf("n=%d trial %d: enumeration %v, branch and bound %v", n, trial, enum, bb)
			}
		}
	}
}

func inSlice(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
