package recipes

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/stats"
)

// AblationRun is one fit of the recipe ablation of the paper's Table 1: Raptor at one K on the
// first rate's teacher, with the recipe built up one ingredient at a time.
type AblationRun struct {
	Step      int          `json:"step"`   // 0..4: the rows of Table 1, in order
	Config    string       `json:"config"` // e.g. "+ depth scaling"
	SD        float64      `json:"sd"`
	K         int          `json:"k"`
	Seed      uint64       `json:"seed"`
	Partition string       `json:"partition"`
	Result    RaptorResult `json:"result"`
}

// AblationStep is one row of Table 1: its name, the paper's ImageNet-1k accuracy (Raptor K=3
// on DINOv2-B, %), and how it changes the recipe of the row above.
type AblationStep struct {
	Config string
	Paper  float64
	apply  func(*RaptorSpec)
}

// AblationSteps are the rows of the paper's Table 1 up to stage 2 (the fine-tuned linear probe,
// its last row, has no CIFAR counterpart: the teacher's head is used throughout). Each row adds
// one ingredient to the row above; the last is the full recipe every other fit uses.
func AblationSteps() []AblationStep {
	return []AblationStep{
		{"teacher forcing only", 3.9, func(s *RaptorSpec) {
			s.Mode, s.DepthScaling, s.PlainMSE, s.Stage2Steps = raptor.TeacherForcedOnly, false, true, 0
		}},
		{"+ autoregressive (annealed TF)", 72.7, func(s *RaptorSpec) { s.Mode = raptor.Annealed }},
		{"+ depth scaling", 75.2, func(s *RaptorSpec) { s.DepthScaling = true }},
		{"+ CLS weighting", 76.7, func(s *RaptorSpec) { s.PlainMSE = false }},
		{"+ stage 2 (end-to-end autoregressive)", 82.4, func(s *RaptorSpec) { s.Stage2Steps = s.Stage1Steps }},
	}
}

// ablationSpecs are the specs of the ablation rows for one partition and seed; the last equals
// plan.raptorSpec, so it is the main fit of that K and seed, and is reused from its folder.
func (p CIFARPlan) ablationSpecs(part phases.Partition, seed int64) []RaptorSpec {
	spec := p.raptorSpec(part, seed, p.RaptorSteps)
	var out []RaptorSpec
	for _, step := range AblationSteps() {
		step.apply(&spec)
		out = append(out, spec)
	}
	return out
}

// ablation fits the rows of Table 1 at plan.AblationK on the first teacher (seeds
// 1..AblationSeeds). mainDir names the main fit's folder of a seed: the last row is that fit.
func (p CIFARPlan) ablation(b backends.Backend, t *TrainedViT, caches *TeacherCaches, sd float64, part phases.Partition, dir string,
	mainDir func(seed uint64) string, stop func() bool, skipped *[]string, progress io.Writer) ([]AblationRun, error) {
	var out []AblationRun
	steps := AblationSteps()
	for seed := uint64(1); seed <= uint64(max(1, p.AblationSeeds)); seed++ {
		for i, spec := range p.ablationSpecs(part, int64(seed)) {
			fitDir := filepath.Join(dir, fmt.Sprintf("ablation-k%d-step%d-seed%d", p.AblationK, i, seed))
			if i == len(steps)-1 {
				fitDir = mainDir(seed)
			}
			if stop() && !finished(fitDir) {
				*skipped = append(*skipped, fmt.Sprintf("p=%.2f K=%d ablation %q seed %d", sd, p.AblationK, steps[i].Config, seed))
				continue
			}
			fmt.Fprintf(progress, "ablation (Table 1): p=%.2f K=%d %s, seed %d\n", sd, p.AblationK, steps[i].Config, seed)
			res, err := FitRaptor(b, t, caches, spec, fitDir, progress)
			if err != nil {
				return nil, err
			}
			out = append(out, AblationRun{Step: i, Config: steps[i].Config, SD: sd, K: p.AblationK, Seed: seed, Partition: part.String(), Result: *res})
		}
	}
	return out, nil
}

// ablationRows are the per-image correctness rows of the ablation fits of one row (every seed).
func (r *CIFARResults) ablationRows(step int) [][]float64 {
	ref := r.evalLabels()
	var out [][]float64
	for _, run := range r.Ablation {
		if run.Step == step {
			if row := rowOf(run.Result.Predictions, run.Result.Labels, ref); row != nil {
				out = append(out, row)
			}
		}
	}
	return out
}

