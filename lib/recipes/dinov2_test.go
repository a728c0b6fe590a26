package recipes

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/raptor"
)

// microDINOv2 is a fast configuration of the DINOv2 experiment on synthetic images: a 6-block
// tiny checkpoint with 2 registers, K = 2 and 3, a few training steps.
func microDINOv2(t *testing.T) DINOv2Options {
	tiny := TinyDINOv2Config()
	tiny.NumHiddenLayers, tiny.NumRegisterTokens = 6, 2
	plan := DINOv2Plan{Scale: notebook.Smoke, TrainImages: 64, TestImages: 32, Ks: []int{2, 3}, Stage1Steps: 3, Stage2Steps: 3,
		Batch: 16, RaptorLR: 1e-3, RaptorLayerScale: 0.1, CacheDType: raptor.Float32, ProbeEpochs: 5, ProbeLR: 1e-3, RetrainProbe: true, SwapTrials: 1}
	return DINOv2Options{Scale: notebook.Smoke, Splits: syntheticSplits(), Ref: "facebook/dinov2-not-a-model",
		Tiny: &tiny, Plan: &plan, CacheRoot: t.TempDir(), ADE20kDir: "", NYUv2Dir: ""}
}

// TestRunDINOv2Pipeline runs the notebook-02 pipeline end to end on the generated tiny checkpoint,
// checks the shapes of every result, cross-checks the probe accuracy computed in the graph (probe
// installed as the teacher's head) against the plain-Go one, reruns it from the caches, and
// builds every figure and the tables.
func TestRunDINOv2Pipeline(t *testing.T) {
	b := backend.MustNew()
	t.Setenv(ADE20kEnv, "")
	t.Setenv(NYUv2Env, "")
	t.Setenv("BLOCKREC_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	opts := microDINOv2(t)
	res, err := RunDINOv2(b, opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.RealWeights || res.ModelNote != TinyDINOv2Note || !strings.Contains(res.Origin(), TinyDINOv2Note) {
		t.Errorf("model note %q, real %v: the tiny checkpoint must be named as such", res.ModelNote, res.RealWeights)
	}
	const depth, test = 6, 32
	if res.Depth != depth || res.Layout.NumRegisters != 2 || res.ImageSize != 16 {
		t.Errorf("depth %d, layout %+v, image size %d; want 6 blocks, 2 registers, 16 px", res.Depth, res.Layout, res.ImageSize)
	}
	if len(res.Similarity) != depth || len(res.Similarity[0]) != depth {
		t.Fatalf("similarity %dx%d, want %dx%d", len(res.Similarity), len(res.Similarity[0]), depth, depth)
	}
	if res.Extraction.Images != 64+test || res.Extraction.ImagesPerSec <= 0 || res.Extraction.CacheBytes <= 0 {
		t.Errorf("extraction %+v", res.Extraction)
	}
	if len(res.Phases) != 2 || len(res.Raptor) != 2 {
		t.Fatalf("%d phase reports and %d Raptor runs, want 2 and 2", len(res.Phases), len(res.Raptor))
	}
	for i, run := range res.Raptor {
		k := opts.Plan.Ks[i]
		if run.K != k || len(res.Phases[i].Contiguous) != k {
			t.Errorf("run %d: K=%d, phases %s; want K=%d", i, run.K, res.Phases[i].Contiguous, k)
		}
		if len(run.Result.R2) != depth || len(run.Result.R2[0]) != 4 || len(run.Result.CopyR2) != depth {
			t.Errorf("K=%d: R² %d×%d, copy baseline %d rows; want %d×4", k, len(run.Result.R2), len(run.Result.R2[0]), len(run.Result.CopyR2), depth)
		}
		for l, row := range run.Result.R2 {
			if row[ColRegisters] == -1 {
				t.Errorf("K=%d layer %d: no register R² although the model has registers", k, l+1)
			}
		}
		// The probe as the teacher's head (GoMLX graph, FitRaptor) and in plain Go must agree up to
		// a near-tie or two.
		if d := math.Abs(run.Result.TeacherAccuracy - res.Probe.TestAccuracy); d > 2.0/test {
			t.Errorf("K=%d: teacher accuracy %.4f through the head, %.4f through the Go probe", k, run.Result.TeacherAccuracy, res.Probe.TestAccuracy)
		}
		if d := math.Abs(run.Result.Accuracy - run.ProbeAccuracy); d > 2.0/test {
			t.Errorf("K=%d: Raptor accuracy %.4f through the head, %.4f through the rollout and Go probe", k, run.Result.Accuracy, run.ProbeAccuracy)
		}
		if run.Retrained == nil || run.Retrained.TestImages != test || run.Retrained.Features != 2*32 {
			t.Errorf("K=%d: retrained probe %+v", k, run.Retrained)
		}
		if run.RaptorParams == 0 || run.RaptorParams%k != 0 {
			t.Errorf("K=%d: %d Raptor parameters, not K equal blocks", k, run.RaptorParams)
		}
	}
	if a, b := res.Raptor[0].RaptorParams/2, res.Raptor[1].RaptorParams/3; a != b {
		t.Errorf("one Raptor block has %d parameters at K=2 and %d at K=3", a, b)
	}
	if len(res.Swaps) == 0 || res.SwapK != 3 {
		t.Fatalf("%d swap settings on K=%d phases, want some on K=3", len(res.Swaps), res.SwapK)
	}
	for _, s := range res.Swaps {
		if len(s.Accuracy) != 1 || s.Teacher != res.Probe.TestAccuracy && math.Abs(s.Teacher-res.Probe.TestAccuracy) > 2.0/test {
			t.Errorf("swap %+v: want 1 trial and the teacher's probe accuracy %.4f", s, res.Probe.TestAccuracy)
		}
	}
	if len(res.Dense) != 2*3 || !strings.Contains(res.DenseNote, "not run") {
		t.Errorf("dense rows %d, note %q: want 6 rows marked not run", len(res.Dense), res.DenseNote)
	}

	// A rerun reads every step from disk: same results, no file rewritten.
	stamp := func() map[string]int64 {
		out := map[string]int64{}
		filepath.Walk(res.RunDir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				out[p] = info.ModTime().UnixNano()
			}
			return nil
		})
		return out
	}
	before := stamp()
	again, err := RunDINOv2(b, opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(res)
	j2, _ := json.Marshal(again)
	if string(j1) != string(j2) {
		t.Error("the rerun gave different results")
	}
	if after := stamp(); !reflect.DeepEqual(before, after) {
		t.Error("the rerun rewrote cached files")
	}

	// Another plan gets another run folder.
	other := *opts.Plan
	other.Stage2Steps++
	opts2 := opts
	opts2.Plan = &other
	if planKey(other, "m", "d", 16) == planKey(*opts.Plan, "m", "d", 16) {
		t.Error("a changed plan keeps the same run key")
	}

	t.Setenv(figures.DirEnv, t.TempDir())
	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range figs {
		names[f.Name] = true
		if !strings.Contains(f.Caption, TinyDINOv2Note) || !strings.Contains(f.Caption, res.Dataset) {
			t.Errorf("%s: caption does not name the model and the data: %q", f.Name, f.Caption)
		}
		paths, err := figures.Save(f.Figure, f.Name, f.W, f.H, figures.Provenance{Dataset: res.Provenance, Model: res.Model})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, p := range paths {
			if st, err := os.Stat(p); err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
	for _, want := range []string{"02_similarity_maxcut", "02_accuracy_vs_k", "02_r2_per_layer", "02_layer_swap"} {
		if !names[want] {
			t.Errorf("figure %s missing", want)
		}
	}
	table := res.ProbeTable()
	for _, want := range []string{"Raptor K=2", "Raptor K=3", "not run", TinyDINOv2Note} {
		if !strings.Contains(table, want) {
			t.Errorf("probe table lacks %q:\n%s", want, table)
		}
	}
	c := res.Conclusion()
	t.Logf("probe table:\n%s\nconclusion:\n%s", table, c)
	for _, want := range []string{"K=2", "K=3", "Layer swap", "not real DINOv2", "img/s"} {
		if !strings.Contains(c, want) {
			t.Errorf("conclusion lacks %q:\n%s", want, c)
		}
	}
}

// TestRunDINOv2NoTiny refuses to stand in a random model when asked not to.
func TestRunDINOv2NoTiny(t *testing.T) {
	t.Setenv("BLOCKREC_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	opts := microDINOv2(t)
	opts.NoTiny = true
	if _, err := RunDINOv2(nil, opts, io.Discard); err == nil || !strings.Contains(err.Error(), "not cached") {
		t.Errorf("err = %v, want a not-cached error", err)
	}
}

// TestResizedDatasetMatchesPreprocessor checks that resizing the bytes first and normalising
// with the dataset statistics later gives exactly what the DINOv2 preprocessor gives.
func TestResizedDatasetMatchesPreprocessor(t *testing.T) {
	ds := data.Synthetic(5, 32, 3, 7)
	for _, p := range []data.Preprocessor{
		{Resize: 16, Crop: 16, Filter: data.Bicubic, Stats: data.ImageNetStats},
		{Resize: 40, Crop: 28, Filter: data.Bicubic, Stats: data.ImageNetStats},
	} {
		rs, err := resizedDataset(ds, p)
		if err != nil {
			t.Fatal(err)
		}
		if rs.H != p.Crop || rs.W != p.Crop || rs.Len() != ds.Len() {
			t.Fatalf("resized to %dx%d (%d images), want %d px", rs.H, rs.W, rs.Len(), p.Crop)
		}
		for i := range ds.Len() {
			want := make([]float32, p.OutputSize())
			if err := p.ApplyHWC(want, ds.Image(i), ds.H, ds.W); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, p.OutputSize())
			data.Normalize(got, rs.Image(i), rs.Stats)
			for k := range got {
				if math.Abs(float64(got[k]-want[k])) > 1e-5 {
					t.Fatalf("resize %d crop %d, image %d value %d: %g, preprocessor %g", p.Resize, p.Crop, i, k, got[k], want[k])
				}
			}
		}
	}
}

// TestTinyDINOv2Config is the checkpoint the notebook falls back to: valid, 8 blocks, 4 registers.
func TestTinyDINOv2Config(t *testing.T) {
	c := TinyDINOv2Config()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.NumHiddenLayers != 8 || c.NumRegisterTokens != 4 || c.ModelType != dinov2.ModelTypeWithRegisters {
		t.Errorf("tiny config %+v: want 8 blocks and 4 registers (with-registers model)", c)
	}
}

// ExampleDINOv2PlanFor shows how much the smoke scale runs with the tiny checkpoint.
func ExampleDINOv2PlanFor() {
	p := DINOv2PlanFor(notebook.Smoke, false)
	fmt.Printf("%d train / %d test images, K=%v, %d+%d Raptor steps, batch %d\n", p.TrainImages, p.TestImages, p.Ks, p.Stage1Steps, p.Stage2Steps, p.Batch)
	// Output: 512 train / 256 test images, K=[2 3 4], 20+20 Raptor steps, batch 32
}
