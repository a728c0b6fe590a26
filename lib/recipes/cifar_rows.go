package recipes

import (
	"fmt"
	"math"
	"slices"

	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/stats"
)

// This file gathers, per condition, the per-image results of every fit (Raptor seeds, teachers
// of one rate, random partitions) on the same evaluation images, and compares conditions with a
// two-level bootstrap: fits are resampled within each condition and images across both, so an
// interval holds the variation between fits as well as between images.

// evalLabels are the labels of the evaluation images every fit was scored on, in cache order (nil
// when no fit has per-image predictions).
func (r *CIFARResults) evalLabels() []int {
	for _, run := range r.Raptor {
		if len(run.Result.Labels) > 0 {
			return run.Result.Labels
		}
	}
	return nil
}

// rowOf is a fit's per-image 0/1 outcome, or nil when its images are not the evaluation images.
func rowOf(preds, labels, ref []int) []float64 {
	if len(preds) == 0 || len(preds) != len(ref) || !slices.Equal(labels, ref) {
		return nil
	}
	return correctness(preds, labels)
}

// raptorRows are the per-image correctness rows of the Raptor fits (every seed) at (sd, k).
func (r *CIFARResults) raptorRows(sd float64, k int) [][]float64 {
	ref := r.evalLabels()
	var out [][]float64
	for _, run := range r.Raptor {
		if run.SD == sd && run.K == k {
			if row := rowOf(run.Result.Predictions, run.Result.Labels, ref); row != nil {
				out = append(out, row)
			}
		}
	}
	return out
}

// agreeRows are the per-image agreement rows (Raptor's class = its teacher's) at (sd, k).
func (r *CIFARResults) agreeRows(sd float64, k int) [][]float64 {
	ref := r.evalLabels()
	var out [][]float64
	for _, run := range r.Raptor {
		if run.SD == sd && run.K == k && len(run.Result.Predictions) == len(ref) && slices.Equal(run.Result.Labels, ref) &&
			len(run.Result.TeacherPredictions) == len(ref) {
			out = append(out, correctness(run.Result.Predictions, run.Result.TeacherPredictions))
		}
	}
	return out
}

// teacherRows are the per-image correctness rows of every teacher of rate sd (seed 1 from its
// Raptor fits, the replicates from their own predictions), on the evaluation images.
func (r *CIFARResults) teacherRows(sd float64) [][]float64 {
	ref := r.evalLabels()
	var out [][]float64
	for _, run := range r.Raptor {
		if run.SD == sd {
			if row := rowOf(run.Result.TeacherPredictions, run.Result.Labels, ref); row != nil {
				out = append(out, row)
				break
			}
		}
	}
	for _, t := range r.TeacherReplicates {
		if t.SD == sd {
			if row := rowOf(t.ValPredictions, t.ValLabels, ref); row != nil {
				out = append(out, row)
			}
		}
	}
	return out
}

// baselineRows are the per-image correctness rows of the baseline fits of a kind at (sd, k),
// leaving out a partition equal to the one being compared with (exclude).
func (r *CIFARResults) baselineRows(sd float64, k int, kind, exclude string) [][]float64 {
	ref := r.evalLabels()
	var out [][]float64
	for _, b := range r.Baselines {
		if b.SD == sd && b.K == k && b.Kind == kind && b.Partition != exclude {
			if row := rowOf(b.Result.Predictions, b.Result.Labels, ref); row != nil {
				out = append(out, row)
			}
		}
	}
	return out
}

