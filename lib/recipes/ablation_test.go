package recipes

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/vit"
)

// TestRunCIFARSweepAblationAndShortBaselines runs a micro plan with the cpu plan's layout: the
// K sweep on one rate and one K on the others, Table 1's ablation, and random-phase baselines on
// two rates with a shorter recipe whose max-cut fits are made with the same recipe.
func TestRunCIFARSweepAblationAndShortBaselines(t *testing.T) {
	b := pipelineBackend(t)
	t.Setenv(notebook.CacheEnv, t.TempDir())
	m := vit.Config{ImageSize: 16, PatchSize: 8, Channels: 3, Dim: 16, Depth: 4, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS}
	plan := CIFARPlan{Scale: notebook.Smoke, Model: m, SDRates: []float64{0, 0.5}, Epochs: 1, BatchSize: 32,
		ProbeImages: 32, Ks: []int{1, 2, 3}, RaptorSteps: 4, RaptorTrainImages: 64, RaptorBatch: 16, RaptorLR: 1e-3, RaptorLayerScale: 0.1,
		RaptorSweepSDs: []float64{0}, RaptorOtherKs: []int{2}, AblationK: 2, AblationSeeds: 1,
		BaselineDraws: 10, BaselineMax: 2, BaselineShuffles: 3, BaselineKs: []int{2}, BaselineSDs: []float64{0, 0.5}, BaselineSteps: 2,
		TestImages: 64, PhaseBootstrap: 10, NullReplicates: 9, SwapFirstOnly: true}
	res, err := RunCIFAR(b, plan, syntheticSplits(), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Raptor {
		got = append(got, fmt.Sprintf("p=%.2f K=%d", r.SD, r.K))
	}
	want := []string{"p=0.00 K=1", "p=0.00 K=2", "p=0.00 K=3", "p=0.50 K=2"}
	if !slices.Equal(got, want) {
		t.Errorf("max-cut fits %v, want %v (the sweep on p=0, K=2 only on p=0.5)", got, want)
	}
	// Per baseline rate: 1 max-cut fit with the short recipe, 2 contiguous (capped), 3 shuffles (at 4 layers a shuffle can equal the max-cut phases).
	if len(res.BaselineSets) != 2 || len(res.Baselines) != 12 {
		t.Fatalf("%d baseline sets and %d baseline fits, want 2 and 12", len(res.BaselineSets), len(res.Baselines))
	}
	for _, set := range res.BaselineSets {
		if set.Steps != 2 {
			t.Errorf("baseline set p=%.2f: %d steps, want the short recipe's 2", set.SD, set.Steps)
		}
		if rows := res.maxCutRows(set); len(rows) != 1 {
			t.Errorf("baseline set p=%.2f: %d max-cut rows with the short recipe, want 1", set.SD, len(rows))
		}
		if res.comparedPartition(set) == "" {
			t.Errorf("baseline set p=%.2f: no compared partition", set.SD)
		}
	}
	steps := AblationSteps()
	if len(res.Ablation) != len(steps) {
		t.Fatalf("%d ablation fits, want %d", len(res.Ablation), len(steps))
	}
	// The last row is the main fit at that K and seed: the same result, reused from its folder.
	last, main := res.Ablation[len(steps)-1].Result, res.raptorAt(0, 2).Result
	if last.Accuracy != main.Accuracy || !slices.Equal(last.Predictions, main.Predictions) {
		t.Errorf("ablation's full-recipe row (%.4f) is not the main K=2 fit (%.4f)", last.Accuracy, main.Accuracy)
	}
	// Rows without stage 2 differ from the full recipe.
	if specs := plan.ablationSpecs(res.Teachers[0].Phases[1].Used, 1); specs[0].Stage2Steps != 0 || specs[0].DepthScaling || !specs[0].PlainMSE ||
		!reflect.DeepEqual(specs[len(specs)-1], plan.raptorSpec(res.Teachers[0].Phases[1].Used, 1, plan.RaptorSteps)) {
		t.Errorf("ablation specs: first %+v, last %+v", specs[0], specs[len(specs)-1])
	}
	if _, ok := FigureAblation(res); !ok {
		t.Error("no ablation figure")
	}
	if _, ok := FigureMaxCutVsRandom(res); !ok {
		t.Error("no max-cut vs random figure")
	}
	table := ClaimsByGroupTable(res.Claims())
	for _, want := range []string{"Max-cut phases beat random phases", "Teacher forcing alone collapses", "Table 1, K=3 on DINOv2"} {
		if !strings.Contains(table, want) {
			t.Errorf("README table lacks %q:\n%s", want, table)
		}
	}
	for _, c := range res.Claims() {
		if !strings.Contains(table, c.Measure+": "+c.Estimate.Format(1, 3)) {
			t.Errorf("README table lacks the row %q", c.Measure)
		}
	}
	conclusion := res.Conclusion()
	for _, want := range []string{"Recipe ablation (paper Table 1)", "teacher forcing only", "Teacher forcing alone collapses", "K=2, p=0.50, 2 steps per stage"} {
		if !strings.Contains(conclusion, want) {
			t.Errorf("conclusion lacks %q", want)
		}
	}
}
