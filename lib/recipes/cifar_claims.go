package recipes

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/stats"
)

// Claim is one of the paper's CIFAR claims tested on this run: the paper's statement, what we
// measured with its interval, and the verdict computed from them.
type Claim struct {
	Group    string         `json:"group"`    // the paper's claim this row belongs to
	Paper    string         `json:"paper"`    // what the paper reports
	Measure  string         `json:"measure"`  // what this row measures (condition, K, rate)
	Estimate stats.Estimate `json:"estimate"` // the measured value and its interval
	Unit     string         `json:"unit"`     // "points", "ratio", ...
	Rule     string         `json:"rule"`     // how the verdict follows from the interval
	Verdict  stats.Verdict  `json:"verdict"`
}

// Bootstrap settings of the claims: fixed, so that a rerun gives the same intervals.
const (
	claimReps = 2000
	claimSeed = 20260301
)

// correctness is 1 where preds[i] == labels[i], else 0.
func correctness(preds, labels []int) []float64 {
	out := make([]float64, len(preds))
	for i := range preds {
		if i < len(labels) && preds[i] == labels[i] {
			out[i] = 1
		}
	}
	return out
}

// perImageMean averages several fits' per-image values (all scored on the same images).
func perImageMean(rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float64, len(rows[0]))
	for _, r := range rows {
		for i := range out {
			out[i] += r[i] / float64(len(rows))
		}
	}
	return out
}

// raptorCorrect is the per-image correctness of the Raptor fits at (sd, k), averaged over seeds;
// nil when no fit has per-image predictions.
func (r *CIFARResults) raptorCorrect(sd float64, k int) []float64 {
	var rows [][]float64
	for _, run := range r.Raptor {
		if run.SD == sd && run.K == k && len(run.Result.Predictions) > 0 {
			rows = append(rows, correctness(run.Result.Predictions, run.Result.Labels))
		}
	}
	return perImageMean(rows)
}

// teacherCorrect is the per-image correctness of the teacher at sd on the evaluation images.
func (r *CIFARResults) teacherCorrect(sd float64) []float64 {
	for _, run := range r.Raptor {
		if run.SD == sd && len(run.Result.TeacherPredictions) > 0 {
			return correctness(run.Result.TeacherPredictions, run.Result.Labels)
		}
	}
	return nil
}

// teacherCorrectAll is the per-image correctness on the evaluation images averaged over every
// teacher of the rate (seed 1 and the replicates scored on the same images).
func (r *CIFARResults) teacherCorrectAll(sd float64) []float64 {
	first := r.teacherCorrect(sd)
	if first == nil {
		return nil
	}
	var labels []int
	for _, run := range r.Raptor {
		if run.SD == sd && len(run.Result.TeacherPredictions) > 0 {
			labels = run.Result.Labels
			break
		}
	}
	rows := [][]float64{first}
	for _, t := range r.TeacherReplicates {
		if t.SD == sd && len(t.ValPredictions) == len(labels) && slices.Equal(t.ValLabels, labels) {
			rows = append(rows, correctness(t.ValPredictions, t.ValLabels))
		}
	}
	return perImageMean(rows)
}

// teachersAt counts the teachers of a rate (seed 1 and its replicates).
func (r *CIFARResults) teachersAt(sd float64) int {
	n := 1
	for _, t := range r.TeacherReplicates {
		if t.SD == sd {
			n++
		}
	}
	return n
}

// meanStability is the Stability of rate sd at k averaged over its teachers: block index of
// replicate i = mean over teachers of their replicate i (all bootstrapped with one seed over the
// same probe images), and the full-sample index the mean of theirs.
func (r *CIFARResults) meanStability(sd float64, k int) (*phases.Stability, float64) {
	var sts []*phases.Stability
	var full []float64
	for _, t := range append([]TeacherSummary{}, append(r.Teachers, r.TeacherReplicates...)...) {
		if t.SD != sd {
			continue
		}
		if rep := phaseAt(t, k); rep != nil && rep.Stability != nil {
			sts, full = append(sts, rep.Stability), append(full, rep.BlockIndex)
		}
	}
	if len(sts) == 0 {
		return nil, 0
	}
	out := &phases.Stability{K: k, Replicates: sts[0].Replicates}
	for i := range sts[0].BlockIndex {
		sum, n := 0.0, 0
		for _, st := range sts {
			if i < len(st.BlockIndex) && st.BlockIndex[i] >= 0 {
				sum, n = sum+st.BlockIndex[i], n+1
			}
		}
		v := -1.0
		if n == len(sts) {
			v = sum / float64(n)
		}
		out.BlockIndex = append(out.BlockIndex, v)
	}
	return out, mean(full)
}

