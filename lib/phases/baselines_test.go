package phases

import (
	"slices"
	"testing"
)

func TestRandomContiguous(t *testing.T) {
	seen := map[string]int{}
	for seed := range uint64(3000) {
		p, err := RandomContiguous(6, 3, seed)
		if err != nil {
			t.Fatal(err)
		}
		if !p.IsContiguous() || p.K() != 3 || p.Validate(6) != nil {
			t.Fatalf("seed %d: %s", seed, p)
		}
		seen[p.String()]++
	}
	// All C(5,2) = 10 compositions appear, each about 300 times.
	if len(seen) != 10 {
		t.Fatalf("%d distinct partitions, want 10: %v", len(seen), seen)
	}
	for s, c := range seen {
		if c < 200 || c > 400 {
			t.Errorf("%s drawn %d times of 3000", s, c)
		}
	}
	a, _ := RandomContiguous(12, 3, 42)
	b, _ := RandomContiguous(12, 3, 42)
	if a.String() != b.String() {
		t.Error("same seed, different partitions")
	}
	for _, bad := range [][2]int{{5, 0}, {5, 6}} {
		if _, err := RandomContiguous(bad[0], bad[1], 1); err == nil {
			t.Errorf("RandomContiguous(%d, %d) accepted", bad[0], bad[1])
		}
	}
}

func TestRandomShuffledAndSizes(t *testing.T) {
	sizes := []int{7, 3, 2}
	nonContiguous := 0
	for seed := range uint64(50) {
		p, err := RandomShuffled(sizes, seed)
		if err != nil {
			t.Fatal(err)
		}
		if p.Validate(12) != nil {
			t.Fatalf("seed %d: %s", seed, p)
		}
		got := p.Sizes()
		slices.Sort(got)
		if !slices.Equal(got, []int{2, 3, 7}) {
			t.Fatalf("seed %d: sizes %v", seed, p.Sizes())
		}
		if !p.IsContiguous() {
			nonContiguous++
		}
		q, err := RandomContiguousSizes(sizes, seed)
		if err != nil || !q.IsContiguous() || q.Validate(12) != nil {
			t.Fatalf("seed %d: RandomContiguousSizes %s %v", seed, q, err)
		}
	}
	if nonContiguous < 45 {
		t.Errorf("only %d of 50 shuffled partitions are non-contiguous", nonContiguous)
	}
	if _, err := RandomShuffled([]int{3, 0}, 1); err == nil {
		t.Error("zero size accepted")
	}
}
