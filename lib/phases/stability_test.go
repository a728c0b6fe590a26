package phases

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// blockImages makes per-image matrices of n layers: dissimilarity 1 across the phases given by
// thresholds and `within` inside, plus noise of the given scale per image.
func blockImages(n, images int, thresholds []int, within, noise float64, seed uint64) *PerImage {
	label := make([]int, n)
	for _, t := range thresholds {
		for l := t; l < n; l++ {
			label[l]++
		}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	per := &PerImage{Rows: n}
	for range images {
		var u []float64
		for i := range n {
			for j := i + 1; j < n; j++ {
				v := within
				if label[i] != label[j] {
					v = 1
				}
				u = append(u, math.Max(0, v+noise*rng.NormFloat64()))
			}
		}
		per.Upper = append(per.Upper, u)
	}
	return per
}

func TestBootstrapPhases(t *testing.T) {
	cases := []struct {
		name       string
		per        *PerImage
		k          int
		find       Finder
		wantBounds []int   // boundaries expected in (almost) every replicate
		minShare   float64 // their least share
		maxOther   float64 // the largest share any other boundary may have
	}{
		{"clear blocks, DP", blockImages(8, 200, []int{3, 6}, 0.1, 0.3, 1), 3, ContiguousFinder, []int{3, 6}, 0.99, 0.01},
		// Two phases: the released solver's max-cut of three equal-weight blocks need not be
		// contiguous (it may balance the cut with a layer of another block), so k = 2 here.
		{"clear blocks, bisection", blockImages(8, 200, []int{4}, 0.1, 0.3, 2), 2, BisectionFinder, []int{4}, 0.99, 0.01},
		{"no blocks: boundaries wander", blockImages(8, 30, nil, 0.5, 0.3, 3), 3, ContiguousFinder, nil, 0, 0.9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := BootstrapPhases(c.per, []int{c.k}, c.find, 100, 7)
			if err != nil {
				t.Fatal(err)
			}
			s := st[0]
			want := map[int]bool{}
			for _, b := range c.wantBounds {
				want[b] = true
				if s.BoundaryShare[b-1] < c.minShare {
					t.Errorf("boundary %d chosen in %.2f of replicates, want ≥ %.2f (%v)", b, s.BoundaryShare[b-1], c.minShare, s.BoundaryShare)
				}
			}
			for tt, share := range s.BoundaryShare {
				if !want[tt+1] && share > c.maxOther {
					t.Errorf("boundary %d chosen in %.2f of replicates, want ≤ %.2f (%v)", tt+1, share, c.maxOther, s.BoundaryShare)
				}
			}
			if len(s.BlockIndex) != 100 {
				t.Errorf("%d block indices, want 100", len(s.BlockIndex))
			}
		})
	}
}

func TestBootstrapPhasesReproducible(t *testing.T) {
	per := blockImages(6, 40, []int{2}, 0.6, 0.4, 4)
	a, err := BootstrapPhases(per, []int{2, 3}, nil, 50, 11)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BootstrapPhases(per, []int{2, 3}, nil, 50, 11)
	for i := range a {
		for j := range a[i].BlockIndex {
			if a[i].BlockIndex[j] != b[i].BlockIndex[j] {
				t.Fatalf("k=%d replicate %d differs between two runs with one seed", a[i].K, j)
			}
		}
	}
}

func TestPerImageMeanMatchesAccumulatorAndErrors(t *testing.T) {
	per := blockImages(5, 3, []int{2}, 0.2, 0.1, 5)
	m := per.Mean(nil)
	if got, want := m[1][3], (per.Upper[0][5]+per.Upper[1][5]+per.Upper[2][5])/3; math.Abs(got-want) > 1e-12 {
		t.Errorf("mean[1][3] = %v, want %v", got, want)
	}
	if m[3][1] != m[1][3] || m[2][2] != 0 {
		t.Errorf("mean is not symmetric with a zero diagonal")
	}
	bad := []struct {
		name string
		per  *PerImage
	}{
		{"nil", nil},
		{"short row", &PerImage{Rows: 4, Upper: [][]float64{{1, 2}}}},
		{"NaN", &PerImage{Rows: 2, Upper: [][]float64{{math.NaN()}}}},
	}
	for _, c := range bad {
		if _, err := BootstrapPhases(c.per, []int{2}, nil, 10, 1); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := BootstrapPhases(per, []int{9}, nil, 10, 1); err == nil {
		t.Errorf("k > rows: no error")
	}
}

func TestBootstrapPhasesFinderFailsOnTheFullMatrix(t *testing.T) {
	per := blockImages(6, 20, []int{3}, 0.2, 0.2, 8)
	noThree := func(w [][]float64, k int) (Partition, error) {
		if k == 3 {
			return nil, errors.New("no 3-phase split")
		}
		return ContiguousFinder(w, k)
	}
	st, err := BootstrapPhases(per, []int{2, 3}, noThree, 15, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Partition == nil || st[0].Failed != 0 {
		t.Errorf("k=2: partition %v, %d failed; want a partition and no failures", st[0].Partition, st[0].Failed)
	}
	if st[1].Partition != nil || st[1].Failed != 15 || len(st[1].BlockIndex) != 15 || st[1].BlockIndex[0] != -1 {
		t.Errorf("k=3: partition %v, %d failed, block indices %v; want nil, 15 failed, 15 × −1", st[1].Partition, st[1].Failed, st[1].BlockIndex)
	}
}