// raptorAgree is the per-image agreement of Raptor with its teacher at (sd, k), mean over seeds.
func (r *CIFARResults) raptorAgree(sd float64, k int) []float64 {
	var rows [][]float64
	for _, run := range r.Raptor {
		if run.SD == sd && run.K == k && len(run.Result.Predictions) > 0 {
			rows = append(rows, correctness(run.Result.Predictions, run.Result.TeacherPredictions))
		}
	}
	return perImageMean(rows)
}

func (r *CIFARResults) baselineCorrect(k int, kind string) ([]float64, int) {
	var rows [][]float64
	for _, b := range r.Baselines {
		if b.K == k && b.Kind == kind && len(b.Result.Predictions) > 0 {
			rows = append(rows, correctness(b.Result.Predictions, b.Result.Labels))
		}
	}
	return perImageMean(rows), len(rows)
}

func mean(xs []float64) float64 {
	m, _ := stats.MeanSD(xs)
	return m
}

// pairedDiff is the paired-bootstrap interval of mean(a) − mean(b) over images.
func pairedDiff(a, b []float64) (stats.Estimate, bool) {
	if len(a) == 0 || len(a) != len(b) {
		return stats.Estimate{}, false
	}
	e, err := stats.PairedDiff(a, b, claimReps, claimSeed, stats.DefaultLevel)
	return e, err == nil
}

// ratioOfMeans is mean(a)/mean(b) with a paired bootstrap interval over images.
func ratioOfMeans(a, b []float64) (stats.Estimate, bool) {
	if len(a) == 0 || len(a) != len(b) {
		return stats.Estimate{}, false
	}
	e, err := stats.Bootstrap(len(a), claimReps, claimSeed, stats.DefaultLevel, func(idx []int) float64 {
		var sa, sb float64
		for _, i := range idx {
			sa, sb = sa+a[i], sb+b[i]
		}
		if sb == 0 {
			return 0
		}
		return sa / sb
	})
	return e, err == nil
}

// replicateDiff pairs two Stability block-index replicate lists drawn with the same seed over the
// same probe images (so replicate i resampled the same images for both) and returns the
// difference a − b with its percentile interval.
func replicateDiff(a, b *phases.Stability, fullA, fullB float64) (stats.Estimate, bool) {
	if a == nil || b == nil || len(a.BlockIndex) != len(b.BlockIndex) || len(a.BlockIndex) == 0 {
		return stats.Estimate{}, false
	}
	var d []float64
	for i := range a.BlockIndex {
		if a.BlockIndex[i] >= 0 && b.BlockIndex[i] >= 0 {
			d = append(d, a.BlockIndex[i]-b.BlockIndex[i])
		}
	}
	iv, err := stats.PercentileInterval(d, stats.DefaultLevel)
	if err != nil {
		return stats.Estimate{}, false
	}
	return stats.Estimate{Value: fullA - fullB, CI: iv, N: len(d)}, true
}

// nullVerdict turns the warped-drift test into a verdict on "the phases are more than drift":
// holds when p < α; contradicted when p > 0.5 (the jump statistic is typical of block-free
// drift); otherwise not testable at this scale.
func nullVerdict(n *NullSummary) stats.Verdict {
	switch {
	case n == nil:
		return stats.NotTestable
	case n.P < n.Alpha:
		return stats.Holds
	case n.P > 0.5:
		return stats.Contradicted
	default:
		return stats.NotTestable
	}
}

func phaseAt(t TeacherSummary, k int) *PhaseReport {
	for i := range t.Phases {
		if t.Phases[i].K == k {
			return &t.Phases[i]
		}
	}
	return nil
}

