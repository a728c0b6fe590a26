package recipes

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/figures"
)

// NamedFigure is a figure with its stable file name, size and caption.
type NamedFigure struct {
	Name    string
	Figure  figures.Figure
	W, H    vg.Length
	Caption string
}

// meanStd returns the mean and the (population) standard deviation.
func meanStd(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)))
}

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

// sweepK returns the sorted K values of the max-cut Raptor runs.
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

func (r *CIFARResults) raptorAt(sd float64, k int) *RaptorRun {
	for i := range r.Raptor {
		if r.Raptor[i].SD == sd && r.Raptor[i].K == k {
			return &r.Raptor[i]
		}
	}
	return nil
}

// teacherOnEvalImages is the teacher's accuracy on the images its Raptor runs were scored on (the
// first Raptor run at that rate says; all share the images) and their number; without a Raptor run
// it is the teacher's own test accuracy and 0 images.
func (r *CIFARResults) teacherOnEvalImages(t TeacherSummary) (float64, int) {
	for _, run := range r.Raptor {
		if run.SD == t.SD && run.Result.TeacherAccuracy > 0 {
			return run.Result.TeacherAccuracy, run.Result.ValImages
		}
	}
	return t.Accuracy, 0
}

// Figures builds every figure of notebook 01 from the results. Titles name the dataset.
func (r *CIFARResults) Figures() ([]NamedFigure, error) {
	ds := r.Dataset
	var out []NamedFigure
	var sds []float64
	for _, t := range r.Teachers {
		sds = append(sds, t.SD)
	}

	// Fig. 4C: accuracy against the SD rate, teacher and Raptor per K.
	// The teacher is scored on the same images as Raptor, so the two lines share one denominator.
	evalImages := 0
	acc := []figures.Series{{Label: "teacher ViT", X: sds, Y: pluck(r.Teachers, func(t TeacherSummary) float64 {
		a, n := r.teacherOnEvalImages(t)
		evalImages = max(evalImages, n)
		return a * 100
	})}}
	for _, k := range r.sweepK() {
		s := figures.Series{Label: fmt.Sprintf("Raptor K=%d", k)}
		for _, sd := range sds {
			if run := r.raptorAt(sd, k); run != nil {
				s.X, s.Y = append(s.X, sd), append(s.Y, run.Result.Accuracy*100)
			}
		}
		acc = append(acc, s)
	}
	out = append(out, NamedFigure{Name: "01_accuracy_vs_sd", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter,
		Figure:  figures.Lines("Accuracy vs stochastic depth ("+ds+")", "uniform stochastic-depth rate p", "top-1 accuracy (%)", acc...),
		Caption: fmt.Sprintf("Test accuracy of the teacher ViTs and of Raptor (max-cut phases), both on the same %d test images, against the uniform stochastic-depth rate (paper Fig. 4C).", evalImages)})

	// Fig. 4A: similarity matrices with max-cut boundaries, one per SD.
	kShow := 3
	var maps []*plot.Plot
	for _, t := range r.Teachers {
		var bounds []int
		for _, rep := range t.Phases {
			if rep.K == kShow || (rep.K < kShow && rep.K == len(t.Phases)) {
				bounds, _ = rep.Contiguous.Thresholds()
			}
		}
		p, err := figures.Heatmap(t.Similarity, figures.HeatmapOptions{Title: fmt.Sprintf("p = %.2f (acc %.1f%%)", t.SD, t.Accuracy*100),
			OneBased: true, Boundaries: bounds, ColorBarLabel: "1 − cos"})
		if err != nil {
			return nil, err
		}
		maps = append(maps, p)
	}
	out = append(out, NamedFigure{Name: "01_similarity_vs_sd", Figure: figures.Panel(len(maps), maps...),
		W: vg.Length(len(maps)) * 9 * vg.Centimeter, H: 9 * vg.Centimeter,
		Caption: fmt.Sprintf("Layer-layer dissimilarity (CLS + mean patch, 1 − cos, %s test images) per stochastic-depth rate; red dashed lines: contiguous max-cut boundaries for K=%d (paper Fig. 4A).", ds, kShow)})

	// Are the phases real? Block index against the smooth-drift null model.
	var blockIdx, driftIdx []float64
	for _, t := range r.Teachers {
		for _, rep := range t.Phases {
			if rep.K == kShow || (rep.K < kShow && rep.K == len(t.Phases)) {
				blockIdx, driftIdx = append(blockIdx, rep.BlockIndex), append(driftIdx, rep.DriftBlockIndex)
			}
		}
	}
	if len(blockIdx) == len(sds) {
		out = append(out, NamedFigure{Name: "01_block_index_vs_sd", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter,
			Figure: figures.Lines("Block structure vs smooth drift ("+ds+")", "uniform stochastic-depth rate p", "block index: within / between (lower = blockier)",
				figures.Series{Label: "max-cut phases", X: sds, Y: blockIdx}, figures.Series{Label: "same phases, smooth-drift matrix", X: sds, Y: driftIdx}),
			Caption: "Block-structure index of the max-cut phases on the measured matrix and on its smooth-drift baseline (each diagonal replaced by its mean). Phases are real only where the first curve lies clearly below the second."})
	}

	// Fig. 4B: layer-wise R² (averaged over layers) vs SD, one panel per token type, with the
	// copy-the-embedding baseline.
	var r2Panels []*plot.Plot
	for _, col := range []int{ColCLS, ColPatches} {
		name := map[int]string{ColCLS: "CLS token", ColPatches: "patch tokens"}[col]
		var series []figures.Series
		for _, k := range r.sweepK() {
			s := figures.Series{Label: fmt.Sprintf("Raptor K=%d", k)}
			for _, sd := range sds {
				if run := r.raptorAt(sd, k); run != nil {
					s.X, s.Y = append(s.X, sd), append(s.Y, meanR2(run.Result.R2, col))
				}
			}
			series = append(series, s)
		}
		base := figures.Series{Label: "copy a_0 to every layer"}
		for _, sd := range sds {
			if rr := r.raptorAt(sd, r.sweepK()[0]); rr != nil && rr.Result.CopyR2 != nil {
				base.X, base.Y = append(base.X, sd), append(base.Y, meanR2(rr.Result.CopyR2, col))
			}
		}
		if len(base.X) > 0 {
			series = append(series, base)
		}
		p := figures.Lines(name, "uniform stochastic-depth rate p", "R² averaged over layers 1..L", series...)
		p.Legend.Top, p.Legend.Left = false, true // the lowest curve is the baseline: keep the legend off the others
		r2Panels = append(r2Panels, p)
	}
	out = append(out, NamedFigure{Name: "01_r2_vs_sd", W: 24 * vg.Centimeter, H: 10 * vg.Centimeter,
		Figure:  figures.Panel(2, r2Panels...),
		Caption: "Layer-wise R² between Raptor's and the teacher's hidden states (mean over layers 1..L), for the CLS token (left) and the patch tokens (right), per K, against the stochastic-depth rate (paper Fig. 4B); the baseline copies the embedding a_0 to every layer. Data: " + ds + "."})

	// Fig. 3: max-cut vs random phases.
	if len(r.Baselines) > 0 {
		var cats []string
		groups := []figures.BarGroup{{Label: "max-cut"}, {Label: "random contiguous"}, {Label: "random shuffle"}}
		for _, k := range r.sweepK() {
			mc := r.raptorAt(r.BaselineSD, k)
			accs := map[string][]float64{}
			for _, b := range r.Baselines {
				if b.K == k {
					accs[b.Kind] = append(accs[b.Kind], b.Result.Accuracy*100)
				}
			}
			if k < 2 || mc == nil || len(accs[KindRandomContiguous]) == 0 || len(accs[KindRandomShuffle]) == 0 {
				continue // not run, or skipped by the time budget
			}
			cats = append(cats, fmt.Sprintf("K=%d", k))
			groups[0].Values, groups[0].Err = append(groups[0].Values, mc.Result.Accuracy*100), append(groups[0].Err, 0)
			for gi, kind := range []string{KindRandomContiguous, KindRandomShuffle} {
				m, s := meanStd(accs[kind])
				groups[gi+1].Values, groups[gi+1].Err = append(groups[gi+1].Values, m), append(groups[gi+1].Err, s)
			}
		}
		if len(cats) > 0 {
			out = append(out, NamedFigure{Name: "01_maxcut_vs_random", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter,
				Figure:  figures.Bars(fmt.Sprintf("Phase assignment, teacher p=%.2f (%s)", r.BaselineSD, ds), "Raptor blocks", "top-1 accuracy (%)", cats, groups...),
				Caption: fmt.Sprintf("Raptor accuracy with max-cut phases vs random contiguous and random shuffled phases (mean ± std over %d seeds; paper Fig. 3).", r.baselineSeeds())})
		}
	}

	// Layer swap: intra vs inter phase, for the lowest and highest SD rate; only the numbers of
	// swapped layers that every setting could draw are shown.
	if len(r.Swaps) > 0 {
		settings := []struct {
			kind string
			sd   float64
		}{}
		for _, kind := range []string{"intra", "inter"} {
			settings = append(settings, struct {
				kind string
				sd   float64
			}{kind, sds[0]})
			if len(sds) > 1 {
				settings = append(settings, struct {
					kind string
					sd   float64
				}{kind, sds[len(sds)-1]})
			}
		}
		find := func(kind string, sd float64, n int) *SwapRun {
			for i, sw := range r.Swaps {
				if sw.Kind == kind && sw.N == n && sw.SD == sd {
					return &r.Swaps[i]
				}
			}
			return nil
		}
		groups := make([]figures.BarGroup, len(settings))
		for i, st := range settings {
			groups[i].Label = fmt.Sprintf("%s-phase, p=%.2f", st.kind, st.sd)
		}
		var cats []string
		for n := 1; n <= 3; n++ {
			complete := true
			for _, st := range settings {
				complete = complete && find(st.kind, st.sd, n) != nil
			}
			if !complete {
				continue
			}
			cats = append(cats, fmt.Sprintf("%d layer(s)", n))
			for i, st := range settings {
				m, sd := meanStd(find(st.kind, st.sd, n).Accuracy)
				groups[i].Values, groups[i].Err = append(groups[i].Values, m*100), append(groups[i].Err, sd*100)
			}
		}
		if len(cats) > 0 {
			out = append(out, NamedFigure{Name: "01_layer_swap", W: 15 * vg.Centimeter, H: 10 * vg.Centimeter,
				Figure:  figures.Bars("Layer swap without training ("+ds+")", "layers replaced", "top-1 accuracy (%)", cats, groups...),
				Caption: "Teacher accuracy when 1-3 layers run the weights of another layer of the same max-cut phase (intra) or of another phase (inter); mean ± std over random draws."})
		}
	}
	// Every caption names the data set and the scale it was made from.
	for i := range out {
		if !strings.Contains(out[i].Caption, ds) {
			out[i].Caption += " Data: " + ds + "."
		}
		if r.Scale != "" {
			out[i].Caption += " Scale: " + r.Scale + "."
		}
	}
	return out, nil
}