// ablationClaims compares each row of Table 1 with the row above (the gain of one ingredient),
// with the two-level bootstrap over seeds and images; add receives each row.
func (r *CIFARResults) ablationClaims(judged func(group, paper, measure, unit, rule string, e stats.Estimate, na, nb int, judge func(stats.Interval) stats.Verdict)) {
	if len(r.Ablation) == 0 {
		return
	}
	steps := AblationSteps()
	k, sd := r.Ablation[0].K, r.Ablation[0].SD
	for i := 1; i < len(steps); i++ {
		a, b := r.ablationRows(i), r.ablationRows(i-1)
		e, ok := twoLevel(a, b, diff)
		if !ok {
			continue
		}
		scaled(&e, 100)
		group := "Each ingredient of Raptor's recipe raises accuracy (Table 1)"
		if i == 1 {
			group = "Teacher forcing alone collapses; annealing into autoregressive training rescues it (Table 1)"
		}
		judged(group, fmt.Sprintf("Table 1, K=3 on DINOv2: %s %+.1f points", steps[i].Config, steps[i].Paper-steps[i-1].Paper),
			fmt.Sprintf("K=%d, p=%.2f: accuracy %q − %q", k, sd, steps[i].Config, steps[i-1].Config), "points",
			"holds if the interval is above 0", e, len(a), len(b), func(iv stats.Interval) stats.Verdict { return stats.Above(iv, 0) })
	}
}

// ablationTable is Table 1 beside ours: every row's accuracy (mean over seeds, 95 % interval),
// agreement with the teacher's class and last-layer R².
func (r *CIFARResults) ablationTable() string {
	if len(r.Ablation) == 0 {
		return ""
	}
	var b strings.Builder
	k, sd := r.Ablation[0].K, r.Ablation[0].SD
	fmt.Fprintf(&b, "\n**Recipe ablation (paper Table 1), Raptor K=%d on the p=%.2f teacher** (accuracy through the teacher's head on the evaluation images; 95%% interval: Wilson for one fit, else a two-level bootstrap over fits and images):\n\n", k, sd)
	b.WriteString("| configuration | paper (IN-1k, DINOv2-B) | ours: accuracy | fits | mean last-layer R² (all tokens) |\n|---|---|---|---|---|\n")
	for i, step := range AblationSteps() {
		rows := r.ablationRows(i)
		e, ok := conditionMean(rows)
		if !ok {
			fmt.Fprintf(&b, "| %s | %.1f %% | not run | 0 | |\n", step.Config, step.Paper)
			continue
		}
		r2, n := 0.0, 0
		for _, run := range r.Ablation {
			if run.Step == i && len(run.Result.R2) > 0 {
				r2 += run.Result.R2[len(run.Result.R2)-1][ColAll]
				n++
			}
		}
		fmt.Fprintf(&b, "| %s | %.1f %% | %.1f %% %s | %d | %.3f |\n", step.Config, step.Paper, 100*e.Value, pctInterval(e.CI), len(rows), r2/float64(max(1, n)))
	}
	return b.String()
}

// FigureAblation is the paper's Table 1 as bars: Raptor's accuracy for each recipe row, with 95%
// intervals, next to the teacher's accuracy on the same images.
func FigureAblation(r *CIFARResults) (NamedFigure, bool) {
	if len(r.Ablation) == 0 {
		return NamedFigure{}, false
	}
	group := figures.BarGroup{Label: "Raptor"}
	var cats []string
	for i, step := range AblationSteps() {
		e, ok := conditionMean(r.ablationRows(i))
		if !ok {
			continue
		}
		cats = append(cats, fmt.Sprintf("%d. %s", i+1, strings.TrimPrefix(step.Config, "+ ")))
		group.Values = append(group.Values, 100*e.Value)
		group.Lo, group.Hi = append(group.Lo, 100*min(e.CI.Lo, e.Value)), append(group.Hi, 100*max(e.CI.Hi, e.Value))
	}
	if len(cats) == 0 {
		return NamedFigure{}, false
	}
	k, sd := r.Ablation[0].K, r.Ablation[0].SD
	p := figures.Bars(fmt.Sprintf("Recipe ablation, K=%d, teacher p=%.2f (%s)", k, sd, r.Dataset), "recipe (each row adds one ingredient)", "top-1 accuracy (%)", cats, group)
	seeds := map[uint64]bool{}
	for _, run := range r.Ablation {
		seeds[run.Seed] = true
	}
	return NamedFigure{Name: "01_ablation", W: 20 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("Raptor K=%d on the p=%.2f teacher with the recipe built up as in the paper's Table 1 (teacher forcing only; + annealing into autoregressive training; + depth scaling; + CLS-weighted loss; + stage 2), %d seed(s) per row, on the same %d test images; whiskers: 95%% intervals (Wilson for one fit, else a two-level bootstrap over fits and images).", k, sd, len(seeds), r.evalImages())}, true
}
