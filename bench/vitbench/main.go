// Command vitbench times training and forward steps of a lib/vit model on the selected GoMLX
// backend and prints one JSON line per config. bench/vit.sh runs it next to the same model in
// PyTorch and prints the ratio.
//
// Besides wall time (median over the timed steps) it reports the process CPU time (user+sys from
// getrusage) per step, which is less sensitive to other programs sharing the machine, the 1-minute
// load average before each config, and the peak RSS. -cpuprofile writes a pprof CPU profile of the
// timed steps (not of graph compilation).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"golang.org/x/sys/unix"

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
	TrainCPUSec  float64 `json:"train_cpu_s"` // user+sys CPU seconds per training step (mean)
	FwdStepSec   float64 `json:"forward_step_s"`
	FwdImgSec    float64 `json:"forward_img_s"`
	FwdCPUSec    float64 `json:"forward_cpu_s"` // user+sys CPU seconds per forward pass (mean)
	Load1        float64 `json:"load1"`         // 1-minute load average before the config ran
	MaxRSSMB     float64 `json:"max_rss_mb"`
	Backend      string  `json:"backend"`
	GELU         string  `json:"gelu"`
	// TrainFirstSec and FwdFirstSec are the wall seconds of the first training step and forward
	// pass, which include building and compiling the graph; CompileSec is the first training step
	// less the median one (graph build + compile).
	TrainFirstSec float64 `json:"train_first_s"`
	FwdFirstSec   float64 `json:"forward_first_s"`
	CompileSec    float64 `json:"compile_s"`
	Threads       int     `json:"threads"` // CPUs this process may run on (its affinity mask)
}

// allowedCPUs counts the CPUs in this process's affinity mask (taskset sets it).
func allowedCPUs() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return runtime.NumCPU()
	}
	return set.Count()
}

// cpuSeconds is the user+sys CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func maxRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func main() {
	configs := flag.String("configs", "192x6x3x128x4,64x2x2x32x4", "dim x layers x heads x batch x patch, comma-separated")
	steps := flag.Int("steps", 3, "timed steps (after one warm-up step)")
	cpuProfile := flag.String("cpuprofile", "", "write CPU profiles of the timed steps to PREFIX.<config>.<train|forward>.prof")
	mode := flag.String("mode", "both", "what to time: train, forward or both")
	approx := flag.Bool("approx-gelu", false, "use the tanh approximation of GELU (not the default)")
	tokenOps := flag.String("token-ops", "auto", "how lib/vit places and reads tokens: auto, matmul or native (vit.TokenOps)")
	stockDot := flag.Bool("stock-dotgrad", false, "use GoMLX's own DotGeneral gradient instead of blockrec's (lib/backend/dotgrad.go)")
	flag.Parse()
	vit.TokenOps = *tokenOps
	if *stockDot {
		backend.RestoreStockDotGeneralGradient()
	}
	b, err := backend.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vitbench:", err)
		os.Exit(2)
	}
	var prof *os.File
	startProfile := func(name string) {
		if *cpuProfile == "" || prof != nil {
			return
		}
		var err error
		if prof, err = os.Create(*cpuProfile + "." + name + ".prof"); err != nil {
			fmt.Fprintln(os.Stderr, "vitbench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(prof); err != nil {
			fmt.Fprintln(os.Stderr, "vitbench:", err)
			os.Exit(2)
		}
	}
	pauseProfile := func() {
		if prof != nil {
			pprof.StopCPUProfile()
			_ = prof.Close()
			prof = nil
		}
	}
	for _, spec := range strings.Split(*configs, ",") {
		var p [5]int
		fields := strings.Split(spec, "x")
		if len(fields) != 5 {
			fmt.Fprintf(os.Stderr, "vitbench: config %q: want dim x layers x heads x batch x patch\n", spec)
			os.Exit(2)
		}
		for i, f := range fields {
			var err error
			if p[i], err = strconv.Atoi(f); err != nil {
				fmt.Fprintf(os.Stderr, "vitbench: config %q: %v\n", spec, err)
				os.Exit(2)
			}
		}
		cfg := vit.Config{ImageSize: 32, PatchSize: p[4], Channels: 3, Dim: p[0], Depth: p[1], Heads: p[2],
			MLPHidden: 4 * p[0], MLP: vit.MLPGELU, LayerNormEps: 1e-6, NumClasses: 100, HeadInput: vit.HeadCLS,
			ApproximateGELU: *approx}
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
		r := result{Impl: "gomlx", Config: fmt.Sprintf("dim %d, %d layers, %d heads, patch %d", p[0], p[1], p[2], p[4]),
			Batch: batch, Backend: backend.Describe(b), Load1: load1(), GELU: "erf", Threads: allowedCPUs()}
		if *approx {
			r.GELU = "tanh"
		}
		ctx := context.New()
		if *mode != "forward" {
			// Step 0 compiles; the timed steps are 1..steps. batches(step) is called just before step runs.
			var wallAt, cpuAt []float64
			batches := func(step int) ([]*tensors.Tensor, error) {
				if step == 1 {
					startProfile(spec + ".train")
				}
				wallAt = append(wallAt, float64(time.Now().UnixNano())/1e9)
				cpuAt = append(cpuAt, cpuSeconds())
				return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, batch, 32, 32, 3),
					tensors.FromFlatDataAndDimensions(labels, batch)}, nil
			}
			_, err := train.Run(b, ctx, train.Config{Name: "bench", Steps: *steps + 1, LR: 1e-4, ClipNorm: 1,
				Progress: io.Discard, LogEvery: 1}, train.ClassifierLoss(m, 0), batches)
			wallAt = append(wallAt, float64(time.Now().UnixNano())/1e9)
			cpuAt = append(cpuAt, cpuSeconds())
			pauseProfile()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			var walls []float64
			for i := 1; i+1 < len(wallAt); i++ {
				walls = append(walls, wallAt[i+1]-wallAt[i])
			}
			r.TrainStepSec = median(walls)
			r.TrainFirstSec = wallAt[1] - wallAt[0]
			r.CompileSec = max(0, r.TrainFirstSec-r.TrainStepSec)
			r.TrainImgSec = float64(batch) / r.TrainStepSec
			r.TrainCPUSec = (cpuAt[len(cpuAt)-1] - cpuAt[1]) / float64(len(walls))
		}
		if *mode != "train" {
			fwd := context.MustNewExec(b, ctx, func(ctx *context.Context, x *Node) *Node { return m.Forward(ctx, x).Logits })
			in := tensors.FromFlatDataAndDimensions(images, batch, 32, 32, 3)
			t0 := time.Now()
			fwd.MustExec(in)
			r.FwdFirstSec = time.Since(t0).Seconds()
			startProfile(spec + ".forward")
			var times []float64
			cpu0 := cpuSeconds()
			for range *steps {
				t0 := time.Now()
				fwd.MustExec(in)
				times = append(times, time.Since(t0).Seconds())
			}
			r.FwdCPUSec = (cpuSeconds() - cpu0) / float64(*steps)
			pauseProfile()
			r.FwdStepSec = median(times)
			r.FwdImgSec = float64(batch) / r.FwdStepSec
		}
		r.MaxRSSMB = maxRSSMB()
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
	}
}