func (r *CIFARResults) baselineSeeds() int {
	max := 0
	for _, b := range r.Baselines {
		if int(b.Seed) > max {
			max = int(b.Seed)
		}
	}
	return max
}

func pluck[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// Conclusion states, from the numbers, what this run says about the paper's CIFAR claims.
func (r *CIFARResults) Conclusion() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Computed from this run** (%s, scale `%s`, %s).\n\n", r.Dataset, r.Scale, r.Model)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "*These results are partial: the time budget ran out before %d Raptor fits (%s).*\n\n", len(r.Skipped), strings.Join(r.Skipped, "; "))
	}
	if r.Scale == "smoke" {
		b.WriteString("*Smoke scale: tiny models trained for seconds; these numbers check the pipeline, not the science.*\n\n")
	}
	best := r.Teachers[0]
	for _, t := range r.Teachers {
		if t.Accuracy > best.Accuracy {
			best = t
		}
	}
	fmt.Fprintf(&b, "- Teachers: accuracy %s; best at p=%.2f.\n", joinf(r.Teachers, func(t TeacherSummary) string {
		return fmt.Sprintf("%.1f%% (p=%.2f)", t.Accuracy*100, t.SD)
	}), best.SD)
	for _, t := range r.Teachers {
		var parts []string
		for _, rep := range t.Phases {
			if rep.K < 2 {
				continue
			}
			verdict := "not more block-like than smooth drift"
			if rep.BlockIndex < 0.9*rep.DriftBlockIndex {
				verdict = "more block-like than smooth drift"
			}
			parts = append(parts, fmt.Sprintf("K=%d phases %s (index %.3f vs drift %.3f: %s)", rep.K, rep.Contiguous, rep.BlockIndex, rep.DriftBlockIndex, verdict))
		}
		fmt.Fprintf(&b, "- p=%.2f: %s.\n", t.SD, strings.Join(parts, "; "))
	}
	for _, t := range r.Teachers {
		var parts []string
		for _, k := range r.sweepK() {
			if run := r.raptorAt(t.SD, k); run != nil && run.Result.TeacherAccuracy > 0 {
				parts = append(parts, fmt.Sprintf("K=%d %.1f%% vs teacher %.1f%% = %.0f%% of the teacher's accuracy (R² patches %.3f, copy baseline %.3f)",
					k, 100*run.Result.Accuracy, 100*run.Result.TeacherAccuracy, 100*run.Result.Accuracy/run.Result.TeacherAccuracy,
					meanR2(run.Result.R2, ColPatches), meanR2(run.Result.CopyR2, ColPatches)))
			}
		}
		_, n := r.teacherOnEvalImages(t)
		fmt.Fprintf(&b, "- Raptor on p=%.2f (accuracies on the same %d test images): %s.\n", t.SD, n, strings.Join(parts, "; "))
	}
	if gain := r.gainTable(); gain != "" {
		b.WriteString(gain)
	}
	if len(r.Baselines) > 0 {
		for _, k := range r.sweepK() {
			mc := r.raptorAt(r.BaselineSD, k)
			if k < 2 || mc == nil {
				continue
			}
			var rc, rs []float64
			for _, x := range r.Baselines {
				if x.K == k && x.Kind == KindRandomContiguous {
					rc = append(rc, x.Result.Accuracy)
				} else if x.K == k && x.Kind == KindRandomShuffle {
					rs = append(rs, x.Result.Accuracy)
				}
			}
			mrc, src := meanStd(rc)
			mrs, srs := meanStd(rs)
			fmt.Fprintf(&b, "- K=%d on p=%.2f: max-cut %.1f%%, random contiguous %.1f±%.1f%%, random shuffle %.1f±%.1f%% → max-cut %s random contiguous, random contiguous %s random shuffle.\n",
				k, r.BaselineSD, mc.Result.Accuracy*100, mrc*100, src*100, mrs*100, srs*100, beats(mc.Result.Accuracy, mrc, src), beats(mrc, mrs, srs))
		}
	}
	for _, sd := range uniqueSD(r.Swaps) {
		var atSD []SwapRun
		base := 0.0
		for _, s := range r.Swaps {
			if s.SD == sd {
				atSD, base = append(atSD, s), s.Teacher
			}
		}
		mi, me := swapMeans(atSD)
		fmt.Fprintf(&b, "- Layer swap on p=%.2f (teacher %.1f%%): intra-phase swaps keep %.1f%%, inter-phase swaps %.1f%% on average.\n", sd, base*100, mi*100, me*100)
	}
	return b.String()
}

