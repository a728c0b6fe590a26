package recipes

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/stats"
)

// NamedFigure is a figure with its stable file name, size and caption.
type NamedFigure struct {
	Name    string
	Figure  figures.Figure
	W, H    vg.Length
	Caption string
}

// meanStd returns the mean and the sample standard deviation (n − 1).
func meanStd(xs []float64) (float64, float64) { return stats.MeanSD(xs) }

// meanR2 averages a token group's R² over layers (ignoring empty groups, marked -1).
func meanR2(r2 [][]float64, col int) float64 {
	var xs []float64
	for _, row := range r2 {
		if row[col] != -1 {
			xs = append(xs, row[col])
		}
	}
	m, _ := meanStd(xs)
	return m
}

// sweepK returns the sorted K values of the Raptor runs.
func (r *CIFARResults) sweepK() []int {
	seen := map[int]bool{}
	for _, run := range r.Raptor {
		seen[run.K] = true
	}
	var ks []int
	for k := range seen {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// raptorAt is the first-seed Raptor run at (sd, k).
func (r *CIFARResults) raptorAt(sd float64, k int) *RaptorRun {
	for i := range r.Raptor {
		if r.Raptor[i].SD == sd && r.Raptor[i].K == k {
			return &r.Raptor[i]
		}
	}
	return nil
}

// sweepSD is the rate whose Raptor fits cover the most K (the lowest such rate).
func (r *CIFARResults) sweepSD() float64 {
	best, count := r.BaselineSD, 0
	for _, sd := range r.sds() {
		n := 0
		for _, k := range r.sweepK() {
			if r.raptorAt(sd, k) != nil {
				n++
			}
		}
		if n > count {
			best, count = sd, n
		}
	}
	return best
}

func (r *CIFARResults) sds() []float64 {
	return pluck(r.Teachers, func(t TeacherSummary) float64 { return t.SD })
}

// conditionMean is the mean outcome of a condition's fits over the images, with a 95% interval:
// Wilson for a single fit, else a two-level bootstrap (fits, then images).
func conditionMean(rows [][]float64) (stats.Estimate, bool) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return stats.Estimate{}, false
	}
	if len(rows) == 1 {
		m := mean(rows[0])
		iv, err := stats.Wilson(int(math.Round(m*float64(len(rows[0])))), len(rows[0]), stats.DefaultLevel)
		return stats.Estimate{Value: m, CI: iv, N: len(rows[0])}, err == nil
	}
	zero := [][]float64{make([]float64, len(rows[0]))}
	return twoLevel(rows, zero, diff)
}

// proportionSeries is a series of each x's condition mean, in %, with its 95% interval.
func proportionSeries(label string, xs []float64, conditions [][][]float64) figures.Series {
	s := figures.Series{Label: label}
	for i, rows := range conditions {
		e, ok := conditionMean(rows)
		if !ok {
			continue
		}
		s.X, s.Y = append(s.X, xs[i]), append(s.Y, 100*e.Value)
		s.Lo, s.Hi = append(s.Lo, 100*min(e.CI.Lo, e.Value)), append(s.Hi, 100*max(e.CI.Hi, e.Value))
	}
	return s
}

func (r *CIFARResults) evalImages() int {
	for _, run := range r.Raptor {
		if len(run.Result.Labels) > 0 {
			return len(run.Result.Labels)
		}
	}
	return 0
}

