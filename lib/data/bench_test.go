package data

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkBatcher measures training-batch production (batch 128, 32×32, crop+flip+normalise).
func BenchmarkBatcher(b *testing.B) {
	ds := Synthetic(5000, 32, 10, 1)
	for _, augment := range []bool{false, true} {
		name := "plain"
		if augment {
			name = "augment"
		}
		b.Run(name, func(b *testing.B) {
			bt, err := NewBatcher(ds, BatcherOptions{BatchSize: 128, Seed: 1, Augment: augment})
			if err != nil {
				b.Fatal(err)
			}
			defer bt.Close()
			b.ResetTimer()
			for b.Loop() {
				bt.Next()
			}
			b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkDINOv2Preprocess measures 32→256 bicubic + crop 224 + normalise per image.
func BenchmarkDINOv2Preprocess(b *testing.B) {
	ds := Synthetic(64, 32, 10, 1)
	p := DINOv2Preprocessor()
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	for b.Loop() {
		if _, err := p.Batch(ds, idx, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
}

// TestStandInFull reads the real CIFAR-10 JPEG stand-in when BLOCKREC_DATA_FULL=1 (slow; it
// extracts into the repository's data/ cache) and logs how long it took.
func TestStandInFull(t *testing.T) {
	if os.Getenv("BLOCKREC_DATA_FULL") != "1" {
		t.Skip("set BLOCKREC_DATA_FULL=1 to read the full stand-in")
	}
	start := time.Now()
	s, err := StandIn(context.Background(), Options{Offline: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: train %d, test %d images, %d classes %v, read in %v", s.Name(), s.Train.Len(), s.Test.Len(),
		s.NumClasses(), s.Train.ClassNames, time.Since(start))
	if s.Train.Len() != 50000 || s.Test.Len() != 10000 || s.NumClasses() != 10 {
		t.Fatalf("unexpected counts")
	}
	for c, n := range s.Train.ClassCounts() {
		if n != 5000 {
			t.Errorf("class %d has %d train images", c, n)
		}
	}
	t.Logf("measured train stats %v (CIFAR-10 reference %v)", ComputeStats(s.Train), CIFAR10Stats)
}
