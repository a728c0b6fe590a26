package phases

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestContiguousAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 1; n <= 10; n++ {
		w := randSym(n, 0, 1, rng)
		for k := 1; k <= n; k++ {
			for minSize := 1; minSize <= 3 && k*minSize <= n; minSize++ {
				t.Run(fmt.Sprintf("n=%d/k=%d/min=%d", n, k, minSize), func(t *testing.T) {
					want, wantCut := bruteContiguous(w, k, minSize)
					got, err := ContiguousMinSize(w, k, minSize)
					if err != nil {
						t.Fatal(err)
					}
					if !near(got.Cut, wantCut) {
						t.Fatalf("cut %v, brute force %v (%s vs %s)", got.Cut, wantCut, got.Partition, want)
					}
					if got.Partition.String() != want.String() {
						t.Fatalf("partition %s, brute force %s", got.Partition, want)
					}
					if !got.Partition.IsContiguous() || got.Partition.K() != k || slices.Min(got.Partition.Sizes()) < minSize {
						t.Fatalf("partition %s is not %d contiguous phases of ≥ %d", got.Partition, k, minSize)
					}
					if !near(got.Cut+got.Within, TotalWeight(w)) || !near(got.Cut, CutValue(w, got.Partition)) {
						t.Fatalf("cut %v + within %v != total %v", got.Cut, got.Within, TotalWeight(w))
					}
				})
			}
		}
	}
}

func TestContiguousRecoversPlantedPhases(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, sizes := range [][]int{{7, 5}, {7, 3, 2}, {4, 3, 3, 2}, {10, 10, 10, 10}, {1, 5, 6}} {
		n := 0
		for _, s := range sizes {
			n += s
		}
		// Blocks: 0.1 inside, 1 across, noise 0.05.
		p, _ := FromSizes(sizes)
		lab := p.Labels()
		w := newSquare(n)
		for i := range n {
			for j := i + 1; j < n; j++ {
				v := 0.1 + 0.05*rng.Float64()
				if lab[i] != lab[j] {
					v = 1 + 0.05*rng.Float64()
				}
				w[i][j], w[j][i] = v, v
			}
		}
		got, err := Contiguous(w, len(sizes))
		if err != nil {
			t.Fatal(err)
		}
		if got.Partition.String() != p.String() {
			t.Errorf("planted %s, recovered %s", p, got.Partition)
		}
	}
}

func TestContiguousErrors(t *testing.T) {
	w := randSym(5, 0, 1, rand.New(rand.NewPCG(1, 1)))
	for _, tc := range []struct{ k, min int }{{0, 1}, {-1, 1}, {6, 1}, {3, 2}} {
		if _, err := ContiguousMinSize(w, tc.k, tc.min); err == nil {
			t.Errorf("k=%d min=%d: no error", tc.k, tc.min)
		}
	}
}

func TestContiguousForEps(t *testing.T) {
	w := layerLike([]int{4, 4, 4}, 0.5, 1, 0.05, rand.New(rand.NewPCG(2, 2)))
	for _, tc := range []struct {
		frac float64
		want string
	}{{0.9, "1-12"}, {0.05, "1-4 5-8 9-12"}} {
		got, err := ContiguousForEps(w, tc.frac)
		if err != nil {
			t.Fatal(err)
		}
		if got.Partition.String() != tc.want {
			t.Errorf("frac %v: %s, want %s", tc.frac, got.Partition, tc.want)
		}
	}
	// The rule: cut(k) − cut(k−1) > eps for the chosen k, and cut(k+1) − cut(k) ≤ eps.
	for _, frac := range []float64{0, 0.01, 0.02, 0.05, 0.1, 0.3} {
		got, _ := ContiguousForEps(w, frac)
		k, eps := got.Partition.K(), frac*TotalWeight(w)
		if k < len(w) {
			next, _ := Contiguous(w, k+1)
			if next.Cut-got.Cut > eps {
				t.Errorf("frac %v: stopped at k=%d though k+1 gains %v > %v", frac, k, next.Cut-got.Cut, eps)
			}
		}
	}
}
