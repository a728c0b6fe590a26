// Command dotbench times single DotGeneral ops of the shapes a ViT training step uses on the
// pure-Go backend, under several backend options, and prints GFLOP/s per wall second and per CPU
// second (user+sys), so the fast layouts and paths of the backend can be compared.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// dotCase is one DotGeneral: operand dims and axes.
type dotCase struct {
	name           string
	lhs, rhs       []int
	lc, lb, rc, rb []int
	flops          float64
}

func mk(name string, lhs []int, lc, lb []int, rhs []int, rc, rb []int) dotCase {
	prod := 1
	for _, d := range lhs {
		prod *= d
	}
	used := map[int]bool{}
	for _, a := range rb {
		used[a] = true
	}
	for _, a := range rc {
		used[a] = true
	}
	for a, d := range rhs {
		if !used[a] {
			prod *= d
		}
	}
	return dotCase{name, lhs, rhs, lc, lb, rc, rb, 2 * float64(prod)}
}

func main() {
	opts := flag.String("opts", "parallelism=0;parallelism=0,dotgeneral_large;parallelism=0,dotgeneral_small;parallelism=-1", "backend configs, ;-separated")
	reps := flag.Int("reps", 3, "timed repetitions")
	blk := flag.Int("blocklog2", 0, "if > 0, set simplego.DotGeneralTargetBlockLog2Dim[float32]")
	only := flag.String("only", "", "run only cases whose name contains this")
	b, t, d, h := 128, 65, 192, 3
	flag.IntVar(&b, "b", b, "batch")
	flag.IntVar(&d, "d", d, "dim")
	flag.IntVar(&h, "h", h, "heads")
	flag.Parse()
	if *blk > 0 {
		simplego.DotGeneralTargetBlockLog2Dim[dtypes.Float32] = *blk
	}
	n, hd := b*t, d/h
	cases := []dotCase{
		mk("dense x[b,t,d]·W[d,d]", []int{b, t, d}, []int{2}, nil, []int{d, d}, []int{0}, nil),
		mk("dense x[N,d]·W[d,d] (2D)", []int{n, d}, []int{1}, nil, []int{d, d}, []int{0}, nil),
		mk("dense x[b,t,d]·W[d,4d]", []int{b, t, d}, []int{2}, nil, []int{d, 4 * d}, []int{0}, nil),
		mk("dense x[b,t,4d]·W[4d,d]", []int{b, t, 4 * d}, []int{2}, nil, []int{4 * d, d}, []int{0}, nil),
		mk("dense x[b,t,d]·W[d,3d] (qkv)", []int{b, t, d}, []int{2}, nil, []int{d, 3 * d}, []int{0}, nil),
		mk("dX dY[b,t,d]·W[d,d]^T", []int{b, t, d}, []int{2}, nil, []int{d, d}, []int{1}, nil),
		mk("dW x[b,t,d]^T·dY[b,t,d]", []int{b, t, d}, []int{0, 1}, nil, []int{b, t, d}, []int{0, 1}, nil),
		mk("dW batched over b (+reduce)", []int{b, t, d}, []int{1}, []int{0}, []int{b, t, d}, []int{1}, []int{0}),
		mk("dW x[b,t,d]^T·dY[b,t,4d]", []int{b, t, d}, []int{0, 1}, nil, []int{b, t, 4 * d}, []int{0, 1}, nil),
		mk("scores q[b,t,h,hd]·k (batch b,h)", []int{b, t, h, hd}, []int{3}, []int{0, 2}, []int{b, t, h, hd}, []int{3}, []int{0, 2}),
		mk("scores q[b,h,t,hd]·k[b,h,t,hd]", []int{b, h, t, hd}, []int{3}, []int{0, 1}, []int{b, h, t, hd}, []int{3}, []int{0, 1}),
		mk("pv p[b,h,t,t]·v[b,t,h,hd]", []int{b, h, t, t}, []int{3}, []int{0, 1}, []int{b, t, h, hd}, []int{1}, []int{0, 2}),
		mk("pv p[b,h,t,t]·vT[b,h,hd,t]", []int{b, h, t, t}, []int{3}, []int{0, 1}, []int{b, h, hd, t}, []int{3}, []int{0, 1}),
	}
	for _, opt := range strings.Split(*opts, ";") {
		stdout := os.Stdout
		os.Stdout, _ = os.Open(os.DevNull) // silence simplego's parallelism line
		be, err := simplego.New(opt)
		os.Stdout = stdout
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("== %s (load %s)\n", opt, load())
		for _, c := range cases {
			if *only != "" && !strings.Contains(c.name, *only) {
				continue
			}
			run(be, c, *reps)
		}
	}
}

func load() string {
	bs, _ := os.ReadFile("/proc/loadavg")
	return strings.Fields(string(bs))[0]
}

func run(be backends.Backend, c dotCase, reps int) {
	exec := MustNewExec(be, func(l, r *Node) *Node { return DotGeneral(l, c.lc, c.lb, r, c.rc, c.rb) })
	size := func(dims []int) int {
		p := 1
		for _, d := range dims {
			p *= d
		}
		return p
	}
	ld, rd := make([]float32, size(c.lhs)), make([]float32, size(c.rhs))
	for i := range ld {
		ld[i] = float32(i%7) * 0.1
	}
	for i := range rd {
		rd[i] = float32(i%5) * 0.1
	}
	lt, rt := tensors.FromFlatDataAndDimensions(ld, c.lhs...), tensors.FromFlatDataAndDimensions(rd, c.rhs...)
	exec.MustExec(lt, rt)
	t0, c0 := time.Now(), cpuSeconds()
	for range reps {
		exec.MustExec(lt, rt)
	}
	wall, cpu := time.Since(t0).Seconds()/float64(reps), (cpuSeconds()-c0)/float64(reps)
	fmt.Printf("  %-36s %7.1f MFLOP  wall %7.2f ms %6.2f GFLOP/s  cpu %7.2f ms %6.2f GFLOP/cpu-s\n",
		c.name, c.flops/1e6, wall*1e3, c.flops/wall/1e9, cpu*1e3, c.flops/cpu/1e9)
}
