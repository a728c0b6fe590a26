package main

import (
	"bytes"
	"encoding/json"
	"io"
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

// TestRaptorFlagErrors: every flag is checked before the teacher is loaded (the teacher named
// does not exist) and before --out is created, with one line "blockrec raptor: ..." naming it.
func TestRaptorFlagErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	base := []string{"raptor", "--teacher", filepath.Join(dir, "none"), "--out", out}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"raptor", "--out", out, "--k", "2"}, "--teacher and --out are required"},
		{append(base, "--k", "2", "stray"), `unexpected argument "stray"`},
		{append(base, "--k", "-1"), "--k -1: must be a whole number >= 1"},
		{append(base, "--k", "2", "--stage1-steps", "-1"), "--stage1-steps -1"},
		{append(base, "--k", "2", "--anneal", "NaN"), "--anneal NaN: must be a number in [0, 1]"},
		{append(base, "--k", "2", "--layerscale", "-1e-5"), "--layerscale -1e-05"},
		{append(base, "--k", "2", "--val-images", "-3"), "--val-images -3"},
		{append(base, "--k", "2", "--stages", "3"), `--stages "3": must be 1, 2 or 1,2`},
		{append(base, "--k", "2", "--mode", "backwards"), "backwards"},
		{append(base, "--k", "2", "--dtype", "int8"), `unknown --dtype "int8"`},
		{append(base, "--k", "2", "--data", "imagenet"), `unknown --data "imagenet"`},
		{append(base, "--k", "2", "--mlp", "relu"), `unknown --mlp "relu"`},
		{base, "give exactly one of --k, --thresholds, --partition"},
		{append(base, "--k", "2", "--thresholds", "3"), "give exactly one of --k, --thresholds, --partition"},
		{append(base, "--thresholds", "3,x"), `--thresholds "3,x"`},
		{append(base, "--partition", "1,2 3,a"), `--partition "1,2 3,a"`},
		{append(base, "--partition", "  "), `--partition "  ": no phases`},
	} {
		var stdout, stderr bytes.Buffer
		code := dispatch(tc.args, &stdout, &stderr)
		if code != 2 || !strings.HasPrefix(stderr.String(), "blockrec raptor: ") || !strings.Contains(stderr.String(), tc.want) ||
			strings.Count(stderr.String(), "\n") != 1 || stdout.Len() > 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one line with %q", tc.args[1:], code, stdout.String(), stderr.String(), tc.want)
		}
		if exists(out) {
			t.Fatalf("%q created --out", tc.args[1:])
		}
	}
	// With the flags right, the missing teacher is what fails (status 1).
	var stderr bytes.Buffer
	if code := dispatch(append(base, "--partition", "1,2 3"), io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "train it first") {
		t.Errorf("valid flags, no teacher: exit %d, stderr %q; want 1 and the teacher named", code, stderr.String())
	}
}
