// Command vitbench times training and forward steps of a lib/vit model on the selected GoMLX
// backend and prints one JSON line per config. bench/vit.sh runs it next to the same model in
// PyTorch and prints the ratio.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	. "github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

type result struct {
	Impl         string  `json:"impl"`
	Config       string  `json:"config"`
	Batch        int     `json:"batch"`
	TrainStepSec float64 `json:"train_step_s"`
	TrainImgSec  float64 `json:"train_img_s"`
	FwdStepSec   float64 `json:"forward_step_s"`
	FwdImgSec    float64 `json:"forward_img_s"`
	Backend      string  `json:"backend"`
}

func main() {
	configs := flag.String("configs", "192x6x3x128x4,64x2x2x32x4", "dim x layers x heads x batch x patch, comma-separated")
	steps := flag.Int("steps", 3, "timed steps (after one warm-up step)")
	flag.Parse()
	b := backend.MustNew()
	for _, spec := range strings.Split(*configs, ",") {
		var p [5]int
		for i, f := range strings.Split(spec, "x") {
			p[i], _ = strconv.Atoi(f)
		}
		cfg := vit.Config{ImageSize: 32, PatchSize: p[4], Channels: 3, Dim: p[0], Depth: p[1], Heads: p[2],
			MLPHidden: 4 * p[0], MLP: vit.MLPGELU, LayerNormEps: 1e-6, NumClasses: 100, HeadInput: vit.HeadCLS}
		m, err := vit.New(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		batch := p[3]
		rng := rand.New(rand.NewPCG(1, 2))
		images := make([]float32, batch*32*32*3)
		for i := range images {
			images[i] = float32(rng.NormFloat64())
		}
		labels := make([]int32, batch)
		for i := range labels {
			labels[i] = int32(rng.IntN(100))
		}
		batches := func(int) ([]*tensors.Tensor, error) {
			return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, batch, 32, 32, 3),
				tensors.FromFlatDataAndDimensions(labels, batch)}, nil
		}
		ctx := context.New()
		res, err := train.Run(b, ctx, train.Config{Name: "bench", Steps: *steps + 1, LR: 1e-4, ClipNorm: 1,
			Progress: io.Discard, LogEvery: 1}, train.ClassifierLoss(m, 0), batches)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		trainSec := 1 / res.StepsPerSec

		fwd := context.MustNewExec(b, ctx, func(ctx *context.Context, x *Node) *Node { return m.Forward(ctx, x).Logits })
		in := tensors.FromFlatDataAndDimensions(images, batch, 32, 32, 3)
		fwd.MustExec(in)
		var times []float64
		for range *steps {
			t0 := time.Now()
			fwd.MustExec(in)
			times = append(times, time.Since(t0).Seconds())
		}
		sort.Float64s(times)
		fwdSec := times[len(times)/2]
		r := result{Impl: "gomlx", Config: fmt.Sprintf("dim %d, %d layers, %d heads, patch %d", p[0], p[1], p[2], p[4]),
			Batch: batch, TrainStepSec: trainSec, TrainImgSec: float64(batch) / trainSec, FwdStepSec: fwdSec,
			FwdImgSec: float64(batch) / fwdSec, Backend: backend.Describe(b)}
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
	}
}
