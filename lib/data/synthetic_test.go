package data

import (
	"slices"
	"testing"
)

func TestSyntheticShapeBalance(t *testing.T) {
	tests := []struct{ n, size, classes int }{{100, 32, 10}, {103, 16, 10}, {250, 8, 100}, {7, 4, 3}}
	for _, tc := range tests {
		d := Synthetic(tc.n, tc.size, tc.classes, 1)
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.Len() != tc.n || d.H != tc.size || d.W != tc.size || d.C != 3 || d.NumClasses != tc.classes || d.Kind != KindSynthetic {
			t.Fatalf("%+v: got %d images %dx%dx%d, %d classes", tc, d.Len(), d.H, d.W, d.C, d.NumClasses)
		}
		counts := d.ClassCounts()
		if slices.Max(counts)-slices.Min(counts) > 1 {
			t.Errorf("%+v: unbalanced counts %v", tc, counts)
		}
	}
	a, b, c := Synthetic(20, 8, 4, 5), Synthetic(20, 8, 4, 5), Synthetic(20, 8, 4, 6)
	if !slices.Equal(a.Pixels, b.Pixels) || !slices.Equal(a.Labels, b.Labels) {
		t.Errorf("same seed, different data")
	}
	if slices.Equal(a.Pixels, c.Pixels) {
		t.Errorf("different seeds, same data")
	}
}

// A nearest-class-mean classifier trained on one seed's images must classify another seed's
// images well above chance: the task is learnable and the class signatures do not depend on the seed.
func TestSyntheticLearnable(t *testing.T) {
	tests := []struct {
		classes, size, train int
		minAcc               float64
	}{{10, 32, 1000, 0.9}, {100, 32, 3000, 0.6}}
	for _, tc := range tests {
		train := Synthetic(tc.train, tc.size, tc.classes, 1)
		test := Synthetic(500, tc.size, tc.classes, 2)
		acc := nearestMeanAccuracy(train, test)
		t.Logf("%d classes: nearest-class-mean test accuracy %.3f (chance %.3f)", tc.classes, acc, 1/float64(tc.classes))
		if acc < tc.minAcc {
			t.Errorf("%d classes: accuracy %.3f < %.2f", tc.classes, acc, tc.minAcc)
		}
	}
}

func nearestMeanAccuracy(train, test *Dataset) float64 {
	n := train.ImageSize()
	means := make([][]float64, train.NumClasses)
	counts := train.ClassCounts()
	for c := range means {
		means[c] = make([]float64, n)
	}
	for i, l := range train.Labels {
		for k, p := range train.Image(i) {
			means[l][k] += float64(p) / float64(counts[l])
		}
	}
	correct := 0
	for i, l := range test.Labels {
		best, bestD := -1, 0.0
		for c, m := range means {
			var d float64
			for k, p := range test.Image(i) {
				v := float64(p) - m[k]
				d += v * v
			}
			if best < 0 || d < bestD {
				best, bestD = c, d
			}
		}
		if int32(best) == l {
			correct++
		}
	}
	return float64(correct) / float64(test.Len())
}

func TestSubsetSplit(t *testing.T) {
	d := Synthetic(30, 4, 3, 1)
	s := d.Subset(10, 3)
	if s.Len() != 10 {
		t.Fatalf("subset of %d", s.Len())
	}
	// Each subset image is a data set image with its label, in increasing original order.
	last := -1
	for j := range s.Len() {
		found := -1
		for i := range d.Len() {
			if slices.Equal(d.Image(i), s.Image(j)) && d.Labels[i] == s.Labels[j] {
				found = i
				break
			}
		}
		if found <= last {
			t.Fatalf("subset image %d: found at %d after %d", j, found, last)
		}
		last = found
	}
	if !slices.Equal(d.Subset(10, 3).Pixels, s.Pixels) || slices.Equal(d.Subset(10, 4).Pixels, s.Pixels) {
		t.Errorf("Subset is not a function of the seed")
	}
	a, b := d.SplitRandom(0.2, 1)
	if a.Len() != 6 || b.Len() != 24 {
		t.Fatalf("split %d/%d", a.Len(), b.Len())
	}
	if d.Subset(100, 1).Len() != 30 {
		t.Errorf("oversized subset")
	}
}