// gainTable reports which step in K helps most, averaged over teachers.
func (r *CIFARResults) gainTable() string {
	ks := r.sweepK()
	if len(ks) < 3 {
		return ""
	}
	var parts []string
	bestGain, bestStep := math.Inf(-1), ""
	for i := 1; i < len(ks); i++ {
		var gains []float64
		for _, t := range r.Teachers {
			a, b := r.raptorAt(t.SD, ks[i-1]), r.raptorAt(t.SD, ks[i])
			if a != nil && b != nil {
				gains = append(gains, (b.Result.Accuracy-a.Result.Accuracy)*100)
			}
		}
		m, _ := meanStd(gains)
		step := fmt.Sprintf("K=%d→%d", ks[i-1], ks[i])
		parts = append(parts, fmt.Sprintf("%s %+.1f points", step, m))
		if m > bestGain {
			bestGain, bestStep = m, step
		}
	}
	return fmt.Sprintf("- Accuracy gain per added block (mean over teachers): %s; the largest is %s.\n", strings.Join(parts, ", "), bestStep)
}

// beats says how a compares with b ± s.
func beats(a, b, s float64) string {
	switch {
	case a > b+s:
		return "beats (by more than 1σ)"
	case a > b:
		return "is above (within 1σ of)"
	default:
		return "does not beat"
	}
}

func uniqueSD(s []SwapRun) []float64 {
	var out []float64
	seen := map[float64]bool{}
	for _, x := range s {
		if !seen[x.SD] {
			seen[x.SD] = true
			out = append(out, x.SD)
		}
	}
	return out
}

func joinf[T any](xs []T, f func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = f(x)
	}
	return strings.Join(parts, ", ")
}
