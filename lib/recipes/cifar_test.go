package recipes

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/vit"
)

// TestRunCIFARPipeline runs the whole notebook-01 pipeline on a micro plan and synthetic data,
// then builds and saves every figure and the conclusion. It checks the pipeline, not the science.
func TestRunCIFARPipeline(t *testing.T) {
	b := backend.MustNew()
	t.Setenv(notebook.CacheEnv, t.TempDir())
	t.Setenv("BLOCKREC_FIGURES_DIR", t.TempDir())
	m := vit.Config{ImageSize: 16, PatchSize: 8, Channels: 3, Dim: 16, Depth: 4, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS}
	plan := CIFARPlan{Scale: notebook.Smoke, Model: m, SDRates: []float64{0, 0.5}, Epochs: 1, BatchSize: 32,
		ProbeImages: 32, Ks: []int{1, 2, 3}, RaptorSteps: 3, RaptorTrainImages: 64, RaptorBatch: 16, RaptorLR: 1e-3, RaptorLayerScale: 0.1,
		BaselineSeeds: 1, BaselineKs: []int{2, 3}, TestImages: 64}
	splits := syntheticSplits()
	res, err := RunCIFAR(b, plan, splits, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One seed per baseline kind and K: each fit compiles its own graphs, which dominates on XLA.
	if len(res.Teachers) != 2 || len(res.Raptor) != 6 || len(res.Baselines) != 2*2*1 {
		t.Fatalf("got %d teachers, %d max-cut fits, %d baseline fits; want 2, 6, 4", len(res.Teachers), len(res.Raptor), len(res.Baselines))
	}
	for _, run := range append(res.Raptor, res.Baselines...) {
		if len(run.Result.R2) != m.Depth || len(run.Result.CopyR2) != m.Depth {
			t.Fatalf("run %+v: R² rows %d, copy-baseline rows %d, want %d", run, len(run.Result.R2), len(run.Result.CopyR2), m.Depth)
		}
		if run.Result.Accuracy < 0 || run.Result.Accuracy > 1 {
			t.Errorf("run k=%d %s: accuracy %g", run.K, run.Kind, run.Result.Accuracy)
		}
	}
	if len(res.Swaps) == 0 {
		t.Error("no layer-swap results")
	}
	// A second run reuses every cached piece and gives the same results.
	again, err := RunCIFAR(b, plan, splits, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Raptor[3].Result.Accuracy != res.Raptor[3].Result.Accuracy || again.Teachers[1].Similarity[0][1] != res.Teachers[1].Similarity[0][1] {
		t.Error("rerun did not reuse the cached results")
	}
	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) < 6 {
		t.Errorf("%d figures, want at least 6", len(figs))
	}
	for _, f := range figs {
		if !strings.Contains(f.Caption, res.Dataset) || !strings.Contains(f.Caption, "Scale: smoke") {
			t.Errorf("%s: caption does not name the data set %q and the scale: %q", f.Name, res.Dataset, f.Caption)
		}
		paths, err := figures.Save(f.Figure, f.Name, f.W, f.H, figures.Provenance{Dataset: res.Dataset, Model: res.Model})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, p := range paths {
			if st, err := os.Stat(p); err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", filepath.Base(p), err)
			}
		}
	}
	c := res.Conclusion()
	for _, want := range []string{"K=2", "max-cut", "Layer swap", "smoke"} {
		if !strings.Contains(c, want) {
			t.Errorf("conclusion lacks %q:\n%s", want, c)
		}
	}
}

// TestRunCIFARBudget: with the budget already spent, no new Raptor fit starts, finished ones are
// still reported, and the skipped ones are listed.
func TestRunCIFARBudget(t *testing.T) {
	b := backend.MustNew()
	t.Setenv(notebook.CacheEnv, t.TempDir())
	m := vit.Config{ImageSize: 16, PatchSize: 8, Channels: 3, Dim: 16, Depth: 4, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS}
	plan := CIFARPlan{Scale: notebook.Smoke, Model: m, SDRates: []float64{0.5}, Epochs: 1, BatchSize: 32,
		ProbeImages: 32, Ks: []int{1, 2}, RaptorSteps: 2, RaptorTrainImages: 32, RaptorBatch: 16, RaptorLR: 1e-3,
		RaptorLayerScale: 0.1, BaselineSeeds: 1, BaselineKs: []int{2}, TestImages: 32}
	fits := 0
	stop := func() bool { fits++; return fits > 1 } // allow only the first fit to start
	res, err := RunCIFAR(b, plan, syntheticSplits(), io.Discard, stop)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Raptor) != 1 || len(res.Baselines) != 0 || len(res.Skipped) != 3 {
		t.Fatalf("got %d fits, %d baselines, skipped %v; want 1, 0 and 3 skipped", len(res.Raptor), len(res.Baselines), res.Skipped)
	}
	if !strings.Contains(res.Conclusion(), "partial") {
		t.Errorf("the conclusion of a partial run must say so:\n%s", res.Conclusion())
	}
}

// TestConclusionScoresRaptorAgainstTheTeacherOnTheSameImages: a teacher with 50 % on its own test
// set but 40 % on Raptor's evaluation images, and Raptor at 30 %, must be reported as 75 %, and
// the accuracy figure must plot the teacher at 40 %.
func TestConclusionScoresRaptorAgainstTheTeacherOnTheSameImages(t *testing.T) {
	sim := [][]float64{{0, 0.5}, {0.5, 0}}
	res := &CIFARResults{Dataset: "synthetic", Scale: "cpu", Model: "test model",
		Teachers: []TeacherSummary{{SD: 0.3, Accuracy: 0.5, Similarity: sim}},
		Raptor: []RaptorRun{{SD: 0.3, K: 2, Kind: "max-cut",
			Result: RaptorResult{K: 2, Accuracy: 0.3, TeacherAccuracy: 0.4, ValImages: 1000}}}}
	c := res.Conclusion()
	if !strings.Contains(c, "K=2 30.0% vs teacher 40.0% = 75% of the teacher's accuracy") || !strings.Contains(c, "same 1000 test images") {
		t.Errorf("conclusion does not score Raptor against the teacher on the same images:\n%s", c)
	}
	if got, n := res.teacherOnEvalImages(res.Teachers[0]); got != 0.4 || n != 1000 {
		t.Errorf("teacher on the evaluation images: %g on %d, want 0.4 on 1000", got, n)
	}
}