// Claims tests every CIFAR claim of the paper (paper notes §6 and §11) on this run, for every K
// and every SD rate that was run.
func (r *CIFARResults) Claims() []Claim {
	var out []Claim
	add := func(group, paper, measure, unit, rule string, e stats.Estimate, v stats.Verdict) {
		out = append(out, Claim{Group: group, Paper: paper, Measure: measure, Estimate: e, Unit: unit, Rule: rule, Verdict: v})
	}
	ks := r.sweepK()
	sds := pluck(r.Teachers, func(t TeacherSummary) float64 { return t.SD })

	// 1. Few blocks keep the teacher's accuracy.
	const keep = 0.9
	for _, sd := range sds {
		tc := r.teacherCorrect(sd)
		for _, k := range ks {
			if e, ok := ratioOfMeans(r.raptorCorrect(sd, k), tc); ok {
				add("Raptor with K=2 already classifies well", "K=2 classifies well (Fig. 4C)",
					fmt.Sprintf("Raptor K=%d / teacher accuracy, p=%.2f", k, sd), "ratio", fmt.Sprintf("holds if the interval is above %.2f", keep),
					e, stats.Above(e.CI, keep))
			}
		}
	}
	// 2. Each added block raises accuracy; K=2→3 a lot.
	for _, sd := range sds {
		for i := 1; i < len(ks); i++ {
			if e, ok := pairedDiff(r.raptorCorrect(sd, ks[i]), r.raptorCorrect(sd, ks[i-1])); ok {
				scaled(&e, 100)
				add("Going from K=2 to K=3 raises accuracy a lot", "large gain K=2→3",
					fmt.Sprintf("accuracy K=%d − K=%d, p=%.2f", ks[i], ks[i-1], sd), "points", "holds if the interval is above 0",
					e, stats.Above(e.CI, 0))
			}
		}
	}
	// 3. Phase assignment matters: max-cut > random contiguous > random shuffle.
	for _, set := range r.BaselineSets {
		k := set.K
		mc := r.raptorCorrect(r.BaselineSD, k)
		rc, nrc := r.baselineCorrect(k, KindRandomContiguous)
		rs, nrs := r.baselineCorrect(k, KindRandomShuffle)
		how := fmt.Sprintf("%d random draws", nrc)
		if set.Exhaustive {
			how = fmt.Sprintf("all %d contiguous partitions", nrc)
		}
		if e, ok := pairedDiff(rc, rs); ok {
			scaled(&e, 100)
			add("Random contiguous phases beat random shuffled ones", "contiguous > shuffled, K=2,3,4 (Fig. 3, 10 seeds)",
				fmt.Sprintf("K=%d, p=%.2f: mean over %s − mean over %d shuffles", k, r.BaselineSD, how, nrs), "points", "holds if the interval is above 0",
				e, stats.Above(e.CI, 0))
		}
		if e, ok := pairedDiff(mc, rc); ok {
			scaled(&e, 100)
			add("Max-cut phases beat random phases", "max-cut > random contiguous and shuffled (Fig. 3)",
				fmt.Sprintf("K=%d, p=%.2f: max-cut − mean over %s (percentile %s)", k, r.BaselineSD, how, r.maxCutPercentile(k)), "points", "holds if the interval is above 0",
				e, stats.Above(e.CI, 0))
		}
		if e, ok := pairedDiff(mc, rs); ok {
			scaled(&e, 100)
			add("Max-cut phases beat random phases", "max-cut > random contiguous and shuffled (Fig. 3)",
				fmt.Sprintf("K=%d, p=%.2f: max-cut − mean over %d shuffles", k, r.BaselineSD, nrs), "points", "holds if the interval is above 0",
				e, stats.Above(e.CI, 0))
		}
	}
	// 4. Phases are real, and SD makes them blockier.
	for _, t := range r.Teachers {
		for _, rep := range t.Phases {
			if rep.K < 2 || rep.Null == nil {
				continue
			}
			add("The layer-layer matrices have phases, not just drift", "phases (red lines, Fig. 4A)",
				fmt.Sprintf("p=%.2f, K=%d: warped-drift null, jump share %.3f (p-value, %d replicates)", t.SD, rep.K, rep.Null.Stat, rep.Null.Replicates),
				"p-value", fmt.Sprintf("holds if p < %.2g, contradicted if p > 0.5", rep.Null.Alpha),
				stats.Estimate{Value: rep.Null.P, CI: stats.Interval{Lo: rep.Null.P, Hi: rep.Null.P, Level: stats.DefaultLevel, Method: "no interval: a p-value"}, N: rep.Null.Replicates},
				nullVerdict(rep.Null))
		}
	}
	if len(r.Teachers) > 1 {
		base := r.Teachers[0]
		for _, t := range r.Teachers[1:] {
			for _, k := range ks {
				if k < 2 {
					continue
				}
				a, fa := r.meanStability(t.SD, k)
				b, fb := r.meanStability(base.SD, k)
				if e, ok := replicateDiff(a, b, fa, fb); ok {
					add("Stochastic depth makes the ViT more block-recurrent", "matrices more block-structured as p rises (Fig. 4A)",
						fmt.Sprintf("block index (within/between, lower = blockier) p=%.2f − p=%.2f, K=%d, mean over %d and %d teachers", t.SD, base.SD, k, r.teachersAt(t.SD), r.teachersAt(base.SD)), "index", "holds if the interval is below 0",
						e, stats.Below(e.CI, 0))
				}
			}
		}
		for _, t := range r.Teachers[1:] {
			for _, k := range ks {
				if e, ok := pairedDiff(r.raptorAgree(t.SD, k), r.raptorAgree(base.SD, k)); ok {
					scaled(&e, 100)
					add("Stochastic depth makes Raptor imitate the teacher better", "R² rises with p (Fig. 4B)",
						fmt.Sprintf("agreement with the teacher's class, K=%d, p=%.2f − p=%.2f", k, t.SD, base.SD), "points", "holds if the interval is above 0",
						e, stats.Above(e.CI, 0))
				}
			}
		}
		for _, t := range r.Teachers[1:] {
			for _, k := range ks {
				a, b := r.raptorAt(t.SD, k), r.raptorAt(base.SD, k)
				if a == nil || b == nil || len(a.Result.MeanR2Lo) <= ColPatches || len(b.Result.MeanR2Lo) <= ColPatches {
					continue
				}
				ra, rb := a.Result, b.Result
				e := stats.Estimate{Value: ra.MeanR2[ColPatches] - rb.MeanR2[ColPatches], N: ra.ValImages,
					CI: stats.Interval{Lo: ra.MeanR2Lo[ColPatches] - rb.MeanR2Hi[ColPatches], Hi: ra.MeanR2Hi[ColPatches] - rb.MeanR2Lo[ColPatches],
						Level: stats.DefaultLevel, Method: "difference of two 95% bootstrap intervals (conservative: the fits are not paired)"}}
				add("Stochastic depth makes Raptor imitate the teacher better", "R² rises with p (Fig. 4B)",
					fmt.Sprintf("patch-token R² (mean over layers), K=%d, p=%.2f − p=%.2f", k, t.SD, base.SD), "R²", "holds if the interval is above 0",
					e, stats.Above(e.CI, 0))
			}
		}
		for _, t := range r.Teachers[1:] {
			if t.SD > 0.6+1e-9 {
				continue
			}
			if e, ok := pairedDiff(r.teacherCorrectAll(t.SD), r.teacherCorrectAll(base.SD)); ok {
				scaled(&e, 100)
				add("SD up to 0.6 raises the accuracy of the ViT and of Raptor", "accuracy rises with p ≤ 0.6 (Fig. 4C)",
					fmt.Sprintf("teacher accuracy p=%.2f − p=%.2f (mean over %d and %d teachers)", t.SD, base.SD, r.teachersAt(t.SD), r.teachersAt(base.SD)), "points", "holds if the interval is above 0", e, stats.Above(e.CI, 0))
			}
			for _, k := range ks {
				if e, ok := pairedDiff(r.raptorCorrect(t.SD, k), r.raptorCorrect(base.SD, k)); ok {
					scaled(&e, 100)
					add("SD up to 0.6 raises the accuracy of the ViT and of Raptor", "accuracy rises with p ≤ 0.6 (Fig. 4C)",
						fmt.Sprintf("Raptor K=%d accuracy p=%.2f − p=%.2f", k, t.SD, base.SD), "points", "holds if the interval is above 0", e, stats.Above(e.CI, 0))
				}
			}
		}
	}
	// 5. Layer swaps: same phase hurts less than distance alone explains.
	for _, set := range r.Swaps {
		fit, ok := set.Regression()
		if !ok {
			continue
		}
		e := fit.Coef[2]
		scaled(&e, 100)
		add("Swapping layers within a phase keeps accuracy; across phases destroys it", "within-phase swaps keep accuracy (DINOv2, §11)",
			fmt.Sprintf("p=%.2f: same-phase coefficient of the accuracy drop, controlling for |ℓ−o| (%d swaps, phases %s)", set.SD, len(set.Swaps), set.Partition),
			"points", "holds if the interval is below 0", e, stats.Below(e.CI, 0))
	}
	// 6. Controls: training promotes recurrent structure.
	if len(r.Controls) >= 2 {
		init, trained := r.Controls[0], r.Controls[len(r.Controls)-1]
		for _, k := range ks {
			a, b := controlPhase(trained, k), controlPhase(init, k)
			if k < 2 || a == nil || b == nil {
				continue
			}
			if e, ok := replicateDiff(a.Stability, b.Stability, a.BlockIndex, b.BlockIndex); ok {
				add("Training promotes recurrent structure", "stochastic depth and training promote recurrent structure (abstract)",
					fmt.Sprintf("block index trained − random init, p=%.2f, K=%d", trained.SD, k), "index", "holds if the interval is below 0",
					e, stats.Below(e.CI, 0))
			}
		}
	}
	return out
}