// FigureAccuracyVsSD is paper Fig. 4C: the teachers' and Raptor's accuracy (every K) against the
// SD rate, on the same evaluation images, with 95% Wilson intervals.
func FigureAccuracyVsSD(r *CIFARResults) (NamedFigure, bool) {
	sds := r.sds()
	if len(sds) == 0 {
		return NamedFigure{}, false
	}
	var teacher [][][]float64
	for _, sd := range sds {
		teacher = append(teacher, r.teacherRows(sd))
	}
	label := "teacher ViT"
	if n := len(r.teacherRows(sds[0])); n > 1 {
		label = fmt.Sprintf("teacher ViT (mean of %d seeds)", n)
	}
	series := []figures.Series{proportionSeries(label, sds, teacher)}
	for _, k := range r.sweepK() {
		var v [][][]float64
		for _, sd := range sds {
			v = append(v, r.raptorRows(sd, k))
		}
		series = append(series, proportionSeries(fmt.Sprintf("Raptor K=%d", k), sds, v))
	}
	if len(series[0].X) == 0 {
		return NamedFigure{}, false
	}
	p := figures.Lines("Accuracy vs stochastic depth ("+r.Dataset+")", "uniform stochastic-depth rate p", "top-1 accuracy (%)", series...)
	return NamedFigure{Name: "01_accuracy_vs_sd", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("Test accuracy of the teacher ViTs and of Raptor (%s phases, K = %s), all on the same %d test images, against the uniform stochastic-depth rate (paper Fig. 4C); bars: 95%% Wilson intervals over images.",
			r.Method, joinf(r.sweepK(), func(k int) string { return fmt.Sprint(k) }), r.evalImages())}, true
}

// shownK is the K whose boundaries the matrices show: 3, or the largest K below it.
func (r *CIFARResults) shownK(t TeacherSummary) *PhaseReport {
	var best *PhaseReport
	for i := range t.Phases {
		if k := t.Phases[i].K; k <= 3 && (best == nil || k > best.K) {
			best = &t.Phases[i]
		}
	}
	return best
}

// FigureSimilarityVsSD is paper Fig. 4A: each teacher's layer-layer dissimilarity on one colour
// scale, with the K=3 contiguous max-cut boundaries.
func FigureSimilarityVsSD(r *CIFARResults) (NamedFigure, bool) {
	f, err := similarityFigure(r)
	return f, err == nil && len(r.Teachers) > 0
}

func similarityFigure(r *CIFARResults) (NamedFigure, error) {
	var tiles []figures.HeatmapTile
	k := 0
	for _, t := range r.Teachers {
		tile := figures.HeatmapTile{M: t.Similarity, Title: fmt.Sprintf("p = %.2f (acc %.1f%% %s)", t.SD, 100*t.Accuracy, pctInterval(t.AccuracyCI))}
		if rep := r.shownK(t); rep != nil {
			tile.Boundaries, _ = rep.Contiguous.Thresholds()
			k = rep.K
		}
		tiles = append(tiles, tile)
	}
	fig, _, err := figures.HeatmapPanel(len(tiles), tiles, figures.HeatmapOptions{OneBased: true, ColorBarLabel: "Σ of two 1 − cos"})
	if err != nil {
		return NamedFigure{}, err
	}
	return NamedFigure{Name: "01_similarity_vs_sd", Figure: fig, W: vg.Length(len(tiles)) * 8 * vg.Centimeter, H: 8 * vg.Centimeter,
		Caption: fmt.Sprintf("Layer-layer dissimilarity W_ij = mean over %d probe images of (1 − cos) of the CLS token plus (1 − cos) of the mean patch token (0 ≤ W ≤ 4; one colour scale for all panels), per stochastic-depth rate; red dashed lines: contiguous max-cut boundaries for K=%d (paper Fig. 4A). Titles: teacher test accuracy with its 95%% Wilson interval.",
			r.Teachers[0].Probe, k)}, nil
}

func pctInterval(iv stats.Interval) string {
	if iv.Level == 0 {
		return ""
	}
	return fmt.Sprintf("[%.1f, %.1f]", 100*iv.Lo, 100*iv.Hi)
}

