package recipes

import (
	"fmt"
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

func mean(xs []float64) float64 {
	m, _ := stats.MeanSD(xs)
	return m
}

// nullVerdict turns the warped-drift test into a verdict on "the phases are more than drift":
// holds when p < α; otherwise not testable (a large p is no evidence of drift, and with few
// replicates the smallest possible p, 1/(R+1), may not reach α).
func nullVerdict(n *NullSummary) stats.Verdict {
	switch {
	case n == nil, 1/float64(n.Replicates+1) >= n.Alpha:
		return stats.NotTestable
	case n.P < n.Alpha:
		return stats.Holds
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

// minFits is the number of fits (seeds, teachers) per condition a comparison needs for a
// verdict: with one, the interval would miss the fit-to-fit variation.
const minFits = 2

// Claims tests every CIFAR claim of the paper (paper notes §6 and §11) on this run, for every K
// and every SD rate that was run. Comparisons between conditions use a two-level bootstrap (fits,
// then images); a comparison with fewer than minFits fits on a side is "not testable at this
// scale", whatever its interval.
func (r *CIFARResults) Claims() []Claim {
	var out []Claim
	add := func(group, paper, measure, unit, rule string, e stats.Estimate, v stats.Verdict) {
		out = append(out, Claim{Group: group, Paper: paper, Measure: measure, Estimate: e, Unit: unit, Rule: rule, Verdict: v})
	}
	// compare adds a row from a two-level comparison, its verdict from judge when both sides
	// have enough fits.
	// judged adds a row whose verdict comes from judge only when both sides had minFits fits.
	judged := func(group, paper, measure, unit, rule string, e stats.Estimate, na, nb int, judge func(stats.Interval) stats.Verdict) {
		note, enough := fitsNote(na, nb, minFits)
		v := stats.NotTestable
		if enough {
			v = judge(e.CI)
		}
		add(group, paper, measure, unit, rule+"; "+note, e, v)
	}
	compare := func(group, paper, measure, unit, rule string, a, b [][]float64, f func(float64, float64) float64, scale float64, judge func(stats.Interval) stats.Verdict) {
		e, ok := twoLevel(a, b, f)
		if !ok {
			return
		}
		scaled(&e, scale)
		judged(group, paper, measure, unit, rule, e, len(a), len(b), judge)
	}
	above := func(t float64) func(stats.Interval) stats.Verdict {
		return func(iv stats.Interval) stats.Verdict { return stats.Above(iv, t) }
	}
	below := func(t float64) func(stats.Interval) stats.Verdict {
		return func(iv stats.Interval) stats.Verdict { return stats.Below(iv, t) }
	}
	ks := r.sweepK()
	sds := r.sds()
	chance := 1 / float64(max(2, numClasses(r.evalLabels())))

	// 1. Few blocks keep the teacher's accuracy (above chance): K=2 is the paper's claim, the
	// other K are reported beside it.
	const keep = 0.9
	for _, sd := range sds {
		tc := r.teacherRows(sd)
		if len(tc) > 0 {
			tc = tc[:1] // the teacher these fits imitate
		}
		for _, k := range ks {
			group := "Raptor with K=2 already classifies well"
			if k != 2 {
				group = "Raptor keeps the teacher's accuracy (the other K)"
			}
			rows := r.raptorRows(sd, k)
			e, ok := twoLevel(rows, tc, chanceRatio(chance))
			if !ok {
				continue
			}
			// The teacher is the one these fits imitate: only Raptor's fits need replicates.
			judged(group, "K=2 classifies well (Fig. 4C)",
				fmt.Sprintf("Raptor K=%d: (accuracy − chance)/(teacher − chance), p=%.2f", k, sd), "ratio",
				fmt.Sprintf("holds if the interval is above %.2f (our threshold, not the paper's)", keep), e, len(rows), minFits, above(keep))
		}
	}
	// 2. K=2→3 raises accuracy; every other step reported beside it.
	for _, sd := range sds {
		for i := 1; i < len(ks); i++ {
			group := "Going from K=2 to K=3 raises accuracy a lot"
			if ks[i-1] != 2 || ks[i] != 3 {
				group = "Each added block raises accuracy (the other steps)"
			}
			compare(group, "large gain K=2→3, K=4 saturates (§11)",
				fmt.Sprintf("accuracy K=%d − K=%d, p=%.2f", ks[i], ks[i-1], sd), "points", "holds if the interval is above 0",
				r.raptorRows(sd, ks[i]), r.raptorRows(sd, ks[i-1]), diff, 100, above(0))
		}
	}
	// 3. Phase assignment matters: max-cut > random contiguous > random shuffle.
	for _, set := range r.BaselineSets {
		k, sd := set.K, set.SD
		used := r.comparedPartition(set)
		mc := r.maxCutRows(set)
		rc := r.baselineRows(sd, k, KindRandomContiguous, used)
		rs := r.baselineRows(sd, k, KindRandomShuffle, used)
		how := fmt.Sprintf("%d random contiguous partitions", len(rc))
		if set.Exhaustive {
			how = fmt.Sprintf("all %d other contiguous partitions", len(rc))
		} else if set.Contiguous < len(rc)+1 && len(rc) > 0 {
			how = fmt.Sprintf("%d contiguous partitions", len(rc))
		}
		recipe := ""
		if set.Steps > 0 {
			recipe = fmt.Sprintf(", %d steps per stage", set.Steps)
		}
		compare("Random contiguous phases beat random shuffled ones", "contiguous > shuffled, K=2,3,4 (Fig. 3, 10 seeds)",
			fmt.Sprintf("K=%d, p=%.2f%s: mean over %s − mean over %d shuffles", k, sd, recipe, how, len(rs)), "points", "holds if the interval is above 0",
			rc, rs, diff, 100, above(0))
		compare("Max-cut phases beat random phases", "max-cut > random contiguous and shuffled (Fig. 3)",
			fmt.Sprintf("K=%d, p=%.2f%s: %s phases − mean over %s (max-cut's accuracy percentile among them: %s)", k, sd, recipe, r.Method, how, r.maxCutPercentile(set)), "points", "holds if the interval is above 0",
			mc, rc, diff, 100, above(0))
		compare("Max-cut phases beat random phases", "max-cut > random contiguous and shuffled (Fig. 3)",
			fmt.Sprintf("K=%d, p=%.2f%s: %s phases − mean over %d shuffles", k, sd, recipe, r.Method, len(rs)), "points", "holds if the interval is above 0",
			mc, rs, diff, 100, above(0))
	}
	// 4. Phases are real (per teacher, conditional on it), and SD makes them blockier.
	for _, t := range r.Teachers {
		for _, rep := range t.Phases {
			if rep.K < 2 || rep.Null == nil {
				continue
			}
			add("The layer-layer matrices have phases, not just drift", "phases (red lines, Fig. 4A)",
				fmt.Sprintf("p=%.2f (seed-1 teacher), K=%d: warped-drift null, jump share %.3f (p-value, %d replicates)", t.SD, rep.K, rep.Null.Stat, rep.Null.Replicates),
				"p-value", fmt.Sprintf("holds if p < %.2g (one test per rate and K, no multiplicity correction); a large p is no evidence of drift, so never contradicted", rep.Null.Alpha),
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
				a, fa := r.teacherStabilities(t.SD, k)
				b, fb := r.teacherStabilities(base.SD, k)
				if e, ok := stabilityDiff(a, b, fa, fb); ok {
					judged("Stochastic depth makes the ViT more block-recurrent", "matrices more block-structured as p rises (Fig. 4A)",
						fmt.Sprintf("block index (within/between, lower = blockier) p=%.2f − p=%.2f, K=%d, mean over teachers", t.SD, base.SD, k), "index",
						"holds if the interval is below 0", e, len(a), len(b), below(0))
				}
			}
		}
		for _, t := range r.Teachers[1:] {
			for _, k := range ks {
				compare("Stochastic depth makes Raptor imitate the teacher better", "R² rises with p (Fig. 4B)",
					fmt.Sprintf("agreement with the teacher's class, K=%d, p=%.2f − p=%.2f", k, t.SD, base.SD), "points", "holds if the interval is above 0",
					r.agreeRows(t.SD, k), r.agreeRows(base.SD, k), diff, 100, above(0))
				if e, na, nb, ok := r.r2Diff(t.SD, base.SD, k, ColPatches); ok {
					judged("Stochastic depth makes Raptor imitate the teacher better", "R² rises with p (Fig. 4B)",
						fmt.Sprintf("patch-token R² (mean over layers), K=%d, p=%.2f − p=%.2f", k, t.SD, base.SD), "R²",
						"holds if the interval is above 0", e, na, nb, above(0))
				}
			}
		}
		for _, t := range r.Teachers[1:] {
			if t.SD > 0.6+1e-9 {
				continue
			}
			compare("SD up to 0.6 raises the accuracy of the ViT and of Raptor", "accuracy rises with p ≤ 0.6 (Fig. 4C)",
				fmt.Sprintf("teacher accuracy p=%.2f − p=%.2f", t.SD, base.SD), "points", "holds if the interval is above 0",
				r.teacherRows(t.SD), r.teacherRows(base.SD), diff, 100, above(0))
			for _, k := range ks {
				compare("SD up to 0.6 raises the accuracy of the ViT and of Raptor", "accuracy rises with p ≤ 0.6 (Fig. 4C)",
					fmt.Sprintf("Raptor K=%d accuracy p=%.2f − p=%.2f (fits of one teacher per rate)", k, t.SD, base.SD), "points", "holds if the interval is above 0",
					r.raptorRows(t.SD, k), r.raptorRows(base.SD, k), diff, 100, above(0))
			}
		}
	}
	// 5. Layer swaps: same phase hurts less than distance alone explains (per teacher).
	for _, set := range r.Swaps {
		fit, model, ok := set.Regression()
		if !ok {
			continue
		}
		e := fit.Coef[len(fit.Coef)-1]
		scaled(&e, 100)
		add("Swapping layers within a phase keeps accuracy; across phases destroys it", "within-phase swaps keep accuracy (DINOv2, §11)",
			fmt.Sprintf("p=%.2f (one teacher): same-phase coefficient of the accuracy drop, %s (%d swaps, K=%d phases %s)", set.SD, model, len(set.Swaps), set.K, set.Partition),
			"points", "holds if the interval is below 0 (t-interval: swaps of one teacher on shared images are not independent, so it is optimistic)", e, stats.Below(e.CI, 0))
	}
	// 6. Controls: training promotes recurrent structure (every teacher of the first rate).
	for _, k := range ks {
		if k < 2 {
			continue
		}
		var trained, init []*phases.Stability
		var ft, fi []float64
		for _, c := range r.Controls {
			rep := controlPhase(c, k)
			if rep == nil || rep.Stability == nil {
				continue
			}
			switch {
			case c.Step == 0:
				init, fi = append(init, rep.Stability), append(fi, rep.BlockIndex)
			case c.Final:
				trained, ft = append(trained, rep.Stability), append(ft, rep.BlockIndex)
			}
		}
		if e, ok := stabilityDiff(trained, init, ft, fi); ok {
			judged("Training promotes recurrent structure", "stochastic depth and training promote recurrent structure (abstract)",
				fmt.Sprintf("block index trained − random init, p=%.2f, K=%d", r.Controls[0].SD, k), "index", "holds if the interval is below 0", e, len(trained), len(init), below(0))
		}
	}
	// 7. The recipe ablation of Table 1.
	r.ablationClaims(judged)
	return out
}

// r2Diff compares the mean-over-layers R² of group g between the Raptor fits at (sdA, k) and
// (sdB, k): every fit's bootstrap replicate j pooled the same parts of the same evaluation images,
// so replicate j draws a fit on each side and takes the difference of their replicate j.
func (r *CIFARResults) r2Diff(sdA, sdB float64, k, g int) (stats.Estimate, int, int, bool) {
	pick := func(sd float64) []RaptorResult {
		var out []RaptorResult
		for _, run := range r.Raptor {
			if run.SD == sd && run.K == k && len(run.Result.MeanR2Reps) > g && len(run.Result.MeanR2Reps[g]) > 0 {
				out = append(out, run.Result)
			}
		}
		return out
	}
	a, b := pick(sdA), pick(sdB)
	if len(a) == 0 || len(b) == 0 {
		return stats.Estimate{}, 0, 0, false
	}
	reps := len(a[0].MeanR2Reps[g])
	for _, x := range append(slices.Clone(a), b...) {
		if len(x.MeanR2Reps[g]) != reps || x.R2Parts != a[0].R2Parts {
			return stats.Estimate{}, 0, 0, false
		}
	}
	rng := phases.NewRand(claimSeed + 2)
	d := make([]float64, reps)
	for j := range d {
		d[j] = a[rng.IntN(len(a))].MeanR2Reps[g][j] - b[rng.IntN(len(b))].MeanR2Reps[g][j]
	}
	iv, err := stats.PercentileInterval(d, stats.DefaultLevel)
	if err != nil {
		return stats.Estimate{}, 0, 0, false
	}
	iv.Method = fmt.Sprintf("paired bootstrap over %d parts of the images (%d reps), fits drawn per side", a[0].R2Parts, reps)
	va, vb := 0.0, 0.0
	for _, x := range a {
		va += x.MeanR2[g] / float64(len(a))
	}
	for _, x := range b {
		vb += x.MeanR2[g] / float64(len(b))
	}
	return stats.Estimate{Value: va - vb, CI: iv, N: a[0].R2Parts}, len(a), len(b), true
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

// maxCutPercentile is the compared phases' mean accuracy (over their fits) as a percentile among
// the random contiguous fits of a baseline set.
func (r *CIFARResults) maxCutPercentile(set BaselineSet) string {
	rows := r.maxCutRows(set)
	var accs []float64
	for _, b := range r.Baselines {
		if b.SD == set.SD && b.K == set.K && b.Kind == KindRandomContiguous {
			accs = append(accs, b.Result.Accuracy)
		}
	}
	if len(rows) == 0 || len(accs) == 0 {
		return "n/a"
	}
	m := 0.0
	for _, row := range rows {
		m += mean(row)
	}
	p, err := phases.Percentile(m/float64(len(rows)), accs)
	if err != nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", p)
}

// Regression fits the accuracy drop of each single swap (teacher accuracy − swapped accuracy) on
// the distance |ℓ − o| as a factor (one level per distance), the swapped layer ℓ as a factor, and
// a same-phase indicator, the last coefficient: below 0 means swaps inside a phase hurt less than
// their distance and layer explain. When that design is rank deficient (too few layers), it falls
// back to drop = a + b·|ℓ−o| + c·same. model names the design used. Units: accuracy (0..1).
func (s SwapSet) Regression() (stats.OLSResult, string, bool) {
	if len(s.Swaps) < 4 {
		return stats.OLSResult{}, "", false
	}
	base := mean(correctness(s.Teacher, s.Labels))
	maxD, maxL := 0, 0
	for _, sw := range s.Swaps {
		maxD, maxL = max(maxD, abs(sw.Layer-sw.Source)), max(maxL, sw.Layer)
	}
	var y []float64
	var fx, lin [][]float64
	for _, sw := range s.Swaps {
		same := 0.0
		if sw.SamePhase {
			same = 1
		}
		d := abs(sw.Layer - sw.Source)
		row := []float64{1}
		for v := 2; v <= maxD; v++ {
			row = append(row, indicator(d == v))
		}
		for l := 2; l <= maxL; l++ {
			row = append(row, indicator(sw.Layer == l))
		}
		fx = append(fx, append(row, same))
		lin = append(lin, []float64{1, float64(d), same})
		y = append(y, base-mean(correctness(sw.Predictions, s.Labels)))
	}
	if fit, err := stats.OLS(fx, y, stats.DefaultLevel); err == nil {
		return fit, "controlling for the distance |ℓ−o| and the layer ℓ (both as factors)", true
	}
	fit, err := stats.OLS(lin, y, stats.DefaultLevel)
	return fit, "controlling for |ℓ−o| linearly", err == nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
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
		rows := 0
		for _, v := range []stats.Verdict{stats.Holds, stats.Contradicted, stats.NotTestable} {
			if n := count[g][v]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s in %d", v, n))
				rows += n
			}
		}
		fmt.Fprintf(&b, "- %s: %s of %d rows.\n", g, strings.Join(parts, ", "), rows)
	}
	return b.String()
}

// ClaimsByGroupTable is the README's results table: one row per claim of the paper, with the
// paper's number, every measured row's estimate and 95 % interval with its verdict, and the
// verdict counts (every row of ClaimsTable, grouped).
func ClaimsByGroupTable(claims []Claim) string {
	var groups []string
	rows := map[string][]Claim{}
	for _, c := range claims {
		if rows[c.Group] == nil {
			groups = append(groups, c.Group)
		}
		rows[c.Group] = append(rows[c.Group], c)
	}
	var b strings.Builder
	b.WriteString("| paper's claim | the paper | this run: each measurement, estimate [95% CI] → verdict | verdicts |\n|---|---|---|---|\n")
	for _, g := range groups {
		var papers, cells []string
		count := map[stats.Verdict]int{}
		for _, c := range rows[g] {
			if !slices.Contains(papers, c.Paper) {
				papers = append(papers, c.Paper)
			}
			cells = append(cells, fmt.Sprintf("%s: %s %s → %s", c.Measure, c.Estimate.Format(1, 3), c.Unit, c.Verdict))
			count[c.Verdict]++
		}
		var parts []string
		for _, v := range []stats.Verdict{stats.Holds, stats.Contradicted, stats.NotTestable} {
			if n := count[v]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", v, n))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g, strings.Join(papers, "; "), strings.Join(cells, "<br>"), strings.Join(parts, ", "))
	}
	return b.String()
}