func controlPhase(c Control, k int) *PhaseReport {
	for i := range c.Phases {
		if c.Phases[i].K == k {
			return &c.Phases[i]
		}
	}
	return nil
}

// scaled multiplies an estimate and its interval (e.g. to percentage points).
func scaled(e *stats.Estimate, f float64) {
	e.Value, e.CI.Lo, e.CI.Hi = e.Value*f, e.CI.Lo*f, e.CI.Hi*f
}

// maxCutPercentile is max-cut's accuracy percentile among the random contiguous fits at k.
func (r *CIFARResults) maxCutPercentile(k int) string {
	mc := r.raptorAt(r.BaselineSD, k)
	var accs []float64
	for _, b := range r.Baselines {
		if b.K == k && b.Kind == KindRandomContiguous {
			accs = append(accs, b.Result.Accuracy)
		}
	}
	if mc == nil || len(accs) == 0 {
		return "n/a"
	}
	p, err := phases.Percentile(mc.Result.Accuracy, accs)
	if err != nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", p)
}

// Regression fits the accuracy drop of each single swap (teacher accuracy − swapped accuracy)
// on the distance |ℓ − o| and a same-phase indicator: drop = a + b·|ℓ−o| + c·same. c < 0 means
// swaps inside a phase hurt less than their distance alone explains. Coef = [a, b, c], in
// accuracy units (0..1).
func (s SwapSet) Regression() (stats.OLSResult, bool) {
	if len(s.Swaps) < 4 {
		return stats.OLSResult{}, false
	}
	base := mean(correctness(s.Teacher, s.Labels))
	var x [][]float64
	var y []float64
	for _, sw := range s.Swaps {
		same := 0.0
		if sw.SamePhase {
			same = 1
		}
		x = append(x, []float64{1, math.Abs(float64(sw.Layer - sw.Source)), same})
		y = append(y, base-mean(correctness(sw.Predictions, s.Labels)))
	}
	fit, err := stats.OLS(x, y, stats.DefaultLevel)
	return fit, err == nil
}

