package main

// The bad-input audit of issue 13, kept as one table: every row runs a command (or the library
// call behind it) in-process on a temp dir with small synthetic inputs and checks that bad input
// gets a clear error (exit status, the file/flag/tensor named, no panic, nothing written or lost)
// and that what must succeed does. Rows tagged with an item number were defects; the others
// already behaved and are kept so that they stay so.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testimage"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// auditResult is what one row's run produced.
type auditResult struct {
	code           int
	stdout, stderr string
}

// auditCase is one row: run does the action in dir (its own temp dir) and returns its result;
// code and want are the expected exit status and substrings of stderr, absent the ones that must
// not appear; check, when set, verifies the files.
type auditCase struct {
	item   string // issue 13 item ("1", "3-8", "also") or "" for a case that already behaved
	name   string
	run    func(t *testing.T, fx *auditFixtures, dir string) auditResult
	code   int
	want   []string
	absent []string
	check  func(t *testing.T, dir string, r auditResult)
}

// cmd runs blockrec with args, turning a panic into a failed result that says so.
func cmd(args ...string) auditResult {
	var out, errOut bytes.Buffer
	code := func() (code int) {
		defer func() {
			if p := recover(); p != nil {
				fmt.Fprintf(&errOut, "PANIC: %v\n%s", p, debug.Stack())
				code = -1
			}
		}()
		return dispatch(args, &out, &errOut)
	}()
	return auditResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// fromErr turns a library error into a result: status 1 and the message, or 0.
func fromErr(err error, stderr string) auditResult {
	if err != nil {
		return auditResult{code: 1, stderr: stderr + err.Error() + "\n"}
	}
	return auditResult{stderr: stderr}
}

// auditFixtures builds shared inputs once per test (a teacher, a raptor run, a DINOv2 checkpoint).
type auditFixtures struct {
	t    *testing.T
	root string
	memo map[string]string
}

func (fx *auditFixtures) once(name string, build func(dir string)) string {
	if dir, ok := fx.memo[name]; ok {
		return dir
	}
	dir := filepath.Join(fx.root, name)
	build(dir)
	fx.memo[name] = dir
	return dir
}

// tinyViTArgs trains a one-layer ViT on 64 synthetic images: eight steps.
func tinyViTArgs(out string, extra ...string) []string {
	return append([]string{"train-vit", "--out", out, "--data", "synthetic", "--dim", "8", "--depth", "1", "--heads", "2",
		"--patch", "16", "--train-images", "64", "--test-images", "16", "--batch", "8", "--epochs", "1"}, extra...)
}

// teacher is a finished train-vit folder of a freshly initialised 4-layer ViT.
func (fx *auditFixtures) teacher() string {
	return fx.once("teacher", func(dir string) { fakeTeacherRun(fx.t, dir) })
}

func raptorArgs(teacher, out string, extra ...string) []string {
	return append([]string{"raptor", "--teacher", teacher, "--out", out, "--data", "synthetic", "--thresholds", "2",
		"--train-images", "32", "--val-images", "16", "--stage1-steps", "2", "--stage2-steps", "2", "--batch", "16", "--mlp", "gelu"}, extra...)
}

// raptorRun is a finished raptor folder (fitted with raptorArgs).
func (fx *auditFixtures) raptorRun() string {
	return fx.once("raptor", func(dir string) {
		if r := cmd(raptorArgs(fx.teacher(), dir)...); r.code != 0 {
			fx.t.Fatalf("raptor fixture: exit %d: %s", r.code, r.stderr)
		}
	})
}

// dinoModel is a random tiny DINOv2 checkpoint folder; dinoImages a folder with one image.
func (fx *auditFixtures) dinoModel() string {
	return fx.once("dino", func(dir string) {
		if r := cmd("dinov2", "generate", "--out", dir); r.code != 0 {
			fx.t.Fatalf("dinov2 generate: %s", r.stderr)
		}
	})
}

func (fx *auditFixtures) dinoImages() string {
	return fx.once("images", func(dir string) {
		img := image.NewRGBA(image.Rect(0, 0, 20, 20))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		img.Set(0, 0, color.RGBA{1, 2, 3, 255})
		testimage.Write(fx.t, filepath.Join(dir, "a.png"), img, 0)
	})
}

// modelWith copies the tiny DINOv2 checkpoint into dir/model with model.safetensors replaced.
func (fx *auditFixtures) modelWith(t *testing.T, dir string, weights []byte) string {
	model := filepath.Join(dir, "model")
	copyDir(t, fx.dinoModel(), model)
	writeFile(t, filepath.Join(model, "model.safetensors"), weights)
	return model
}

// modelEdited copies the checkpoint with edit applied to its tensors.
func (fx *auditFixtures) modelEdited(t *testing.T, dir string, edit func(map[string]*dinov2.Array)) string {
	arrays, meta, err := dinov2.ReadSafetensors(filepath.Join(fx.dinoModel(), "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	edit(arrays)
	raw, err := dinov2.EncodeSafetensors(arrays, meta)
	if err != nil {
		t.Fatal(err)
	}
	return fx.modelWith(t, dir, raw)
}

func (fx *auditFixtures) extract(model, dir string) auditResult {
	return cmd("dinov2", "extract", "--model", model, "--images", fx.dinoImages(), "--out", filepath.Join(dir, "acts.safetensors"),
		"--resize", "16", "--crop", "16", "--batch", "1")
}

// rawSafetensors is a safetensors file with a hand-written header.
func rawSafetensors(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

// firstTensor is the alphabetically first tensor name whose shape has at least two dimensions.
func firstMatrix(arrays map[string]*dinov2.Array) string {
	best := ""
	for name, a := range arrays {
		if len(a.Shape) >= 2 && (best == "" || name < best) {
			best = name
		}
	}
	return best
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flipByte corrupts the byte at offset from the end of a file.
func flipByte(t *testing.T, path string, fromEnd int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-fromEnd] ^= 0xff
	writeFile(t, path, b)
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// noFile checks that a bad command left no file behind at rel.
func noFile(rel string) func(t *testing.T, dir string, r auditResult) {
	return func(t *testing.T, dir string, r auditResult) {
		if exists(filepath.Join(dir, rel)) {
			t.Errorf("a refused command left %s behind", rel)
		}
	}
}

// csvRow writes a phases CSV and runs phases on it.
func phasesOn(content string) func(t *testing.T, fx *auditFixtures, dir string) auditResult {
	return func(t *testing.T, fx *auditFixtures, dir string) auditResult {
		path := filepath.Join(dir, "w.csv")
		writeFile(t, path, []byte(content))
		return cmd("phases", "--matrix", path, "--k", "2")
	}
}

// trainViTFlags runs train-vit with extra flags into dir/run.
func trainViTFlags(extra ...string) func(t *testing.T, fx *auditFixtures, dir string) auditResult {
	return func(t *testing.T, fx *auditFixtures, dir string) auditResult {
		return cmd(tinyViTArgs(filepath.Join(dir, "run"), extra...)...)
	}
}

// rerunRaptor copies the finished raptor run (dropping result.json when unfinished) and reruns
// it with changed flags.
func rerunRaptor(unfinished bool, extra ...string) func(t *testing.T, fx *auditFixtures, dir string) auditResult {
	return func(t *testing.T, fx *auditFixtures, dir string) auditResult {
		out := filepath.Join(dir, "raptor")
		copyDir(t, fx.raptorRun(), out)
		if unfinished {
			os.Remove(filepath.Join(out, "result.json"))
		}
		args := raptorArgs(fx.teacher(), out, extra...)
		return cmd(args...)
	}
}

// runNotebooks runs scripts/run_notebooks.py (its argument checks come before any notebook runs).
func runNotebooks(t *testing.T, args ...string) auditResult {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not found")
	}
	c := exec.Command("/usr/bin/python3", append([]string{"../../scripts/run_notebooks.py"}, args...)...)
	c.Env = append(os.Environ(), "BLOCKREC_SCALE=smoke")
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return auditResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// trainLoop runs train.Run on a one-variable loss (w has 4 values) for steps steps.
func trainLoop(dir string, cfg train.Config, loss func(w *Node) (*Node, map[string]*Node)) (*train.Result, string, error) {
	var progress bytes.Buffer
	cfg.Dir, cfg.Progress = dir, &progress
	lossFn := func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
		return loss(vit.Param(ctx, inputs[0].Graph(), "w", nil, 4))
	}
	res, err := train.Run(backend.MustNew(), context.New(), cfg, lossFn,
		func(int) ([]*tensors.Tensor, error) { return []*tensors.Tensor{tensors.FromValue([]float32{1})}, nil })
	return res, progress.String(), err
}

// checkpointMaxWeight is the largest |w| of a checkpoint's trainable variables.
func checkpointMaxWeight(t *testing.T, path string) float64 {
	ctx := context.New()
	if _, err := train.LoadCheckpoint(ctx, path); err != nil {
		t.Fatal(err)
	}
	m := 0.0
	for v := range ctx.IterVariables() {
		if !v.Trainable {
			continue
		}
		for _, x := range tensors.MustCopyFlatData[float32](v.MustValue()) {
			m = max(m, math.Abs(float64(x)))
		}
	}
	return m
}

// modeOf checks that files are written with the permissions of the rest (0644 under umask 022):
// the mode of a file os.WriteFile creates with 0644 in the same folder.
func sameModeAsOthers(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		ref := filepath.Join(filepath.Dir(p), ".mode-reference")
		writeFile(t, ref, nil)
		want, _ := os.Stat(ref)
		got, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got.Mode().Perm() != want.Mode().Perm() {
			t.Errorf("%s has mode %v, other files %v", p, got.Mode().Perm(), want.Mode().Perm())
		}
		os.Remove(ref)
	}
}

func auditCases() []auditCase {
	return []auditCase{
		// --- Crashes ---
		{item: "1", name: "train-vit --batch 0", run: trainViTFlags("--batch", "0"), code: 2, want: []string{"--batch 0"},
			check: noFile("run/spec.json")},
		{item: "1", name: "train-vit --batch 0 then the corrected command", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			if r := cmd(tinyViTArgs(filepath.Join(dir, "run"), "--batch", "0")...); r.code == 0 {
				t.Errorf("--batch 0 succeeded")
			}
			return cmd(tinyViTArgs(filepath.Join(dir, "run"))...)
		}, code: 0},
		{item: "1", name: "train-vit batch larger than the training images", run: trainViTFlags("--batch", "100"), code: 1,
			want: []string{"64 training images is less than one batch of 100"}, check: noFile("run/spec.json")},
		{item: "2", name: "safetensors shape whose element count overflows", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			raw := rawSafetensors(`{"x":{"dtype":"F32","shape":[4611686018427387905],"data_offsets":[0,4]}}`, make([]byte, 4))
			return cmd("dinov2", "info", "--model", fx.modelWith(t, dir, raw))
		}, code: 1, want: []string{"model.safetensors", `tensor "x"`, "needs 18446744073709551620"}},
		{item: "3-8", name: "dinov2 extract GOMLX_BACKEND=nonsense", run: extractWithBackend("nonsense"), code: 1, want: []string{"GOMLX_BACKEND", "nonsense"}},
		{item: "3-8", name: "dinov2 extract GOMLX_BACKEND=xla", run: extractWithBackend("xla"), code: 1, want: []string{"GOMLX_BACKEND", "needs a plugin"}},
		{item: "3-8", name: "dinov2 extract GOMLX_BACKEND=xla:cuda (not installed)", run: extractWithBackend("xla:cuda"), code: 1, want: []string{"GOMLX_BACKEND", "cuda"}},
		{item: "3-8", name: "dinov2 extract GOMLX_BACKEND=xla:relative/p.so", run: extractWithBackend("xla:relative/p.so"), code: 1, want: []string{"GOMLX_BACKEND", "absolute"}},
		{item: "3-8", name: "dinov2 extract GOMLX_BACKEND=xla:/nonexistent.so", run: extractWithBackend("xla:/nonexistent.so"), code: 1, want: []string{"GOMLX_BACKEND", "/nonexistent.so"}},
		{item: "3-8", name: "dinov2 extract GOMLX_BACKEND=xla:/etc/passwd", run: extractWithBackend("xla:/etc/passwd"), code: 1, want: []string{"/etc/passwd"}},
		{item: "9", name: "run_notebooks.py --out an existing file", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			file := filepath.Join(dir, "a-file")
			writeFile(t, file, []byte("x"))
			return runNotebooks(t, "--out", file, "../../notebooks/testdata/ok.ipynb")
		}, code: 2, want: []string{"a-file: exists and is not a directory"}, absent: []string{"Traceback"}},

		// --- Silent success with wrong results ---
		{item: "10", name: "dinov2 extract with NaN weights", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			model := fx.modelEdited(t, dir, func(a map[string]*dinov2.Array) {
				for i := range a[firstMatrix(a)].Data {
					a[firstMatrix(a)].Data[i] = float32(math.NaN())
				}
			})
			return fx.extract(model, dir)
		}, code: 1, want: []string{"non-finite value NaN", "tensor"}, check: noFile("acts.safetensors")},
		{item: "11", name: "dinov2 extract with one +Inf weight", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			model := fx.modelEdited(t, dir, func(a map[string]*dinov2.Array) { a[firstMatrix(a)].Data[3] = float32(math.Inf(1)) })
			return fx.extract(model, dir)
		}, code: 1, want: []string{"non-finite value +Inf at element 3"}, check: noFile("acts.safetensors")},
		{item: "11", name: "dinov2 extract with finite weights that overflow the states", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			model := fx.modelEdited(t, dir, func(a map[string]*dinov2.Array) {
				for name, arr := range a {
					if strings.Contains(name, "patch_embeddings") {
						for i := range arr.Data {
							arr.Data[i] = 3e38
						}
					}
				}
			})
			return fx.extract(model, dir)
		}, code: 1, want: []string{"a.png", "not finite", "nothing written"}, check: noFile("acts.safetensors")},
		{item: "12", name: "safetensors with overlapping data_offsets", run: safetensorsInfo(
			`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12),
			code: 1, want: []string{`tensor "b"`, `overlap tensor "a"`}},
		{item: "12", name: "safetensors with a gap between tensors", run: safetensorsInfo(
			`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12),
			code: 1, want: []string{`tensor "b"`, "contiguous"}},
		{item: "12", name: "safetensors with unused trailing data", run: safetensorsInfo(
			`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 12), code: 1, want: []string{"8 bytes unaccounted"}},
		{item: "13", name: "phases with a negative dissimilarity", run: phasesOn("0,-0.5,1\n-0.5,0,1\n1,1,0\n"), code: 2,
			want: []string{"w.csv", "negative dissimilarity -0.5 at row 1, column 2"}},
		{item: "14", name: "train-vit --epochs -5", run: trainViTFlags("--epochs", "-5"), code: 2, want: []string{"--epochs -5"}, check: noFile("run")},
		{item: "15", name: "train-vit --epochs 0", run: trainViTFlags("--epochs", "0"), code: 2, want: []string{"--epochs 0"}, check: noFile("run")},
		{item: "16", name: "train-vit --depth -3", run: trainViTFlags("--depth", "-3"), code: 2, want: []string{"--depth -3"}, check: noFile("run")},
		{item: "16", name: "train-vit --heads 0", run: trainViTFlags("--heads", "0"), code: 2, want: []string{"--heads 0"}, check: noFile("run")},
		{item: "16", name: "train-vit --sd 1", run: trainViTFlags("--sd", "1"), code: 2, want: []string{"--sd 1"}, check: noFile("run")},
		{item: "16", name: "train-vit --test-images -1", run: trainViTFlags("--test-images", "-1"), code: 2, want: []string{"--test-images -1"}},
		{item: "16", name: "raptor --batch -1", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			return cmd(raptorArgs(fx.teacher(), filepath.Join(dir, "r"), "--batch", "-1")...)
		}, code: 2, want: []string{"--batch -1"}, check: noFile("r")},
		{item: "17", name: "raptor rerun into a finished --out with another --k", run: rerunRaptor(false, "--thresholds", "", "--k", "1"),
			code: 1, want: []string{"spec.json", "phases", `"1-2 3-4" -> "1-4"`}, absent: []string{"accuracy"}},
		{item: "18", name: "raptor rerun into a finished --out with another --stage1-steps", run: rerunRaptor(false, "--stage1-steps", "3"),
			code: 1, want: []string{"stage1_steps: 2 -> 3"}},
		{item: "19", name: "raptor rerun into a finished --out with another --lr", run: rerunRaptor(false, "--lr", "0.001"),
			code: 1, want: []string{"lr: 0.0003 -> 0.001"}},
		{item: "20", name: "raptor rerun into an unfinished --out with another --k", run: rerunRaptor(true, "--thresholds", "", "--k", "1"),
			code: 1, want: []string{"phases"}, check: noFile("raptor/result.json")},
		{name: "raptor rerun with the same command prints the result (items 17-20's complement)", run: rerunRaptor(false), code: 0},
		{item: "21", name: "run_notebooks.py --out the notebooks' own folder", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			copyDir(t, "../../notebooks/testdata", filepath.Join(dir, "nb"))
			return runNotebooks(t, "--out", filepath.Join(dir, "nb"), filepath.Join(dir, "nb", "ok.ipynb"))
		}, code: 2, want: []string{"would overwrite the input notebook"}, check: func(t *testing.T, dir string, r auditResult) {
			a, _ := os.ReadFile(filepath.Join(dir, "nb", "ok.ipynb"))
			b, _ := os.ReadFile("../../notebooks/testdata/ok.ipynb")
			if !bytes.Equal(a, b) {
				t.Error("the input notebook changed")
			}
		}},

		// --- Messages that do not say what is wrong ---
		{item: "22", name: "train-vit --epochs NaN", run: trainViTFlags("--epochs", "NaN"), code: 2, want: []string{"--epochs NaN"}, absent: []string{"json:"}},
		{item: "23", name: "train-vit --lr NaN", run: trainViTFlags("--lr", "NaN"), code: 2, want: []string{"--lr NaN"}, absent: []string{"json:"}},
		{item: "24", name: "train-vit --lr +Inf", run: trainViTFlags("--lr", "+Inf"), code: 2, want: []string{"--lr +Inf"}, absent: []string{"json:"}},
		{item: "24", name: "raptor --lr NaN", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			return cmd(raptorArgs(fx.teacher(), filepath.Join(dir, "r"), "--lr", "NaN")...)
		}, code: 2, want: []string{"--lr NaN"}},
		{item: "25", name: "train-vit --lr 1e4 diverges: the step and value are named", run: trainViTFlags("--lr", "1e4", "--epochs", "8"),
			code: 1, want: []string{"step", "not finite", "lower the learning rate"}, absent: []string{"json:"}},
		{item: "25", name: "gradient norm non-finite while the loss is finite", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			_, progress, err := trainLoop(dir, train.Config{Name: "g", Steps: 3, LR: 1e-3}, func(w *Node) (*Node, map[string]*Node) {
				return ReduceAllSum(Sqrt(Abs(MulScalar(w, 0)))), nil
			})
			return fromErr(err, progress)
		}, code: 1, want: []string{"step 0", "grad_norm", "not finite"}},
		{item: "26", name: "a metric non-finite while the loss is finite", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			_, progress, err := trainLoop(dir, train.Config{Name: "m", Steps: 3, LR: 1e-3}, func(w *Node) (*Node, map[string]*Node) {
				g := w.Graph()
				return ReduceAllSum(Square(w)), map[string]*Node{"ratio": Div(ScalarOne(g, w.DType()), ScalarZero(g, w.DType()))}
			})
			return fromErr(err, progress)
		}, code: 1, want: []string{"step 0", "ratio = +Inf", "not finite"}},
		{item: "27", name: "diverged weights are not checkpointed; the safe checkpoint is named", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			// Adam moves w by about lr per step: the weights pass the sanity limit on step 3.
			lr := train.DefaultMaxWeight * 0.4
			_, progress, err := trainLoop(dir, train.Config{Name: "d", Steps: 10, LR: lr, MinLR: lr, CheckpointEvery: 1, KeepCheckpoints: 10},
				func(w *Node) (*Node, map[string]*Node) { return Neg(ReduceAllSum(w)), nil })
			return fromErr(err, progress)
		}, code: 1, want: []string{"diverged", "not saving a checkpoint", "newest checkpoint that verifies"}, check: func(t *testing.T, dir string, r auditResult) {
			latest := train.LatestCheckpoint(dir)
			if latest == "" || !strings.Contains(r.stderr, latest) {
				t.Fatalf("error %q does not name the newest saved checkpoint %q", r.stderr, latest)
			}
			paths, _, _ := train.ListCheckpoints(dir)
			for _, p := range paths {
				if m := checkpointMaxWeight(t, p); m > train.DefaultMaxWeight {
					t.Errorf("%s was saved with a weight of %g, above the limit", p, m)
				}
			}
		}},
		{item: "27", name: "a NaN checkpoint is not called safe", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			if _, _, err := trainLoop(dir, train.Config{Name: "n", Steps: 2, LR: 1e-3, CheckpointEvery: 1}, func(w *Node) (*Node, map[string]*Node) {
				return ReduceAllSum(Square(w)), nil
			}); err != nil {
				t.Fatal(err)
			}
			// Overwrite the newest checkpoint with NaN weights (valid checksum): it must not verify.
			ctx := context.New()
			if _, err := train.LoadCheckpoint(ctx, train.LatestCheckpoint(dir)); err != nil {
				t.Fatal(err)
			}
			for v := range ctx.IterVariables() {
				if v.Trainable {
					v.MustSetValue(tensors.FromValue([]float32{float32(math.NaN()), 0, 0, 0}))
				}
			}
			if err := train.SaveCheckpoint(ctx, 2, train.LatestCheckpoint(dir)); err != nil {
				t.Fatal(err)
			}
			step, err := train.VerifyCheckpoint(train.LatestCheckpoint(dir))
			return fromErr(err, fmt.Sprintf("step %d\n", step))
		}, code: 1, want: []string{"checkpoint-000000002.bin", "non-finite value NaN at index 0"}},
		{item: "28", name: "train-vit outside the repository", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			t.Chdir(dir)
			t.Setenv("BLOCKREC_ROOT", "")
			t.Setenv("BLOCKREC_DATA_DIR", "")
			return cmd(tinyViTArgs(filepath.Join(dir, "run"))...)
		}, code: 1, want: []string{"BLOCKREC_DATA_DIR", "BLOCKREC_ROOT"}, absent: []string{"Options.CacheDir"}},
		{item: "28", name: "cifar --scale bogus names the flag", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			t.Setenv("BLOCKREC_SCALE", "")
			return cmd("cifar", "--scale", "bogus", "teachers")
		}, code: 2, want: []string{`--scale "bogus"`}, absent: []string{"BLOCKREC_SCALE"}},
		{name: "BLOCKREC_SCALE=bogus names the variable (item 28's complement)", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			t.Setenv("BLOCKREC_SCALE", "bogus")
			return cmd("cifar", "teachers")
		}, code: 2, want: []string{"BLOCKREC_SCALE", "bogus"}},

		// --- Also: resume from the newest checkpoint that verifies; 0644 outputs ---
		{item: "also", name: "train-vit resumes past a corrupt newest checkpoint", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			out := filepath.Join(dir, "run")
			args := tinyViTArgs(out, "--epochs", "7.5") // 60 steps: checkpoints at 50 and 60
			if r := cmd(args...); r.code != 0 {
				t.Fatalf("first run: %s", r.stderr)
			}
			os.Remove(filepath.Join(out, "result.json"))
			flipByte(t, filepath.Join(out, "checkpoints", "checkpoint-000000060.bin"), 3)
			return cmd(args...)
		}, code: 0, want: []string{"skipped", "checkpoint-000000060.bin", "checksum mismatch", "step 50"}, check: func(t *testing.T, dir string, r auditResult) {
			ck := filepath.Join(dir, "run", "checkpoints")
			if !exists(filepath.Join(ck, "checkpoint-000000060.bin.corrupt")) {
				t.Error("the corrupt checkpoint was not kept as .corrupt")
			}
			if step, err := train.VerifyCheckpoint(train.LatestCheckpoint(ck)); err != nil || step != 60 {
				t.Errorf("after resuming, the newest checkpoint is step %d (%v), want a verified 60", step, err)
			}
		}},
		{item: "also", name: "train-vit with every checkpoint corrupt refuses, naming them", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			out := filepath.Join(dir, "run")
			if r := cmd(tinyViTArgs(out)...); r.code != 0 {
				t.Fatalf("first run: %s", r.stderr)
			}
			os.Remove(filepath.Join(out, "result.json"))
			flipByte(t, filepath.Join(out, "checkpoints", "checkpoint-000000008.bin"), 3)
			return cmd(tinyViTArgs(out)...)
		}, code: 1, want: []string{"no checkpoint", "checkpoint-000000008.bin", "checksum mismatch"}},
		{item: "also", name: "outputs are 0644 (checkpoints, metrics, results, caches, activations)", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			if r := cmd(tinyViTArgs(filepath.Join(dir, "run"))...); r.code != 0 {
				return r
			}
			return fx.extract(fx.dinoModel(), dir)
		}, code: 0, check: func(t *testing.T, dir string, r auditResult) {
			run := filepath.Join(dir, "run")
			sameModeAsOthers(t, filepath.Join(run, "checkpoints", "checkpoint-000000008.bin"), filepath.Join(run, "checkpoints", "metrics.jsonl"),
				filepath.Join(run, "result.json"), filepath.Join(run, "spec.json"), filepath.Join(dir, "acts.safetensors"))
		}},
		{item: "also", name: "raptor caches, checkpoints and spec are 0644", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			return auditResult{stdout: fx.raptorRun()}
		}, code: 0, check: func(t *testing.T, dir string, r auditResult) {
			var files []string
			filepath.Walk(r.stdout, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					files = append(files, p)
				}
				return nil
			})
			if len(files) < 5 {
				t.Fatalf("raptor run has only %v", files)
			}
			sameModeAsOthers(t, files...)
		}},

		// --- Already behaving: data files ---
		{name: "CIFAR-100 tarball with a wrong checksum", run: cifarWith(func(t *testing.T, data string) {
			writeFile(t, filepath.Join(data, "cifar-100-binary.tar.gz"), []byte("not a tarball"))
		}), code: 1, want: []string{"cifar-100-binary.tar.gz", "MD5"}},
		{name: "CIFAR-100 train.bin truncated", run: cifarWith(func(t *testing.T, data string) {
			extractedCIFAR(t, data, 3000)
		}), code: 1, want: []string{"train.bin", "truncated"}},
		{name: "CIFAR-100 release missing test.bin (mis-sized extraction)", run: cifarWith(func(t *testing.T, data string) {
			extractedCIFAR(t, data, 3074)
			os.Remove(filepath.Join(data, "cifar-100-binary", "test.bin"))
		}), code: 1, want: []string{"test.bin", "missing"}},
		{name: "train-vit --data bogus", run: trainViTFlags("--data", "bogus"), code: 2, want: []string{`--data "bogus"`}},
		{name: "train-vit --train-images above the data set", run: trainViTFlags("--train-images", "20000"), code: 1, want: []string{"20000 training images"}},

		// --- Already behaving: safetensors ---
		{name: "safetensors missing a tensor", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			var gone string
			model := fx.modelEdited(t, dir, func(a map[string]*dinov2.Array) { gone = firstMatrix(a); delete(a, gone) })
			r := cmd("dinov2", "info", "--model", model)
			if !strings.Contains(r.stderr, gone) {
				r.stderr += "(missing tensor not named)"
			}
			return r
		}, code: 1, want: []string{"model.safetensors"}, absent: []string{"(missing tensor not named)"}},
		{name: "safetensors with an extra tensor", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			model := fx.modelEdited(t, dir, func(a map[string]*dinov2.Array) { a["zz.unexpected"] = dinov2.NewArray(2) })
			return cmd("dinov2", "info", "--model", model)
		}, code: 1, want: []string{"zz.unexpected"}},
		{name: "safetensors with a mis-shaped tensor", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			var name string
			model := fx.modelEdited(t, dir, func(a map[string]*dinov2.Array) {
				name = firstMatrix(a)
				a[name] = dinov2.NewArray(append([]int{1}, a[name].Shape...)...)
			})
			r := cmd("dinov2", "info", "--model", model)
			if !strings.Contains(r.stderr, name) {
				r.stderr += "(tensor not named)"
			}
			return r
		}, code: 1, want: []string{"shape"}, absent: []string{"(tensor not named)"}},
		{name: "safetensors with a mis-typed tensor", run: safetensorsInfo(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, 4),
			code: 1, want: []string{`tensor "a"`, `unsupported dtype "I32"`}},
		{name: "safetensors truncated", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			raw, _ := os.ReadFile(filepath.Join(fx.dinoModel(), "model.safetensors"))
			return cmd("dinov2", "info", "--model", fx.modelWith(t, dir, raw[:len(raw)/2]))
		}, code: 1, want: []string{"model.safetensors", "truncated"}},
		{name: "safetensors shape and offsets disagree", run: safetensorsInfo(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8),
			code: 1, want: []string{`tensor "a"`, "needs 12"}},

		// --- Already behaving: phases CSVs ---
		{name: "phases CSV not square", run: phasesOn("0,1,2\n1,0,3\n"), code: 2, want: []string{"w.csv", "not square"}},
		{name: "phases CSV ragged", run: phasesOn("0,1\n1\n"), code: 2, want: []string{"w.csv", "row 2"}},
		{name: "phases CSV non-numeric", run: phasesOn("0,x\n1,0\n"), code: 2, want: []string{"w.csv", `"x" is not a number`}},
		{name: "phases CSV with NaN", run: phasesOn("0,NaN\nNaN,0\n"), code: 2, want: []string{"w.csv", "non-finite"}},
		{name: "phases CSV asymmetric", run: phasesOn("0,1\n2,0\n"), code: 2, want: []string{"w.csv", "not symmetric"}},
		{name: "phases CSV empty", run: phasesOn(""), code: 2, want: []string{"w.csv", "no rows"}},
		{name: "phases CSV that is fine", run: phasesOn("0,0.1,1\n0.1,0,1\n1,1,0\n"), code: 0},
		{name: "phases --matrix missing", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			return cmd("phases", "--matrix", filepath.Join(dir, "nope.csv"), "--k", "2")
		}, code: 2, want: []string{"nope.csv", "no such file"}},

		// --- Already behaving: checkpoints and caches ---
		{name: "raptor with a teacher whose checkpoint is corrupt", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			teacher := filepath.Join(dir, "teacher")
			copyDir(t, fx.teacher(), teacher)
			flipByte(t, filepath.Join(teacher, "checkpoints", "checkpoint-000000001.bin"), 3)
			return cmd(raptorArgs(teacher, filepath.Join(dir, "r"))...)
		}, code: 1, want: []string{"checkpoint-000000001.bin", "checksum mismatch"}},
		{name: "raptor with a teacher checkpoint that is not one", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			teacher := filepath.Join(dir, "teacher")
			copyDir(t, fx.teacher(), teacher)
			writeFile(t, filepath.Join(teacher, "checkpoints", "checkpoint-000000001.bin"), []byte("hello"))
			return cmd(raptorArgs(teacher, filepath.Join(dir, "r"))...)
		}, code: 1, want: []string{"checkpoint-000000001.bin", "bad magic"}},
		{name: "raptor without a teacher", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			return cmd(raptorArgs(filepath.Join(dir, "none"), filepath.Join(dir, "r"))...)
		}, code: 1, want: []string{"teacher", "train it first"}},
		{name: "raptor with a corrupt evaluation cache chunk", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			out := filepath.Join(dir, "raptor")
			copyDir(t, fx.raptorRun(), out)
			os.Remove(filepath.Join(out, "result.json"))
			flipByte(t, filepath.Join(out, "cache-val", "chunk-00000.bin"), 5)
			return cmd(raptorArgs(fx.teacher(), out)...)
		}, code: 1, want: []string{"chunk-00000.bin"}, check: noFile("raptor/result.json")},
		{name: "raptor with a truncated training cache chunk", run: func(t *testing.T, fx *auditFixtures, dir string) auditResult {
			out := filepath.Join(dir, "raptor")
			copyDir(t, fx.raptorRun(), out)
			os.Remove(filepath.Join(out, "result.json"))
			os.RemoveAll(filepath.Join(out, "stage2"))
			chunk := filepath.Join(out, "cache-train", "chunk-00000.bin")
			raw, _ := os.ReadFile(chunk)
			writeFile(t, chunk, raw[:len(raw)/2])
			return cmd(raptorArgs(fx.teacher(), out)...)
		}, code: 1, want: []string{"chunk-00000.bin"}},
	}
}

// extractWithBackend runs dinov2 extract under a GOMLX_BACKEND value.
func extractWithBackend(value string) func(t *testing.T, fx *auditFixtures, dir string) auditResult {
	return func(t *testing.T, fx *auditFixtures, dir string) auditResult {
		model, images := fx.dinoModel(), fx.dinoImages()
		t.Setenv("GOMLX_BACKEND", value)
		return cmd("dinov2", "extract", "--model", model, "--images", images, "--out", filepath.Join(dir, "acts.safetensors"),
			"--resize", "16", "--crop", "16")
	}
}

// safetensorsInfo runs dinov2 info on the tiny checkpoint with a hand-written weights file.
func safetensorsInfo(header string, dataBytes int) func(t *testing.T, fx *auditFixtures, dir string) auditResult {
	return func(t *testing.T, fx *auditFixtures, dir string) auditResult {
		return cmd("dinov2", "info", "--model", fx.modelWith(t, dir, rawSafetensors(header, make([]byte, dataBytes))))
	}
}

// cifarWith runs train-vit --data cifar100 on a data folder prepared by setup.
func cifarWith(setup func(t *testing.T, data string)) func(t *testing.T, fx *auditFixtures, dir string) auditResult {
	return func(t *testing.T, fx *auditFixtures, dir string) auditResult {
		data := filepath.Join(dir, "data")
		setup(t, data)
		t.Setenv("BLOCKREC_DATA_DIR", data)
		t.Setenv("BLOCKREC_OFFLINE", "1")
		return cmd(tinyViTArgs(filepath.Join(dir, "run"), "--data", "cifar100")...)
	}
}

// extractedCIFAR writes an extracted CIFAR-100 release whose train.bin has trainBytes bytes.
func extractedCIFAR(t *testing.T, data string, trainBytes int) {
	rel := filepath.Join(data, "cifar-100-binary")
	writeFile(t, filepath.Join(data, ".cifar-100-binary.tar.gz.extracted"), nil)
	writeFile(t, filepath.Join(rel, "train.bin"), make([]byte, trainBytes))
	writeFile(t, filepath.Join(rel, "test.bin"), make([]byte, 3074))
	var fine, coarse strings.Builder
	for i := range 100 {
		fmt.Fprintf(&fine, "c%d\n", i)
	}
	for i := range 20 {
		fmt.Fprintf(&coarse, "s%d\n", i)
	}
	writeFile(t, filepath.Join(rel, "fine_label_names.txt"), []byte(fine.String()))
	writeFile(t, filepath.Join(rel, "coarse_label_names.txt"), []byte(coarse.String()))
}

// TestAudit runs every row of the bad-input audit and reports the count.
func TestAudit(t *testing.T) {
	// The audit is about inputs, not engines: it runs on the pure-Go backend (no seconds-long XLA
	// compile per tiny graph), on both CI legs.
	t.Setenv("GOMLX_BACKEND", "go")
	t.Setenv("BLOCKREC_EXPECT_BACKEND", "go")
	t.Setenv("BLOCKREC_OFFLINE", "1")
	quiet := backend.Notice
	backend.Notice = io.Discard
	defer func() { backend.Notice = quiet }()
	fx := &auditFixtures{t: t, root: t.TempDir(), memo: map[string]string{}}
	cases := auditCases()
	passed := 0
	for i, tc := range cases {
		label := tc.name
		if tc.item != "" {
			label = "item " + tc.item + ": " + tc.name
		}
		ok := t.Run(fmt.Sprintf("%02d %s", i+1, label), func(t *testing.T) {
			fx.t = t // fixtures built during this row fail this row
			// Not t.TempDir: its path holds the row's name, which would match the wanted words.
			dir, err := os.MkdirTemp(fx.root, "row")
			if err != nil {
				t.Fatal(err)
			}
			r := tc.run(t, fx, dir)
			if strings.Contains(r.stderr, "PANIC:") || strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("panicked: %s", r.stderr)
			}
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(r.stderr, a) || strings.Contains(r.stdout, a) {
					t.Errorf("output contains %q:\nstdout %s\nstderr %s", a, r.stdout, r.stderr)
				}
			}
			if tc.code != 0 && len(tc.want) > 0 && !oneLineHasAll(r.stderr, tc.want) {
				t.Errorf("no single error line says all of %q:\n%s", tc.want, r.stderr)
			}
			if tc.check != nil {
				tc.check(t, dir, r)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("audit: %d cases, %d pass, %d fail", len(cases), passed, len(cases)-passed)
}

// oneLineHasAll reports whether one line of text contains every substring of want: the error is
// one line that says it all, not a message spread over a stack trace.
func oneLineHasAll(text string, want []string) bool {
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, w := range want {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}