// FigureBlockIndexVsSD is the block index of the contiguous max-cut phases (every K ≥ 2) against
// the SD rate, with bootstrap intervals over probe images, and the random-init control.
func FigureBlockIndexVsSD(r *CIFARResults) (NamedFigure, bool) {
	sds := r.sds()
	var series []figures.Series
	for _, k := range r.sweepK() {
		if k < 2 {
			continue
		}
		s := figures.Series{Label: fmt.Sprintf("K=%d", k)}
		for _, t := range r.Teachers {
			if rep := phaseAt(t, k); rep != nil && rep.BlockIndexCI != nil {
				s.X, s.Y = append(s.X, t.SD), append(s.Y, rep.BlockIndex)
				s.Lo, s.Hi = append(s.Lo, min(rep.BlockIndexCI.Lo, rep.BlockIndex)), append(s.Hi, max(rep.BlockIndexCI.Hi, rep.BlockIndex))
			}
		}
		if len(s.X) > 0 {
			series = append(series, s)
		}
	}
	if len(r.Controls) > 0 {
		c := r.Controls[0]
		s := figures.Series{Label: "random init (K=3)", PointsOnly: true}
		if rep := controlPhase(c, 3); rep != nil && rep.BlockIndexCI != nil {
			s.X, s.Y = []float64{c.SD}, []float64{rep.BlockIndex}
			s.Lo, s.Hi = []float64{min(rep.BlockIndexCI.Lo, rep.BlockIndex)}, []float64{max(rep.BlockIndexCI.Hi, rep.BlockIndex)}
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return NamedFigure{}, false
	}
	_ = sds
	p := figures.Lines("Block structure vs stochastic depth ("+r.Dataset+")", "uniform stochastic-depth rate p", "block index: mean within / mean between (lower = blockier)", series...)
	return NamedFigure{Name: "01_block_index_vs_sd", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: "Block index of the contiguous max-cut phases (mean dissimilarity inside phases / between phases) per K against the stochastic-depth rate, for the seed-1 teacher of each rate (the conclusion's comparisons average every teacher of a rate); the point drawn apart at the first rate is the same architecture at random initialisation (K=3); bars: 95% percentile-bootstrap intervals over probe images (phases re-found on every replicate). Whether the phases are more than a smooth drift is the warped-drift null test in the conclusion."}, true
}

// FigureBoundaryStability shows, per teacher, how often each boundary is chosen at K=3 (or the
// largest K below) over bootstrap replicates of the probe images: phase stability.
func FigureBoundaryStability(r *CIFARResults) (NamedFigure, bool) {
	var series []figures.Series
	k := 0
	for _, t := range r.Teachers {
		rep := r.shownK(t)
		if rep == nil || rep.Stability == nil || rep.K < 2 {
			continue
		}
		k = rep.K
		s := figures.Series{Label: fmt.Sprintf("p=%.2f", t.SD)}
		for i, share := range rep.Stability.BoundaryShare {
			s.X, s.Y = append(s.X, float64(i+1)+0.5), append(s.Y, share)
		}
		series = append(series, s)
	}
	if len(series) == 0 {
		return NamedFigure{}, false
	}
	p := figures.Lines(fmt.Sprintf("Phase stability, K=%d (%s)", k, r.Dataset), "boundary between layers ℓ and ℓ+1 (at ℓ + ½)", "share of bootstrap replicates choosing it", series...)
	if err := figures.WithYRange(p, 0, 1); err != nil {
		return NamedFigure{}, false
	}
	reps := 0
	if rep := r.shownK(r.Teachers[0]); rep != nil && rep.Stability != nil {
		reps = rep.Stability.Replicates
	}
	return NamedFigure{Name: "01_phase_stability", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("How often each boundary of the contiguous max-cut phases (K=%d) is chosen when the %d probe images are resampled with replacement (%d replicates): a stable phase structure puts shares near 1 at its boundaries and near 0 elsewhere.", k, r.Teachers[0].Probe, reps)}, true
}

// FigureR2VsSD is paper Fig. 4B: the layer-wise R² (overcomplete's r2_score, mean over layers
// 1..L) of Raptor against the teacher per K, for CLS and patch tokens, with the copy-a₀ baseline.
func FigureR2VsSD(r *CIFARResults) (NamedFigure, bool) {
	sds := r.sds()
	var panels []*plot.Plot
	for _, col := range []int{ColCLS, ColPatches} {
		name := map[int]string{ColCLS: "CLS token", ColPatches: "patch tokens"}[col]
		var series []figures.Series
		for _, k := range r.sweepK() {
			s := figures.Series{Label: fmt.Sprintf("Raptor K=%d", k)}
			withCI := true
			for _, sd := range sds {
				if run := r.raptorAt(sd, k); run != nil {
					m := meanR2(run.Result.R2, col)
					s.X, s.Y = append(s.X, sd), append(s.Y, m)
					if res := run.Result; len(res.MeanR2Lo) > col && res.MeanR2Lo[col] != -1 {
						s.Lo, s.Hi = append(s.Lo, min(res.MeanR2Lo[col], m)), append(s.Hi, max(res.MeanR2Hi[col], m))
					} else {
						withCI = false
					}
				}
			}
			if !withCI {
				s.Lo, s.Hi = nil, nil
			}
			series = append(series, s)
		}
		base := figures.Series{Label: "copy $a_0$ to every layer"}
		for _, sd := range sds {
			if len(r.sweepK()) == 0 {
				break
			}
			if rr := r.raptorAt(sd, r.sweepK()[0]); rr != nil && rr.Result.CopyR2 != nil {
				base.X, base.Y = append(base.X, sd), append(base.Y, meanR2(rr.Result.CopyR2, col))
			}
		}
		if len(base.X) > 0 {
			series = append(series, base)
		}
		p := figures.Lines(name, "uniform stochastic-depth rate p", "$R^2$ averaged over layers 1..L", series...)
		figures.Math(p)
		panels = append(panels, p)
	}
	if len(r.Raptor) == 0 {
		return NamedFigure{}, false
	}
	return NamedFigure{Name: "01_r2_vs_sd", W: 24 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: figures.Panel(2, panels...),
		Caption: fmt.Sprintf("Layer-wise R² (overcomplete's r2_score, as the released trainer) between Raptor's and the teacher's hidden states, mean over layers 1..L, for the CLS token (left) and the patch tokens (right), per K, against the stochastic-depth rate (paper Fig. 4B), on %d test images; bars: 95%% percentile-bootstrap intervals over images (the images in 20 parts, resampled); the baseline copies the embedding a₀ to every layer.", r.evalImages())}, true
}

// FigureR2PerLayer is the R² of every layer (patch tokens) for each K on the baseline teacher,
// as the paper shows it.
func FigureR2PerLayer(r *CIFARResults) (NamedFigure, bool) {
	var series []figures.Series
	for _, k := range r.sweepK() {
		run := r.raptorAt(r.sweepSD(), k)
		if run == nil {
			continue
		}
		s := figures.Series{Label: fmt.Sprintf("K=%d", k)}
		res := run.Result
		withCI := len(res.R2Lo) == len(res.R2)
		for l, row := range res.R2 {
			if row[ColPatches] != -1 {
				s.X, s.Y = append(s.X, float64(l+1)), append(s.Y, row[ColPatches])
				if withCI && res.R2Lo[l][ColPatches] != -1 {
					s.Lo, s.Hi = append(s.Lo, min(res.R2Lo[l][ColPatches], row[ColPatches])), append(s.Hi, max(res.R2Hi[l][ColPatches], row[ColPatches]))
				} else {
					withCI = false
				}
			}
		}
		if !withCI {
			s.Lo, s.Hi = nil, nil
		}
		series = append(series, s)
	}
	if len(series) == 0 {
		return NamedFigure{}, false
	}
	p := figures.Lines(fmt.Sprintf("R² per layer, teacher p=%.2f (%s)", r.sweepSD(), r.Dataset), "layer ℓ", "$R^2$ of patch tokens", series...)
	figures.Math(p)
	return NamedFigure{Name: "01_r2_per_layer", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("R² (overcomplete's r2_score) of Raptor's patch tokens against the teacher's at every layer, per K, teacher p=%.2f, %d test images; bars: 95%% bootstrap intervals over images.", r.sweepSD(), r.evalImages())}, true
}

// FigureAgreementVsSD is the share of images on which Raptor predicts the teacher's class, per K,
// against the SD rate, with 95% Wilson intervals: a lower-variance fidelity measure than accuracy.
func FigureAgreementVsSD(r *CIFARResults) (NamedFigure, bool) {
	sds := r.sds()
	var series []figures.Series
	for _, k := range r.sweepK() {
		var v [][][]float64
		for _, sd := range sds {
			v = append(v, r.agreeRows(sd, k))
		}
		if s := proportionSeries(fmt.Sprintf("Raptor K=%d", k), sds, v); len(s.X) > 0 {
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return NamedFigure{}, false
	}
	p := figures.Lines("Agreement with the teacher ("+r.Dataset+")", "uniform stochastic-depth rate p", "images with the teacher's class (%)", series...)
	return NamedFigure{Name: "01_agreement_vs_sd", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("Share of the %d test images on which Raptor's top-1 class (through the teacher's head) equals the teacher's, per K, against the stochastic-depth rate; bars: 95%% Wilson intervals.", r.evalImages())}, true
}

// FigureMaxCutVsRandom is paper Fig. 3: Raptor's accuracy with the plan's phases against every (or
// ≥ 10 random) contiguous partitions and shuffled partitions, per K, with 95% intervals.
func FigureMaxCutVsRandom(r *CIFARResults) (NamedFigure, bool) {
	groups := []figures.BarGroup{{Label: r.Method + " phases"}, {Label: "random contiguous (mean)"}, {Label: "random shuffle (mean)"}}
	var cats []string
	for _, set := range r.BaselineSets {
		used := r.comparedPartition(set)
		conds := [][][]float64{r.maxCutRows(set), r.baselineRows(set.SD, set.K, KindRandomContiguous, used), r.baselineRows(set.SD, set.K, KindRandomShuffle, used)}
		var ests []stats.Estimate
		for _, c := range conds {
			if e, ok := conditionMean(c); ok {
				ests = append(ests, e)
			}
		}
		if len(ests) != 3 {
			continue
		}
		cats = append(cats, fmt.Sprintf("K=%d, p=%.2f", set.K, set.SD))
		for gi, e := range ests {
			groups[gi].Values = append(groups[gi].Values, 100*e.Value)
			groups[gi].Lo, groups[gi].Hi = append(groups[gi].Lo, 100*min(e.CI.Lo, e.Value)), append(groups[gi].Hi, 100*max(e.CI.Hi, e.Value))
		}
	}
	if len(cats) == 0 {
		return NamedFigure{}, false
	}
	var how []string
	for _, s := range r.BaselineSets {
		n := fmt.Sprintf("%d random", s.Contiguous)
		if s.Exhaustive {
			n = fmt.Sprintf("all %d", s.Contiguous)
		}
		steps := ""
		if s.Steps > 0 {
			steps = fmt.Sprintf(", every fit %d steps per stage", s.Steps)
		}
		how = append(how, fmt.Sprintf("K=%d p=%.2f: %s contiguous, %d shuffles%s", s.K, s.SD, n, s.Shuffles, steps))
	}
	p := figures.Bars(fmt.Sprintf("Phase assignment (%s)", r.Dataset), "Raptor blocks, teacher's SD rate", "top-1 accuracy (%)", cats, groups...)
	return NamedFigure{Name: "01_maxcut_vs_random", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("Raptor accuracy with the %s phases vs random contiguous and random shuffled phases (paper Fig. 3; %s), on the same %d test images; whiskers: 95%% intervals (Wilson for a single fit, else a two-level bootstrap over fits and images); the random sets leave out the partition equal to the one compared.",
			r.Method, strings.Join(how, "; "), r.evalImages())}, true
}

// FigureLayerSwap is the accuracy drop of every single layer swap against |ℓ − o|, same-phase and
// cross-phase swaps apart, per swap teacher, with 95% Wilson intervals of the swapped accuracy.
func FigureLayerSwap(r *CIFARResults) (NamedFigure, bool) {
	var series []figures.Series
	for _, set := range r.Swaps {
		base := mean(correctness(set.Teacher, set.Labels))
		for _, same := range []bool{true, false} {
			s := figures.Series{Label: fmt.Sprintf("p=%.2f, %s", set.SD, map[bool]string{true: "same phase", false: "other phase"}[same]), PointsOnly: true}
			for _, sw := range set.Swaps {
				if sw.SamePhase != same {
					continue
				}
				c := correctness(sw.Predictions, set.Labels)
				m := mean(c)
				iv, err := stats.Wilson(int(math.Round(m*float64(len(c)))), len(c), stats.DefaultLevel)
				if err != nil {
					continue
				}
				// Jitter same-phase and other-phase points apart so both stay visible.
				dx := map[bool]float64{true: -0.12, false: 0.12}[same]
				d := 100 * (base - m)
				s.X, s.Y = append(s.X, math.Abs(float64(sw.Layer-sw.Source))+dx), append(s.Y, d)
				s.Lo, s.Hi = append(s.Lo, min(d, 100*(base-iv.Hi))), append(s.Hi, max(d, 100*(base-iv.Lo)))
			}
			if len(s.X) > 0 {
				series = append(series, s)
			}
		}
	}
	if len(series) == 0 {
		return NamedFigure{}, false
	}
	if len(r.Swaps) > 0 {
		// The drop of a model at chance level, for the first swap teacher.
		set := r.Swaps[0]
		drop := 100*mean(correctness(set.Teacher, set.Labels)) - 100/float64(max(2, numClasses(set.Labels)))
		maxD := 1.0
		for _, sw := range set.Swaps {
			maxD = max(maxD, math.Abs(float64(sw.Layer-sw.Source)))
		}
		series = append(series, figures.Series{Label: fmt.Sprintf("chance level (p=%.2f)", set.SD), X: []float64{0.5, maxD + 0.5}, Y: []float64{drop, drop}})
	}
	p := figures.Lines("Single layer swaps without training ("+r.Dataset+")", "distance |ℓ − o| between the layer and the layer whose weights it runs", "accuracy drop (points)", series...)
	var fits []string
	for _, set := range r.Swaps {
		if fit, model, ok := set.Regression(); ok {
			c := fit.Coef[len(fit.Coef)-1]
			fits = append(fits, fmt.Sprintf("p=%.2f (K=%d phases %s): same-phase coefficient %+.1f points, 95%% t-interval [%.1f, %.1f], %s",
				set.SD, set.K, set.Partition, 100*c.Value, 100*c.CI.Lo, 100*c.CI.Hi, model))
		}
	}
	chance := ""
	if len(r.Swaps) > 0 {
		chance = fmt.Sprintf(" Zero drop is the unswapped teacher; chance level is a drop of about %.0f points on p=%.2f.", 100*mean(correctness(r.Swaps[0].Teacher, r.Swaps[0].Labels))-100.0/float64(max(2, numClasses(r.Swaps[0].Labels))), r.Swaps[0].SD)
	}
	return NamedFigure{Name: "01_layer_swap", W: 16 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: p,
		Caption: fmt.Sprintf("Accuracy drop when layer ℓ runs the weights of layer o (every ℓ ≠ o), against |ℓ − o|, for swaps inside one phase and across phases (the phases Raptor uses), on %d test images; bars: 95%% Wilson intervals. Least-squares fits of the drop: %s.%s",
			len(r.Swaps[0].Labels), strings.Join(fits, "; "), chance)}, true
}

func numClasses(labels []int) int {
	m := 0
	for _, l := range labels {
		m = max(m, l+1)
	}
	return m
}

// FigureTrainingControls is paper Fig. 13's question: how block structure and accuracy grow along
// training, from random initialisation to the trained teacher, with 95% intervals.
func FigureTrainingControls(r *CIFARResults) (NamedFigure, bool) {
	if len(r.Controls) < 2 {
		return NamedFigure{}, false
	}
	// One trajectory: the first teacher's (the controls of other seeds are in the claims).
	var controls []Control
	for _, c := range r.Controls {
		if c.Seed == r.Controls[0].Seed {
			controls = append(controls, c)
		}
	}
	steps := make([]float64, len(controls))
	acc := figures.Series{Label: "test accuracy"}
	for i, c := range controls {
		steps[i] = float64(c.Step)
		acc.X, acc.Y = append(acc.X, steps[i]), append(acc.Y, 100*c.Accuracy.Value)
		acc.Lo, acc.Hi = append(acc.Lo, 100*c.Accuracy.CI.Lo), append(acc.Hi, 100*c.Accuracy.CI.Hi)
	}
	var bi []figures.Series
	for _, k := range r.sweepK() {
		if k < 2 {
			continue
		}
		s := figures.Series{Label: fmt.Sprintf("K=%d", k)}
		for i, c := range controls {
			if rep := controlPhase(c, k); rep != nil && rep.BlockIndexCI != nil {
				s.X, s.Y = append(s.X, steps[i]), append(s.Y, rep.BlockIndex)
				s.Lo, s.Hi = append(s.Lo, min(rep.BlockIndexCI.Lo, rep.BlockIndex)), append(s.Hi, max(rep.BlockIndexCI.Hi, rep.BlockIndex))
			}
		}
		if len(s.X) > 0 {
			bi = append(bi, s)
		}
	}
	left := figures.Lines(fmt.Sprintf("Block structure along training, p=%.2f", controls[0].SD), "training step (0 = random init)", "block index (lower = blockier)", bi...)
	right := figures.Lines("Accuracy along training", "training step (0 = random init)", "top-1 accuracy (%)", acc)
	return NamedFigure{Name: "01_training_controls", W: 24 * vg.Centimeter, H: 10 * vg.Centimeter, Figure: figures.Panel(2, left, right),
		Caption: fmt.Sprintf("The teacher p=%.2f at random initialisation, at checkpoints kept along training and trained: block index of the contiguous max-cut phases per K (left; 95%% bootstrap intervals over probe images) and test accuracy (right; 95%% Wilson intervals on %d images) (paper Fig. 13's question).", controls[0].SD, controls[0].Accuracy.N)}, true
}

// Figures builds every figure of notebook 01 from the results (each also on its own: the
// Figure* functions). Captions name the data set and the scale.
func (r *CIFARResults) Figures() ([]NamedFigure, error) {
	var out []NamedFigure
	if _, err := similarityFigure(r); err != nil {
		return nil, err
	}
	for _, f := range []func(*CIFARResults) (NamedFigure, bool){FigureSimilarityVsSD, FigureAccuracyVsSD, FigureBlockIndexVsSD, FigureBoundaryStability,
		FigureR2VsSD, FigureR2PerLayer, FigureAgreementVsSD, FigureMaxCutVsRandom, FigureLayerSwap, FigureTrainingControls, FigureAblation} {
		if fig, ok := f(r); ok {
			out = append(out, fig)
		}
	}
	for i := range out {
		out[i].Caption = r.captioned(out[i].Caption)
	}
	return out, nil
}

// captioned appends the data set and scale to a caption that does not name them.
func (r *CIFARResults) captioned(c string) string {
	if !strings.Contains(c, r.Dataset) {
		c += " Data: " + r.Dataset + "."
	}
	if r.Scale != "" {
		c += " Scale: " + r.Scale + "."
	}
	return c
}

func pluck[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// Conclusion states, from the numbers, what this run says about the paper's CIFAR claims: every
// claim row with its interval and computed verdict.
func (r *CIFARResults) Conclusion() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Computed from this run** (%s, scale `%s`, %s; %s).\n\n", r.Dataset, r.Scale, r.Model, r.Recipe)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "*These results are partial: the time budget ran out before %d Raptor fits (%s).*\n\n", len(r.Skipped), strings.Join(r.Skipped, "; "))
	}
	if r.Scale == "smoke" {
		b.WriteString("*Smoke scale: tiny models trained for seconds; these numbers check the pipeline, not the science.*\n\n")
	}
	fmt.Fprintf(&b, "- Teachers (test accuracy, 95%% Wilson interval): %s.\n", joinf(append(append([]TeacherSummary{}, r.Teachers...), r.TeacherReplicates...), func(t TeacherSummary) string {
		return fmt.Sprintf("p=%.2f seed %d %.1f%% %s on %d images", t.SD, max(1, t.Seed), 100*t.Accuracy, pctInterval(t.AccuracyCI), t.TestImages)
	}))
	for _, t := range r.Teachers {
		var parts []string
		for _, rep := range t.Phases {
			if rep.K < 2 {
				continue
			}
			part := fmt.Sprintf("K=%d DP %s, %s %s", rep.K, rep.Contiguous, rep.UsedMethod, rep.Used)
			if rep.Bisection != nil && !rep.BisectionContiguous {
				part += " (not contiguous)"
			}
			if rep.Stability != nil {
				part += fmt.Sprintf(", DP phases chosen in %.0f%% of bootstrap replicates", 100*rep.Stability.SameShare)
			}
			if rep.Null != nil {
				part += fmt.Sprintf(", drift null: %s (p=%.3g)", rep.Null.Verdict, rep.Null.P)
			}
			parts = append(parts, part)
		}
		fmt.Fprintf(&b, "- Phases of p=%.2f: %s.\n", t.SD, strings.Join(parts, "; "))
	}
	b.WriteString(r.trainingCurveNote())
	b.WriteString(r.ablationTable())
	claims := r.Claims()
	b.WriteString("\n**Verdicts by claim** (computed from the intervals below):\n\n")
	b.WriteString(ClaimSummary(claims))
	b.WriteString("\n")
	b.WriteString(ClaimsTable(claims))
	return b.String()
}

func joinf[T any](xs []T, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, ", ")
}