// ClaimsTable is the claims as a Markdown table: every row, with its verdict.
func ClaimsTable(claims []Claim) string {
	var b strings.Builder
	b.WriteString("| paper's claim | the paper | measured here | estimate [95% CI] | verdict |\n|---|---|---|---|---|\n")
	for _, c := range claims {
		fmt.Fprintf(&b, "| %s | %s | %s | %s %s (%s) | **%s** |\n", c.Group, c.Paper, c.Measure, c.Estimate.Format(1, 3), c.Unit, c.Rule, c.Verdict)
	}
	return b.String()
}

// ClaimSummary counts the verdicts of each claim group, in order of first appearance.
func ClaimSummary(claims []Claim) string {
	var groups []string
	count := map[string]map[stats.Verdict]int{}
	for _, c := range claims {
		if count[c.Group] == nil {
			count[c.Group] = map[stats.Verdict]int{}
			groups = append(groups, c.Group)
		}
		count[c.Group][c.Verdict]++
	}
	var b strings.Builder
	for _, g := range groups {
		var parts []string
		for _, v := range []stats.Verdict{stats.Holds, stats.Contradicted, stats.NotTestable} {
			if n := count[g][v]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s in %d", v, n))
			}
		}
		fmt.Fprintf(&b, "- %s: %s of %d rows.\n", g, strings.Join(parts, ", "), sum(slices.Collect(mapValues(count[g]))))
	}
	return b.String()
}

func mapValues[K comparable, V any](m map[K]V) func(yield func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}
