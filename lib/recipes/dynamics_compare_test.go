package recipes

import (
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
)

// TestDynamicsComparison: two models analysed on the same images give one four-panel figure and
// a table with one column per model and a row per claim, each cell computed from its summary.
func TestDynamicsComparison(t *testing.T) {
	b := backend.MustNew()
	ds := data.Synthetic(8, 16, 4, 5)
	cfg := DynamicsConfig{Images: 4, SelfCorrectionImages: 2, TrajectoryImages: 2, Epsilon: 0.05,
		Ks: []int{2}, SummaryK: 2, Permutations: 50, TopK: 2, BatchSize: 4, Seed: 1}
	var runs []LabeledDynamics
	for i, label := range []string{"model A", "model B"} {
		s := randomSubject(t, b, ds)
		if i == 1 {
			s = randomSubject(t, b, data.Synthetic(8, 16, 4, 6)) // other weights come from another draw
		}
		r, err := RunDynamics(b, s, ds, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, LabeledDynamics{Label: label, Result: r})
	}
	f, ok := FigureDynamicsComparison(runs)
	if !ok || f.Name != "03_compare_sd" {
		t.Fatalf("figure %q ok=%v", f.Name, ok)
	}
	f.Figure.Draw(draw.New(vgimg.New(f.W, f.H)))
	table := DynamicsComparisonTable(runs)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if !strings.Contains(lines[0], "model A") || !strings.Contains(lines[0], "model B") {
		t.Errorf("header %q lacks a model", lines[0])
	}
	for _, want := range []string{"γ rises to 1 (CLS)", "γ rises to 1 (patches)", "phase boundaries (CLS", "self-correction", "stable rank", "coherent"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks the row %q:\n%s", want, table)
		}
	}
	for _, l := range lines[2:] {
		if strings.Count(l, "|") != 4 {
			t.Errorf("row %q has not one cell per model", l)
		}
	}
	if _, ok := FigureDynamicsComparison(nil); ok {
		t.Error("a figure from no models")
	}
}
