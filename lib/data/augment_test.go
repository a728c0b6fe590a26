package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCropApply(t *testing.T) {
	img := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9} // 3×3×1
	tests := []struct {
		crop Crop
		want []uint8
	}{
		{Crop{Pad: 1, DY: 1, DX: 1}, []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{Crop{Pad: 1, DY: 0, DX: 0}, []uint8{0, 0, 0, 0, 1, 2, 0, 4, 5}},
		{Crop{Pad: 1, DY: 2, DX: 2}, []uint8{5, 6, 0, 8, 9, 0, 0, 0, 0}},
		{Crop{Pad: 1, DY: 2, DX: 1}, []uint8{4, 5, 6, 7, 8, 9, 0, 0, 0}},
		{Crop{Pad: 1, DY: 1, DX: 1, Flip: true}, []uint8{3, 2, 1, 6, 5, 4, 9, 8, 7}},
		{Crop{Pad: 1, DY: 0, DX: 2, Flip: true}, []uint8{0, 0, 0, 0, 3, 2, 0, 6, 5}},
		{Crop{Pad: 4, DY: 8, DX: 0}, []uint8{0, 0, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		got := make([]uint8, 9)
		for i := range got {
			got[i] = 99 // must all be overwritten
		}
		tc.crop.Apply(got, img, 3, 3, 1)
		if string(got) != string(tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.crop, got, tc.want)
		}
	}
	// Channels move together: a 1×2×2 image flipped.
	got := make([]uint8, 4)
	Crop{Flip: true}.Apply(got, []uint8{1, 2, 3, 4}, 1, 2, 2)
	if string(got) != string([]uint8{3, 4, 1, 2}) {
		t.Errorf("2-channel flip: %v", got)
	}
}

func TestRandomCropDistribution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[[3]int]int{}
	const n = 18000
	for range n {
		c := RandomCrop(rng, 1, true)
		f := 0
		if c.Flip {
			f = 1
		}
		counts[[3]int{c.DY, c.DX, f}]++
	}
	if len(counts) != 18 {
		t.Fatalf("%d distinct crops, want 18", len(counts))
	}
	for k, v := range counts {
		if v < n/18-150 || v > n/18+150 {
			t.Errorf("crop %v drawn %d times of %d", k, v, n)
		}
	}
}

// The fused crop+normalise equals crop then normalise.
func TestApplyNormalizedMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const h, w, c = 5, 6, 3
	img := make([]uint8, h*w*c)
	for i := range img {
		img[i] = uint8(rng.IntN(256))
	}
	tab := CIFAR10Stats.Table()
	for range 50 {
		cr := RandomCrop(rng, 2, true)
		crop := make([]uint8, len(img))
		cr.Apply(crop, img, h, w, c)
		want := make([]float32, len(img))
		Normalize(want, crop, CIFAR10Stats)
		got := make([]float32, len(img))
		cr.applyNormalized(got, img, h, w, c, tab)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%+v: value %d: %v, want %v", cr, i, got[i], want[i])
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	src := []uint8{0, 255, 128, 255, 0, 51}
	got := make([]float32, len(src))
	Normalize(got, src, CIFAR100Stats)
	for i, p := range src {
		c := i % 3
		want := (float64(p)/255 - float64(CIFAR100Stats.Mean[c])) / float64(CIFAR100Stats.Std[c])
		if math.Abs(float64(got[i])-want) > 1e-5 {
			t.Errorf("value %d: %v, want %v", i, got[i], want)
		}
	}
	// Known value: byte 0 of channel 0 of CIFAR-10 is −0.4914/0.2470.
	Normalize(got[:3], []uint8{0, 0, 0}, CIFAR10Stats)
	if math.Abs(float64(got[0])+0.4914/0.2470) > 1e-5 {
		t.Errorf("normalised black red channel %v", got[0])
	}
}

func TestComputeStats(t *testing.T) {
	d := Synthetic(40, 8, 4, 9)
	s := ComputeStats(d)
	// Two-pass reference.
	for c := range 3 {
		var sum float64
		n := 0
		for i := c; i < len(d.Pixels); i += 3 {
			sum += float64(d.Pixels[i]) / 255
			n++
		}
		mean := sum / float64(n)
		var ss float64
		for i := c; i < len(d.Pixels); i += 3 {
			v := float64(d.Pixels[i])/255 - mean
			ss += v * v
		}
		std := math.Sqrt(ss / float64(n))
		if math.Abs(float64(s.Mean[c])-mean) > 1e-6 || math.Abs(float64(s.Std[c])-std) > 1e-5 {
			t.Errorf("channel %d: mean %v std %v, want %v %v", c, s.Mean[c], s.Std[c], mean, std)
		}
	}
}
