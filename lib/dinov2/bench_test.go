package dinov2

import (
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/backend"
)

// BenchmarkExtractTiny measures img/s of the tiny with-registers model (dim 32, 3 layers) on
// 32×32 images (64 patches) in batches of 32.
func BenchmarkExtractTiny(b *testing.B) {
	m, err := FromArrays("random", TinyHFConfig(4, false), RandomArrays(TinyHFConfig(4, false), 1))
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewExtractor(backend.MustNew(), m, 32)
	if err != nil {
		b.Fatal(err)
	}
	const n = 64
	images := randomData(rand.New(rand.NewPCG(1, 2)), n*32*32*3)
	if _, err := e.Extract(images, n, 32, 32); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Extract(images, n, 32, 32); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
}
