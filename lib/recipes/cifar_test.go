package recipes

import (
	"github.com/gomlx/gomlx/backends"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/stats"
	"github.com/blockrec/blockrec/lib/vit"
)

// TestRunCIFARPipeline runs the whole notebook-01 pipeline on a micro plan and synthetic data,
// then builds and saves every figure and the conclusion. It checks the pipeline, not the science.
func TestRunCIFARPipeline(t *testing.T) {
	b := pipelineBackend(t)
	t.Setenv(notebook.CacheEnv, t.TempDir())
	t.Setenv("BLOCKREC_FIGURES_DIR", t.TempDir())
	m := vit.Config{ImageSize: 16, PatchSize: 8, Channels: 3, Dim: 16, Depth: 4, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS}
	plan := CIFARPlan{Scale: notebook.Smoke, Model: m, SDRates: []float64{0, 0.5}, Epochs: 1, BatchSize: 32,
		ProbeImages: 32, Ks: []int{1, 2, 3}, RaptorSteps: 3, RaptorTrainImages: 64, RaptorBatch: 16, RaptorLR: 1e-3, RaptorLayerScale: 0.1,
		BaselineDraws: 10, BaselineMax: 2, BaselineShuffles: 1, BaselineKs: []int{2}, TestImages: 64,
		PhaseBootstrap: 20, NullReplicates: 9, TeacherSeeds: 2}
	splits := syntheticSplits()
	res, err := RunCIFAR(b, plan, splits, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two contiguous partitions (capped) and one shuffle at K=2: each fit compiles its own
	// graphs, which dominates on XLA.
	if len(res.Teachers) != 2 || len(res.Raptor) != 6 || len(res.Baselines) != 3 {
		t.Fatalf("got %d teachers, %d max-cut fits, %d baseline fits; want 2, 6, 3", len(res.Teachers), len(res.Raptor), len(res.Baselines))
	}
	for _, run := range append(res.Raptor, res.Baselines...) {
		if len(run.Result.R2Lo) != m.Depth || len(run.Result.MeanR2Lo) != 4 {
			t.Fatalf("run k=%d %s: R² interval rows %d, mean-R² intervals %d, want %d and 4", run.K, run.Kind, len(run.Result.R2Lo), len(run.Result.MeanR2Lo), m.Depth)
		}
		if lo, hi, v := run.Result.MeanR2Lo[ColPatches], run.Result.MeanR2Hi[ColPatches], run.Result.MeanR2[ColPatches]; !(lo <= hi) || v < -1e9 {
			t.Errorf("run k=%d %s: mean patch R² %v with interval [%v, %v]", run.K, run.Kind, v, lo, hi)
		}
		if len(run.Result.Predictions) != len(run.Result.Labels) || len(run.Result.Labels) == 0 {
			t.Fatalf("run k=%d %s: %d predictions for %d labels", run.K, run.Kind, len(run.Result.Predictions), len(run.Result.Labels))
		}
	}
	for _, tr := range res.Teachers {
		for _, rep := range tr.Phases {
			if rep.K >= 2 && (rep.Null == nil || rep.Stability == nil || rep.BlockIndexCI == nil || rep.Used == nil) {
				t.Errorf("p=%.2f K=%d: null %v, stability %v, block-index CI %v, used %v", tr.SD, rep.K, rep.Null, rep.Stability, rep.BlockIndexCI, rep.Used)
			}
		}
	}
	if len(res.TeacherReplicates) != 2 || res.TeacherReplicates[0].Seed != 2 || len(res.TeacherReplicates[0].ValPredictions) == 0 {
		t.Errorf("%d teacher replicates, want 2 of seed 2 with predictions", len(res.TeacherReplicates))
	}
	if len(res.Controls) < 2 || res.Controls[0].Step != 0 {
		t.Errorf("controls %+v, want random init first and the trained teacher last", len(res.Controls))
	}
	if len(res.Swaps) != 2 || len(res.Swaps[0].Swaps) != m.Depth*(m.Depth-1) {
		t.Errorf("%d swap sets, want 2 with %d single swaps each", len(res.Swaps), m.Depth*(m.Depth-1))
	}
	if claims := res.Claims(); len(claims) == 0 {
		t.Error("no claims")
	}
	if c := res.Conclusion(); !strings.Contains(c, "Training curve of the p=0.00 teacher, seed 1") || !strings.Contains(c, "seed 2") {
		t.Errorf("the conclusion lacks the training curves of both p=0 teachers:\n%s", c)
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
	for _, want := range []string{"K=2", "Max-cut phases beat random phases", "Swapping layers within a phase", "smoke", "| verdict |"} {
		if !strings.Contains(c, want) {
			t.Errorf("conclusion lacks %q:\n%s", want, c)
		}
	}
}

// TestRunCIFARBudget: with the budget already spent, no new Raptor fit starts, finished ones are
// still reported, and the skipped ones are listed.
func TestRunCIFARBudget(t *testing.T) {
	b := pipelineBackend(t)
	t.Setenv(notebook.CacheEnv, t.TempDir())
	m := vit.Config{ImageSize: 16, PatchSize: 8, Channels: 3, Dim: 16, Depth: 4, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS}
	plan := CIFARPlan{Scale: notebook.Smoke, Model: m, SDRates: []float64{0.5}, Epochs: 1, BatchSize: 32,
		ProbeImages: 32, Ks: []int{1, 2}, RaptorSteps: 2, RaptorTrainImages: 32, RaptorBatch: 16, RaptorLR: 1e-3,
		RaptorLayerScale: 0.1, BaselineDraws: 10, BaselineMax: 1, BaselineShuffles: 1, BaselineKs: []int{2}, TestImages: 32,
		PhaseBootstrap: 10, NullReplicates: 9}
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

// TestClaimsScoreRaptorAgainstTheTeacherOnTheSameImages: a teacher with 50 % on its own test set
// but 40 % on Raptor's evaluation images, and Raptor at 30 % on them, keeps 75 % of the teacher's
// accuracy, and the accuracy figure plots the teacher at 40 %.
func TestClaimsScoreRaptorAgainstTheTeacherOnTheSameImages(t *testing.T) {
	sim := [][]float64{{0, 0.5}, {0.5, 0}}
	labels := make([]int, 1000)
	teacher, raptorPreds := make([]int, 1000), make([]int, 1000)
	for i := range labels {
		labels[i] = i % 10
		teacher[i], raptorPreds[i] = (labels[i]+1)%10, (labels[i]+1)%10
		if i%10 < 4 {
			teacher[i] = labels[i]
		}
		if i%10 < 3 {
			raptorPreds[i] = labels[i]
		}
	}
	res := &CIFARResults{Dataset: "synthetic", Scale: "cpu", Model: "test model",
		Teachers: []TeacherSummary{{SD: 0.3, Accuracy: 0.5, Similarity: sim}},
		Raptor: []RaptorRun{{SD: 0.3, K: 2, Kind: "max-cut",
			Result: RaptorResult{K: 2, Accuracy: 0.3, TeacherAccuracy: 0.4, ValImages: 1000, Labels: labels, Predictions: raptorPreds, TeacherPredictions: teacher}}}}
	found := false
	for _, c := range res.Claims() {
		if strings.HasPrefix(c.Measure, "Raptor K=2: (accuracy − chance)/(teacher − chance), p=0.30") {
			found = true
			// (0.3 − 0.1) / (0.4 − 0.1): one fit, so no verdict.
			if math.Abs(c.Estimate.Value-2.0/3) > 1e-9 || c.Verdict != stats.NotTestable {
				t.Errorf("K=2 keeps %.4f %v of the teacher above chance (%s), want 0.6667, not testable (one fit)", c.Estimate.Value, c.Estimate.CI, c.Verdict)
			}
		}
	}
	if !found {
		t.Fatal("no K=2 keep row")
	}
	fig, ok := FigureAccuracyVsSD(res)
	if !ok || fig.Figure == nil {
		t.Fatal("no accuracy figure")
	}
	if got := mean(perImageMean(res.teacherRows(0.3))); math.Abs(got-0.4) > 1e-9 {
		t.Errorf("teacher on the evaluation images: %g, want 0.4", got)
	}
}

// pipelineBackend is the pure-Go engine for the CIFAR pipeline tests: they check the pipeline's
// logic (a hundred tiny graphs: fits, swaps, controls), which does not depend on the engine, and
// on XLA every graph pays seconds of compilation. The same pipeline runs on XLA at smoke scale in
// notebook 01 (make test-notebooks), and lib/parity checks that both engines agree.
func pipelineBackend(t *testing.T) backends.Backend {
	t.Helper()
	b, err := backend.NewPureGo()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
