package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/recipes"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// fakeTeacherRun writes a train-vit run folder (result.json, a checkpoint under scope "vit") for
// a freshly initialised tiny ViT on 32×32 synthetic images.
func fakeTeacherRun(t *testing.T, dir string) {
	cfg := vit.Config{ImageSize: 32, PatchSize: 16, Channels: 3, Dim: 8, Depth: 4, Heads: 2, MLPHidden: 16,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, NumClasses: 10, HeadInput: vit.HeadCLS}
	m, err := vit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testctx.New(t)
	exec := context.MustNewExec(backend.MustNew(), ctx, func(ctx *context.Context, x *Node) *Node {
		return m.Forward(ctx.In("vit"), x).Logits
	})
	exec.MustExec(tensors.FromFlatDataAndDimensions(make([]float32, 32*32*3), 1, 32, 32, 3)) // creates the variables
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := train.SaveCheckpoint(ctx, 1, filepath.Join(dir, "checkpoints", "checkpoint-000000001.bin")); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(recipes.ViTResult{Spec: recipes.ViTSpec{Model: cfg}, Steps: 1})
	if err := os.WriteFile(filepath.Join(dir, "result.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRaptorCommandRunsAndResumes(t *testing.T) {
	dir := t.TempDir()
	teacher := filepath.Join(dir, "teacher")
	fakeTeacherRun(t, teacher)
	out := filepath.Join(dir, "raptor")
	args := []string{"raptor", "--teacher", teacher, "--out", out, "--data", "synthetic", "--thresholds", "2",
		"--train-images", "48", "--val-images", "32", "--stage1-steps", "4", "--stage2-steps", "4", "--batch", "16", "--mlp", "gelu"}
	var o1, e1 bytes.Buffer
	if code := dispatch(args, &o1, &e1); code != 0 {
		t.Fatalf("exit %d: %s", code, e1.String())
	}
	if !strings.Contains(o1.String(), "accuracy") {
		t.Fatalf("output %q", o1.String())
	}
	var res recipes.RaptorResult
	raw, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.R2) != 4 || res.ValImages != 32 || res.K != 2 || res.Partition != "1-2 3-4" {
		t.Errorf("result %+v", res)
	}
	// Rerunning resumes from the finished checkpoints and reproduces the result.
	var o2, e2 bytes.Buffer
	if code := dispatch(args, &o2, &e2); code != 0 {
		t.Fatalf("rerun exit %d: %s", code, e2.String())
	}
	if o1.String() != o2.String() {
		t.Errorf("rerun differs:\n%s\n%s", o1.String(), o2.String())
	}
	// Without result.json, a rerun resumes from the finished stage checkpoints (no retraining)
	// and measures the same numbers.
	if err := os.Remove(filepath.Join(out, "result.json")); err != nil {
		t.Fatal(err)
	}
	var o3, e3 bytes.Buffer
	if code := dispatch(args, &o3, &e3); code != 0 {
		t.Fatalf("resume exit %d: %s", code, e3.String())
	}
	if o1.String() != o3.String() {
		t.Errorf("resumed run differs:\n%s\n%s", o1.String(), o3.String())
	}
}