// twoLevel compares two conditions: value f(mean of a, mean of b) over all fits and images; each
// bootstrap replicate draws fits with replacement within a and within b, then images with
// replacement (the same images for both). f is a difference or a ratio of mean outcomes.
func twoLevel(a, b [][]float64, f func(ma, mb float64) float64) (stats.Estimate, bool) {
	if len(a) == 0 || len(b) == 0 {
		return stats.Estimate{}, false
	}
	n := len(a[0])
	for _, row := range append(slices.Clone(a), b...) {
		if len(row) != n || n == 0 {
			return stats.Estimate{}, false
		}
	}
	meanOf := func(rows [][]float64, pick []int, count []float64) float64 {
		t := 0.0
		for _, p := range pick {
			row := rows[p]
			for i, c := range count {
				if c != 0 {
					t += c * row[i]
				}
			}
		}
		return t / float64(len(pick)*n)
	}
	all := func(rows [][]float64) []int {
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	value := f(meanOf(a, all(a), ones), meanOf(b, all(b), ones))
	rng := phases.NewRand(claimSeed)
	reps := make([]float64, claimReps)
	pa, pb := make([]int, len(a)), make([]int, len(b))
	count := make([]float64, n)
	for rep := range reps {
		for i := range pa {
			pa[i] = rng.IntN(len(a))
		}
		for i := range pb {
			pb[i] = rng.IntN(len(b))
		}
		clear(count)
		for range n {
			count[rng.IntN(n)]++
		}
		reps[rep] = f(meanOf(a, pa, count), meanOf(b, pb, count))
	}
	iv, err := stats.PercentileInterval(reps, stats.DefaultLevel)
	if err != nil {
		return stats.Estimate{}, false
	}
	iv.Method = fmt.Sprintf("two-level bootstrap (%d reps: %d and %d fits, then %d images)", claimReps, len(a), len(b), n)
	return stats.Estimate{Value: value, CI: iv, N: n}, true
}

func diff(ma, mb float64) float64 { return ma - mb }

// chanceRatio is (a − c)/(b − c): the share of the teacher's accuracy above chance c that
// Raptor keeps (a plain ratio looks better as the teacher gets worse).
func chanceRatio(c float64) func(ma, mb float64) float64 {
	return func(ma, mb float64) float64 {
		if mb-c == 0 {
			return math.NaN()
		}
		return (ma - c) / (mb - c)
	}
}

// fitsNote says how many fits each side had, and whether that is enough for a verdict: a verdict
// needs at least minFits fits per condition, so that fit-to-fit variation is in the interval.
func fitsNote(na, nb, minFits int) (string, bool) {
	if na < minFits || nb < minFits {
		return fmt.Sprintf("needs ≥ %d fits per condition (here %d and %d): not testable", minFits, na, nb), false
	}
	return fmt.Sprintf("%d and %d fits", na, nb), true
}

// teacherStabilities are the bootstrap Stabilities at k of every teacher of rate sd, with their
// full-sample block indices; only teachers bootstrapped like the first (same probe images and
// replicates) are kept.
func (r *CIFARResults) teacherStabilities(sd float64, k int) ([]*phases.Stability, []float64) {
	var sts []*phases.Stability
	var full []float64
	probe, reps := -1, -1
	all := make([]TeacherSummary, 0, len(r.Teachers)+len(r.TeacherReplicates))
	all = append(append(all, r.Teachers...), r.TeacherReplicates...)
	for _, t := range all {
		if t.SD != sd {
			continue
		}
		rep := phaseAt(t, k)
		if rep == nil || rep.Stability == nil {
			continue
		}
		if probe == -1 {
			probe, reps = t.Probe, rep.Stability.Replicates
		}
		if t.Probe != probe || rep.Stability.Replicates != reps || len(rep.Stability.BlockIndex) != reps {
			continue
		}
		sts, full = append(sts, rep.Stability), append(full, rep.BlockIndex)
	}
	return sts, full
}

// stabilityDiff compares the block index of two groups of models (each a list of Stabilities
// bootstrapped with one seed over the same probe images, so replicate i resampled the same
// images in every one): replicate i draws models with replacement within each group and takes
// the difference of their mean block index at replicate i.
func stabilityDiff(a, b []*phases.Stability, fullA, fullB []float64) (stats.Estimate, bool) {
	if len(a) == 0 || len(b) == 0 || a[0].Replicates != b[0].Replicates || len(a[0].BlockIndex) == 0 {
		return stats.Estimate{}, false
	}
	reps := len(a[0].BlockIndex)
	rng := phases.NewRand(claimSeed + 1)
	var d []float64
	pick := func(group []*phases.Stability, i int) (float64, bool) {
		t := 0.0
		for range group {
			v := group[rng.IntN(len(group))].BlockIndex[i]
			if v < 0 {
				return 0, false
			}
			t += v
		}
		return t / float64(len(group)), true
	}
	for i := range reps {
		va, okA := pick(a, i)
		vb, okB := pick(b, i)
		if okA && okB {
			d = append(d, va-vb)
		}
	}
	iv, err := stats.PercentileInterval(d, stats.DefaultLevel)
	if err != nil {
		return stats.Estimate{}, false
	}
	iv.Method = fmt.Sprintf("two-level bootstrap (%d replicates over probe images, %d and %d models)", len(d), len(a), len(b))
	return stats.Estimate{Value: mean(fullA) - mean(fullB), CI: iv, N: len(d)}, true
}

// maxCutRows are the rows of the compared (max-cut) phases in a baseline set: the fits made with
// the set's short recipe when there are any, else the main fits at (sd, k).
func (r *CIFARResults) maxCutRows(set BaselineSet) [][]float64 {
	if rows := r.baselineRows(set.SD, set.K, KindMaxCut, "\x00"); len(rows) > 0 {
		return rows
	}
	return r.raptorRows(set.SD, set.K)
}

// comparedPartition is the partition a baseline set is compared with.
func (r *CIFARResults) comparedPartition(set BaselineSet) string {
	for _, b := range r.Baselines {
		if b.SD == set.SD && b.K == set.K && b.Kind == KindMaxCut {
			return b.Partition
		}
	}
	if run := r.raptorAt(set.SD, set.K); run != nil {
		return run.Partition
	}
	return ""
}
