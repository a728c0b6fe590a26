package vit_test

import (
	"math/rand/v2"
	"syscall"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// cpuSeconds is this process's user+sys CPU time: on a shared machine it varies less than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// benchConfig is the small benchmark config of bench/vit.sh ("64x2x2x32x4"): dim 64, 2 layers,
// 2 heads, patch 4 on 32×32 images (65 tokens), MLP 4×, 100 classes.
func benchConfig() vit.Config {
	return vit.Config{ImageSize: 32, PatchSize: 4, Channels: 3, Dim: 64, Depth: 2, Heads: 2, MLPHidden: 256,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, NumClasses: 100, HeadInput: vit.HeadCLS}
}

// benchTrainStep times one training step (forward, cross-entropy, gradients through the whole
// model, SGD update) at batch 32. It reports img/s and CPU seconds per step besides ns/op.
func benchTrainStep(b *testing.B, cfg vit.Config) {
	be := backend.MustNew()
	m, err := vit.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 32
	rng := rand.New(rand.NewPCG(3, 4))
	images := make([]float32, batch*32*32*3)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(cfg.NumClasses))
	}
	ctx := context.New()
	opt := optimizers.StochasticGradientDescent()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, x, y *Node) *Node {
		ctx.SetTraining(x.Graph(), true)
		loss := train.CrossEntropy(m.Forward(ctx, x).Logits, y, 0)
		opt.UpdateGraph(ctx, x.Graph(), loss)
		return loss
	})
	if err != nil {
		b.Fatal(err)
	}
	in := tensors.FromFlatDataAndDimensions(images, batch, 32, 32, 3)
	lab := tensors.FromFlatDataAndDimensions(labels, batch)
	exec.MustExec(in, lab) // compiles
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		exec.MustExec(in, lab)
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkTrainStepSmall is a training step of the small benchmark config with the exact GELU.
func BenchmarkTrainStepSmall(b *testing.B) { benchTrainStep(b, benchConfig()) }

// BenchmarkTrainStepSmallTanhGELU is the same with the tanh approximation of GELU.
func BenchmarkTrainStepSmallTanhGELU(b *testing.B) {
	cfg := benchConfig()
	cfg.ApproximateGELU = true
	benchTrainStep(b, cfg)
}