// trainingCurveNote is the accuracy of each control teacher along its training (random init,
// kept checkpoints, trained) with 95% Wilson intervals, and whether it was still rising at the
// end: the trained accuracy's interval lies above the last checkpoint's.
func (r *CIFARResults) trainingCurveNote() string {
	bySeed := map[int][]Control{}
	var seeds []int
	for _, c := range r.Controls {
		if bySeed[c.Seed] == nil {
			seeds = append(seeds, c.Seed)
		}
		bySeed[c.Seed] = append(bySeed[c.Seed], c)
	}
	var b strings.Builder
	for _, seed := range seeds {
		cs := bySeed[seed]
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Step < cs[j].Step })
		var parts []string
		for _, c := range cs {
			parts = append(parts, fmt.Sprintf("step %d: %.1f%% %s", c.Step, 100*c.Accuracy.Value, pctInterval(c.Accuracy.CI)))
		}
		verdict := ""
		if n := len(cs); n >= 2 {
			last, prev := cs[n-1].Accuracy, cs[n-2].Accuracy
			if last.CI.Lo > prev.CI.Hi {
				verdict = fmt.Sprintf("; **still rising** at the end (the trained interval lies above step %d's): not trained to a plateau", cs[n-2].Step)
			} else {
				verdict = fmt.Sprintf("; no rise beyond the intervals after step %d", cs[n-2].Step)
			}
		}
		fmt.Fprintf(&b, "- Training curve of the p=%.2f teacher, seed %d (test accuracy on %d images, 95%% Wilson): %s%s.\n",
			cs[0].SD, seed, cs[0].Accuracy.N, strings.Join(parts, ", "), verdict)
	}
	return b.String()
}
