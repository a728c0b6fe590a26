package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/vit"
)

func TestLearningRateSchedule(t *testing.T) {
	cfg := Config{Steps: 101, LR: 1e-3, MinLR: 1e-5, WarmupSteps: 10}
	tests := []struct {
		step int
		want float64
	}{
		{0, 1e-4},                      // first warm-up step: LR/warmup
		{9, 1e-3},                      // end of warm-up
		{10, 1e-3},                     // cosine starts at the peak
		{55, 1e-5 + 0.5*(1e-3-1e-5)*1}, // half-way: cos(π/2) = 0
		{100, 1e-5},                    // last step: minimum
	}
	for _, tc := range tests {
		if got := cfg.LearningRate(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LearningRate(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}
	// The graph version used in training agrees with the Go version at every step.
	b := backend.MustNew()
	exec := MustNewExec(b, func(step *Node) *Node { return cfg.learningRateGraph(step) })
	for step := range cfg.Steps {
		got := scalarOf(exec.MustExec(float32(step))[0])
		if want := cfg.LearningRate(step); math.Abs(got-want) > 1e-6*want+1e-9 {
			t.Fatalf("graph learning rate at step %d = %g, want %g", step, got, want)
		}
	}
}

// syntheticBatches is a learnable 3-class task: the class sets the mean colour of the image.
func syntheticBatches(batch, size int, seed uint64) Batches {
	return func(step int) ([]*tensors.Tensor, error) {
		rng := rand.New(rand.NewPCG(seed, uint64(step)))
		images := make([]float32, batch*size*size*3)
		labels := make([]int32, batch)
		for i := range batch {
			labels[i] = int32(rng.IntN(3))
			for p := range size * size {
				for c := range 3 {
					v := float32(rng.NormFloat64())
					if c == int(labels[i]) {
						v += 1.0
					}
					images[(i*size*size+p)*3+c] = v
				}
			}
		}
		return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, batch, size, size, 3),
			tensors.FromFlatDataAndDimensions(labels, batch)}, nil
	}
}

