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

func TestContiguousBaselines(t *testing.T) {
	tests := []struct {
		n, k, draws int
		want        int
		exhaustive  bool
	}{
		{8, 2, 0, 7, true},     // C(7,1)
		{8, 3, 0, 21, true},    // C(7,2)
		{8, 4, 10, 35, true},   // C(7,3) = 35 ≤ 50: enumerated, draws ignored
		{12, 3, 0, 55, false},  // C(11,2) = 55 > 50 needs draws
		{12, 3, 12, 12, false}, // drawn
		{6, 6, 0, 1, true},     // C(5,5)
	}
	for _, tc := range tests {
		ps, ex, err := ContiguousBaselines(tc.n, tc.k, tc.draws, 1)
		if tc.n == 12 && tc.draws == 0 {
			if err == nil {
				t.Errorf("n=12 k=3 with 0 draws accepted")
			}
			continue
		}
		if err != nil || ex != tc.exhaustive || len(ps) != tc.want {
			t.Fatalf("n=%d k=%d: %d partitions, exhaustive %v, %v; want %d, %v", tc.n, tc.k, len(ps), ex, err, tc.want, tc.exhaustive)
		}
		seen := map[string]bool{}
		for _, p := range ps {
			if !p.IsContiguous() || p.K() != tc.k || p.Validate(tc.n) != nil {
				t.Fatalf("bad partition %s", p)
			}
			seen[p.String()] = true
		}
		if ex && len(seen) != len(ps) {
			t.Errorf("n=%d k=%d: duplicates in the enumeration", tc.n, tc.k)
		}
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		v    float64
		b    []float64
		want float64
	}{
		{5, []float64{1, 2, 3, 4}, 100},
		{0, []float64{1, 2, 3, 4}, 0},
		{2, []float64{1, 2, 3, 4}, 37.5}, // (1 + ½)/4
		{3, []float64{3, 3}, 50},
	}
	for _, tc := range tests {
		if got, err := Percentile(tc.v, tc.b); err != nil || !near(got, tc.want) {
			t.Errorf("Percentile(%v, %v) = %v, %v; want %v", tc.v, tc.b, got, err, tc.want)
		}
	}
	if _, err := Percentile(1, nil); err == nil {
		t.Error("no baselines accepted")
	}
}