func tinyModel(t *testing.T, dropPath float64) *vit.Model {
	t.Helper()
	m, err := vit.New(vit.Config{ImageSize: 8, PatchSize: 4, Channels: 3, Dim: 16, Depth: 2, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, NumClasses: 3, HeadInput: vit.HeadCLS, DropPath: dropPath})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTinyViTLearnsSyntheticTask(t *testing.T) {
	b := backend.MustNew()
	m := tinyModel(t, 0.1)
	ctx := context.New()
	cfg := Config{Name: "synthetic", Steps: 150, LR: 3e-3, MinLR: 1e-4, WarmupSteps: 10, WeightDecay: 1e-4,
		ClipNorm: 1, Seed: 1, Progress: io.Discard}
	res, err := Run(b, ctx, cfg, ClassifierLoss(m, 0), syntheticBatches(32, 8, 7))
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != cfg.Steps {
		t.Fatalf("ran %d steps, want %d", res.Steps, cfg.Steps)
	}
	held := syntheticBatches(200, 8, 99)
	acc, err := Evaluate(b, ctx, m, func(yield func(EvalBatch) bool) {
		in, _ := held(0)
		yield(EvalBatch{Images: tensors.MustCopyFlatData[float32](in[0]), Labels: tensors.MustCopyFlatData[int32](in[1]), H: 8, W: 8})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out accuracy after %d steps: %.3f (chance 0.333), last loss %.3f", res.Steps, acc, res.LastLoss)
	if acc < 0.8 {
		t.Errorf("held-out accuracy %.3f, want >= 0.8 on an easy 3-class task", acc)
	}
}

// TestResumeMatchesUninterruptedRun interrupts a run (its batch source fails mid-way), restarts
// it, and checks it ends at the same step with the same weights as a run that was never stopped.
func TestResumeMatchesUninterruptedRun(t *testing.T) {
	b := backend.MustNew()
	base := Config{Name: "resume", Steps: 12, LR: 1e-3, MinLR: 1e-5, WarmupSteps: 2, ClipNorm: 1, Seed: 3,
		CheckpointEvery: 4, LogEvery: 2, Progress: io.Discard}
	batches := syntheticBatches(8, 8, 5)

	straight := base
	straight.Dir = t.TempDir()
	ctxA := context.New()
	if _, err := Run(b, ctxA, straight, ClassifierLoss(tinyModel(t, 0.2), 0.1), batches); err != nil {
		t.Fatal(err)
	}

	interrupted := base
	interrupted.Dir = t.TempDir()
	failing := func(step int) ([]*tensors.Tensor, error) {
		if step == 9 {
			return nil, errors.New("simulated interruption")
		}
		return batches(step)
	}
	if _, err := Run(b, context.New(), interrupted, ClassifierLoss(tinyModel(t, 0.2), 0.1), failing); err == nil {
		t.Fatal("interrupted run should fail")
	}
	if latest := LatestCheckpoint(interrupted.Dir); !strings.HasSuffix(latest, checkpointName(8)) {
		t.Fatalf("latest checkpoint after interruption = %q, want step 8", latest)
	}
	ctxB := context.New()
	var progress strings.Builder
	resumed := interrupted
	resumed.Progress = &progress
	res, err := Run(b, ctxB, resumed, ClassifierLoss(tinyModel(t, 0.2), 0.1), batches)
	if err != nil {
		t.Fatal(err)
	}
	if want := "train resume: resuming at step 8 of 12 from " + checkpointName(8); !strings.Contains(progress.String(), want) {
		t.Errorf("the resumed run's progress does not say where it resumed: want %q in\n%s", want, progress.String())
	}
	if res.StartStep != 8 || res.Steps != 12 {
		t.Fatalf("resumed run went from %d to %d, want 8 to 12", res.StartStep, res.Steps)
	}
	wa, _ := tinyModel(t, 0).Config.Weights(ctxA)
	wb, _ := tinyModel(t, 0).Config.Weights(ctxB)
	for name, ta := range wa {
		a, bb := tensors.MustCopyFlatData[float32](ta), tensors.MustCopyFlatData[float32](wb[name])
		for i := range a {
			if math.Abs(float64(a[i]-bb[i])) > 1e-5 {
				t.Fatalf("%s[%d]: uninterrupted %g, resumed %g", name, i, a[i], bb[i])
			}
		}
	}
	recs, err := ReadMetrics(filepath.Join(interrupted.Dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Step != 2*(i+1) {
			t.Fatalf("metrics.jsonl record %d has step %d: the log should read as one run (2, 4, ..., 12)", i, r.Step)
		}
	}
	// Running again after the end does nothing.
	res, err = Run(b, context.New(), interrupted, ClassifierLoss(tinyModel(t, 0.2), 0.1), batches)
	if err != nil || res.StartStep != 12 || res.Steps != 12 {
		t.Fatalf("rerun of a finished run: %+v, %v", res, err)
	}
}

func TestCheckpointErrors(t *testing.T) {
	b := backend.MustNew()
	dir := t.TempDir()
	cfg := Config{Name: "ckpt", Steps: 2, LR: 1e-3, Dir: dir, Progress: io.Discard}
	if _, err := Run(b, context.New(), cfg, ClassifierLoss(tinyModel(t, 0), 0), syntheticBatches(4, 8, 1)); err != nil {
		t.Fatal(err)
	}
	path := LatestCheckpoint(dir)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		corrupt func([]byte) []byte
		want    string
	}{
		{"flipped data byte", func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)-3] ^= 0xff; return c }, "checksum mismatch"},
		{"truncated data", func(b []byte) []byte { return b[:len(b)-100] }, "truncated"},
		{"truncated header", func(b []byte) []byte { return b[:40] }, "truncated"},
		{"not a checkpoint", func([]byte) []byte { return []byte("hello") }, "bad magic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "checkpoint-000000002.bin")
			if err := os.WriteFile(p, tc.corrupt(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCheckpoint(context.New(), p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error = %v, want one naming %s and saying %q", err, p, tc.want)
			}
			// Resuming from a corrupt checkpoint refuses, naming the file, rather than starting over.
			_, err = Run(b, context.New(), Config{Name: "x", Steps: 3, LR: 1e-3, Dir: filepath.Dir(p), Progress: io.Discard},
				ClassifierLoss(tinyModel(t, 0), 0), syntheticBatches(4, 8, 1))
			if err == nil || !strings.Contains(err.Error(), p) {
				t.Fatalf("resume from corrupt checkpoint: error = %v", err)
			}
		})
	}
}

func TestNaNLossStops(t *testing.T) {
	b := backend.MustNew()
	lossFn := func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
		w := vit.Param(ctx, inputs[0].Graph(), "w", nil, 1)
		return Div(ReduceAllSum(w), ScalarZero(inputs[0].Graph(), w.DType())), nil
	}
	_, err := Run(b, context.New(), Config{Name: "nan", Steps: 3, LR: 1e-3, Progress: io.Discard}, lossFn,
		func(int) ([]*tensors.Tensor, error) { return []*tensors.Tensor{tensors.FromValue([]float32{1})}, nil })
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "step 0") {
		t.Fatalf("error = %v, want ErrNonFinite at step 0", err)
	}
}

func TestKeepStepsSurvivePruning(t *testing.T) {
	b := backend.MustNew()
	cfg := Config{Name: "keep", Steps: 12, LR: 1e-3, MinLR: 1e-5, Seed: 3, CheckpointEvery: 2, KeepCheckpoints: 1,
		KeepSteps: []int{3, 6}, LogEvery: 4, Progress: io.Discard, Dir: t.TempDir()}
	if _, err := Run(b, context.New(), cfg, ClassifierLoss(tinyModel(t, 0), 0), syntheticBatches(8, 8, 5)); err != nil {
		t.Fatal(err)
	}
	_, steps, err := ListCheckpoints(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(steps) != "[3 6 12]" {
		t.Errorf("checkpoints left at steps %v, want [3 6 12] (kept steps 3 and 6, and the newest)", steps)
	}
	if _, at := KeptCheckpoints(cfg.Dir, []int{3, 6, 9}); fmt.Sprint(at) != "[3 6]" {
		t.Errorf("KeptCheckpoints = %v, want [3 6]", at)
	}
}
