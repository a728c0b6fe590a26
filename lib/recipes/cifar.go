package recipes

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/stats"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// CIFARResults is everything notebook 01 plots. Each part is computed once and cached on disk.
type CIFARResults struct {
	Scale      string           `json:"scale"`
	Dataset    string           `json:"dataset"`
	Provenance string           `json:"provenance"`
	Model      string           `json:"model"`
	Recipe     string           `json:"recipe"` // Raptor steps, lr, LayerScale, seeds, images: what a rerun needs
	Method     string           `json:"method"` // how the phases Raptor uses were found (PhaseOptions.Method)
	Teachers   []TeacherSummary `json:"teachers"`
	// TeacherReplicates are the teachers of seeds 2, 3, … per rate (plan.TeacherSeeds), with
	// their predictions on the evaluation images.
	TeacherReplicates []TeacherSummary `json:"teacher_replicates,omitempty"`
	Raptor            []RaptorRun      `json:"raptor"`    // the phases of Method, every SD, K and seed
	Baselines         []RaptorRun      `json:"baselines"` // random phases on the baseline teacher
	BaselineSD        float64          `json:"baseline_sd"`
	// BaselineSets says, per K, how the random contiguous phases were drawn.
	BaselineSets []BaselineSet `json:"baseline_sets"`
	// Ablation is the recipe ablation of Table 1 (plan.AblationK on the first rate's teacher).
	Ablation []AblationRun `json:"ablation,omitempty"`
	Swaps    []SwapSet     `json:"swaps"`             // every single swap, on the plan's swap teachers
	Controls []Control     `json:"controls"`          // random init and checkpoints along training
	Skipped  []string      `json:"skipped,omitempty"` // fits left out by the time budget
}

// TeacherSummary is one teacher of the SD sweep with its phase structure.
type TeacherSummary struct {
	SD         float64        `json:"sd"`
	Seed       int            `json:"seed,omitempty"` // 0 or 1: the first teacher of the rate
	Accuracy   float64        `json:"accuracy"`
	AccuracyCI stats.Interval `json:"accuracy_ci"` // Wilson, over TestImages
	TestImages int            `json:"test_images"`
	Steps      int            `json:"steps"`
	Dir        string         `json:"dir"`
	Similarity [][]float64    `json:"similarity"` // rows/columns = blocks 1..L
	Probe      int            `json:"probe_images"`
	Phases     []PhaseReport  `json:"phases"`
	// ValPredictions are the teacher's classes on the evaluation images (replicates only: the
	// first teacher's are in its Raptor fits' TeacherPredictions), with their labels.
	ValPredictions []int `json:"val_predictions,omitempty"`
	ValLabels      []int `json:"val_labels,omitempty"`
}

// RaptorRun is one Raptor fit.
type RaptorRun struct {
	SD        float64      `json:"sd"`
	K         int          `json:"k"`
	Kind      string       `json:"kind"` // "max-cut", "random-contiguous", "random-shuffle"
	Seed      uint64       `json:"seed"`
	Partition string       `json:"partition"`
	Result    RaptorResult `json:"result"`
}

// BaselineSet says how the random contiguous baselines of one K were drawn.
type BaselineSet struct {
	SD         float64 `json:"sd"`    // the teacher's rate
	Steps      int     `json:"steps"` // Raptor steps per stage of every fit of the set
	K          int     `json:"k"`
	Exhaustive bool    `json:"exhaustive"` // every contiguous partition (C(L−1, K−1) ≤ 50)
	Contiguous int     `json:"contiguous"`
	Shuffles   int     `json:"shuffles"`
}

// Control is a model the teachers are compared with: the same architecture at random
// initialisation, or a teacher at a checkpoint along its training.
type Control struct {
	Name       string         `json:"name"`
	SD         float64        `json:"sd"`
	Seed       int            `json:"seed"`  // the teacher's seed
	Final      bool           `json:"final"` // the trained teacher itself
	Step       int            `json:"step"`  // training steps (0: random init)
	Accuracy   stats.Estimate `json:"accuracy"`
	Similarity [][]float64    `json:"similarity"`
	Phases     []PhaseReport  `json:"phases"`
}

// Partition kinds of RaptorRun.
const (
	KindMaxCut           = "max-cut"
	KindRandomContiguous = "random-contiguous"
	KindRandomShuffle    = "random-shuffle"
)

// analysisDir is where a teacher's analyses live (versioned: results of an older layout are
// not mixed with these).
const analysisDir = "analysis-v2"

// RunCIFAR runs (or reloads) the whole CIFAR experiment of a plan on splits: the teacher sweep
// with similarity matrices, phases (with bootstrap stability and the warped-drift null) and
// activation caches; Raptor with K blocks on the plan's phases for every teacher and seed; every
// single layer swap; max-cut versus every (or ≥ 10 random) contiguous partitions and ≥ 10
// shuffles on the middle teacher; and the controls (random init, checkpoints along training).
// When stop reports true before a Raptor fit starts (a time budget), the remaining fits are
// skipped and listed in Skipped: the results are partial and say so.
func RunCIFAR(b backends.Backend, plan CIFARPlan, splits *data.Splits, progress io.Writer, stop func() bool) (*CIFARResults, error) {
	if progress == nil {
		progress = io.Discard
	}
	if stop == nil {
		stop = func() bool { return false }
	}
	if len(plan.SDRates) == 0 || len(plan.Ks) == 0 {
		return nil, fmt.Errorf("cifar plan (scale %s): needs at least one SD rate and one K (has %v and %v)", plan.Scale, plan.SDRates, plan.Ks)
	}
	res := &CIFARResults{Scale: string(plan.Scale), Dataset: splits.Name(), Provenance: splits.Provenance(),
		Model: fmt.Sprintf("ViT dim %d, %d layers, %d heads, patch %d, %s MLP; teachers trained %g epochs on %s, batch %d, %s",
			plan.Model.Dim, plan.Model.Depth, plan.Model.Heads, plan.Model.PatchSize, plan.Model.MLP,
			plan.Epochs, imagesNote(plan.TrainImages, splits.Train.Len()), plan.BatchSize, augmentNote(plan.NoAugment)),
		Recipe:     plan.RecipeNote() + fmt.Sprintf("; the test split has %d images", splits.Test.Len()),
		Method:     plan.phaseMethod(),
		BaselineSD: plan.BaselineSD()}
	raptorTrain := splits.Train.Subset(min(plan.RaptorTrainImages, splits.Train.Len()), 11)
	val := splits.Test.Subset(min(plan.EvalImages(), splits.Test.Len()), 12)
	probe := splits.Test.Subset(min(plan.ProbeImages, splits.Test.Len()), 13)

	type teacherRun struct {
		teacher *TrainedViT
		summary *TeacherSummary
		caches  *TeacherCaches
		dir     string
	}
	var runs []teacherRun
	for _, sd := range plan.SDRates {
		teacher, err := plan.Teacher(b, splits, sd, progress)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(teacher.Dir, analysisDir)
		summary, err := plan.cachedSummary(b, teacher, probe, val, sd, 1, splits.Test.Len(), progress)
		if err != nil {
			return nil, err
		}
		res.Teachers = append(res.Teachers, *summary)
		caches, err := ComputeTeacherCaches(b, teacher, raptorTrain, val, dir, raptor.Float32, progress)
		if err != nil {
			return nil, err
		}
		runs = append(runs, teacherRun{teacher, summary, caches, dir})
	}

	// More teachers per rate: trained, analysed and scored on the evaluation images; those of
	// the first rate also get the controls.
	var replicateControls []Control
	for seed := 2; seed <= plan.TeacherSeeds; seed++ {
		for _, sd := range plan.SDRates {
			teacher, err := plan.TeacherSeed(b, splits, sd, seed, progress)
			if err != nil {
				return nil, err
			}
			summary, err := plan.cachedSummary(b, teacher, probe, val, sd, seed, splits.Test.Len(), progress)
			if err != nil {
				return nil, err
			}
			res.TeacherReplicates = append(res.TeacherReplicates, *summary)
			if sd == plan.SDRates[0] {
				controls, err := plan.cachedControls(b, teacher, probe, val, sd, progress)
				if err != nil {
					return nil, err
				}
				replicateControls = append(replicateControls, *controls...)
			}
		}
	}

	// Raptor fits run in order of how much they tell, so that a time budget cuts the least
	// informative ones: the first seed at every K, then the first teacher's layer swaps (no
	// training), then the other seeds, the recipe ablation, the random phases, and the other
	// teachers' swaps.
	fitUsed := func(ks func(int) bool, seeds func(uint64) bool) error {
		for seed := uint64(1); seed <= uint64(max(1, plan.RaptorSeeds)); seed++ {
			if !seeds(seed) {
				continue
			}
			for _, k := range plan.Ks {
				if !ks(k) {
					continue
				}
				for _, r := range runs {
					if !slices.Contains(plan.raptorKs(r.summary.SD), k) {
						continue
					}
					for _, rep := range r.summary.Phases {
						if rep.K != k {
							continue
						}
						name := fmt.Sprintf("raptor-k%d-%s-seed%d", k, res.Method, seed)
						if stop() && !finished(filepath.Join(r.dir, name)) {
							res.Skipped = append(res.Skipped, fmt.Sprintf("p=%.2f K=%d %s seed %d", r.summary.SD, k, res.Method, seed))
							continue
						}
						fit, err := plan.fit(b, r.teacher, r.caches, rep.Used, int64(seed), filepath.Join(r.dir, name), progress)
						if err != nil {
							return err
						}
						res.Raptor = append(res.Raptor, RaptorRun{SD: r.summary.SD, K: k, Kind: KindMaxCut, Seed: seed, Partition: rep.Used.String(), Result: *fit})
					}
				}
			}
		}
		return nil
	}
	baselines := func() error {
		for _, r := range runs {
			if !slices.Contains(plan.baselineSDs(), r.summary.SD) {
				continue
			}
			for _, rep := range r.summary.Phases {
				if !slices.Contains(plan.BaselineKs, rep.K) {
					continue
				}
				contiguous, exhaustive, err := phases.ContiguousBaselines(plan.Model.Depth, rep.K, max(10, plan.BaselineDraws), 101)
				if err != nil {
					return err
				}
				if plan.BaselineMax > 0 && len(contiguous) > plan.BaselineMax {
					// A seeded random subset (the first ones would all start with the same phase).
					perm := phases.NewRand(202).Perm(len(contiguous))[:plan.BaselineMax]
					slices.Sort(perm)
					var sub []phases.Partition
					for _, i := range perm {
						sub = append(sub, contiguous[i])
					}
					contiguous, exhaustive = sub, false
				}
				set := BaselineSet{SD: r.summary.SD, K: rep.K, Exhaustive: exhaustive, Contiguous: len(contiguous), Shuffles: plan.BaselineShuffles, Steps: plan.baselineSteps()}
				res.BaselineSets = append(res.BaselineSets, set)
				type job struct {
					kind string
					seed uint64
					p    phases.Partition
					dir  string
				}
				var jobs []job
				suffix := "" // the short recipe's fits live apart from the main ones
				if plan.BaselineSteps > 0 {
					suffix = fmt.Sprintf("-steps%d", plan.BaselineSteps)
					// The compared phases, fit again with the same short recipe.
					for seed := uint64(1); seed <= uint64(max(1, plan.RaptorSeeds)); seed++ {
						jobs = append(jobs, job{KindMaxCut, seed, rep.Used, fmt.Sprintf("raptor-k%d-%s-seed%d%s", rep.K, res.Method, seed, suffix)})
					}
				}
				for _, p := range contiguous {
					th, _ := p.Thresholds()
					jobs = append(jobs, job{KindRandomContiguous, 0, p, fmt.Sprintf("raptor-k%d-contiguous-%s%s", rep.K, joinf(th, func(t int) string { return fmt.Sprint(t) }), suffix)})
				}
				for seed := uint64(1); seed <= uint64(plan.BaselineShuffles); seed++ {
					p, err := phases.RandomShuffled(rep.Used.Sizes(), seed)
					if err != nil {
						return err
					}
					jobs = append(jobs, job{KindRandomShuffle, seed, p, fmt.Sprintf("raptor-k%d-shuffle-seed%d%s", rep.K, seed, suffix)})
				}
				for _, j := range jobs {
					dir := filepath.Join(r.dir, j.dir)
					if stop() && !finished(dir) {
						res.Skipped = append(res.Skipped, fmt.Sprintf("p=%.2f K=%d %s %s", r.summary.SD, rep.K, j.kind, j.p))
						continue
					}
					fitSeed := int64(1)
					if j.kind == KindMaxCut {
						fitSeed = int64(j.seed)
					}
					fit, err := plan.fitSteps(b, r.teacher, r.caches, j.p, fitSeed, plan.baselineSteps(), dir, progress)
					if err != nil {
						return err
					}
					res.Baselines = append(res.Baselines, RaptorRun{SD: r.summary.SD, K: rep.K, Kind: j.kind, Seed: j.seed, Partition: j.p.String(), Result: *fit})
				}
			}
		}
		return nil
	}
	first := func(seed uint64) bool { return seed == 1 }
	every := func(int) bool { return true }
	if err := fitUsed(every, first); err != nil {
		return nil, err
	}
	// Every single swap of a teacher (no training, but one graph per swap): the first swap
	// teacher's now, the others' after the random phases, where a time budget cuts them first.
	swaps := func(which func(i int) bool) error {
		for i, sd := range plan.swapSDs() {
			if !which(i) {
				continue
			}
			for _, r := range runs {
				if r.summary.SD != sd {
					continue
				}
				path := filepath.Join(r.dir, "single-swaps.json")
				if _, err := os.Stat(path); err != nil && i > 0 && stop() {
					res.Skipped = append(res.Skipped, fmt.Sprintf("p=%.2f layer swaps", sd))
					continue
				}
				set, err := cached(path, func() (*SwapSet, error) {
					fmt.Fprintf(progress, "layer swaps: p=%.2f: all %d single swaps on %d images\n", sd, plan.Model.Depth*(plan.Model.Depth-1), val.Len())
					return SingleSwaps(b, r.teacher, r.summary.Phases, val, 256, progress)
				})
				if err != nil {
					return err
				}
				set.SD = sd
				res.Swaps = append(res.Swaps, *set)
			}
		}
		return nil
	}
	if err := swaps(func(i int) bool { return i == 0 }); err != nil {
		return nil, err
	}
	if err := fitUsed(every, func(seed uint64) bool { return seed > 1 }); err != nil {
		return nil, err
	}
	if plan.AblationK > 0 {
		r := runs[0]
		for _, rep := range r.summary.Phases {
			if rep.K != plan.AblationK {
				continue
			}
			mainDir := func(seed uint64) string {
				return filepath.Join(r.dir, fmt.Sprintf("raptor-k%d-%s-seed%d", rep.K, res.Method, seed))
			}
			fits, err := plan.ablation(b, r.teacher, r.caches, r.summary.SD, rep.Used, r.dir, mainDir, stop, &res.Skipped, progress)
			if err != nil {
				return nil, err
			}
			res.Ablation = fits
		}
	}
	if err := baselines(); err != nil {
		return nil, err
	}
	if err := swaps(func(i int) bool { return i > 0 }); err != nil {
		return nil, err
	}
	controls, err := plan.cachedControls(b, runs[0].teacher, probe, val, runs[0].summary.SD, progress)
	if err != nil {
		return nil, err
	}
	res.Controls = append(*controls, replicateControls...)
	sort.SliceStable(res.Raptor, func(i, j int) bool {
		a, c := res.Raptor[i], res.Raptor[j]
		if a.SD != c.SD {
			return a.SD < c.SD
		}
		if a.K != c.K {
			return a.K < c.K
		}
		return a.Seed < c.Seed
	})
	return res, nil
}

// cachedSummary is the teacher's TeacherSummary, from its analysis folder or computed there:
// similarity and phases on the probe images; a replicate teacher (seed > 1) also gets its
// predictions on the evaluation images (seed 1's come with its Raptor fits).
func (p CIFARPlan) cachedSummary(b backends.Backend, t *TrainedViT, probe, val *data.Dataset, sd float64, seed, testLen int, progress io.Writer) (*TeacherSummary, error) {
	return cached(filepath.Join(t.Dir, analysisDir, "phases.json"), func() (*TeacherSummary, error) {
		fmt.Fprintf(progress, "phases: p=%.2f seed %d: similarity of %d images, %d bootstrap replicates, drift null (%d replicates per K)\n",
			sd, seed, probe.Len(), p.PhaseBootstrap, p.NullReplicates)
		s, err := p.summarise(b, t, probe, sd, testLen)
		if err != nil || seed <= 1 {
			return s, err
		}
		s.Seed = seed
		if s.ValPredictions, s.ValLabels, err = PredictViT(b, t.Ctx, t.Model, val, 256); err != nil {
			return nil, err
		}
		return s, nil
	})
}

// cachedControls are the teacher's controls (random init, kept checkpoints, trained), from its
// analysis folder or computed there.
func (p CIFARPlan) cachedControls(b backends.Backend, t *TrainedViT, probe, val *data.Dataset, sd float64, progress io.Writer) (*[]Control, error) {
	return cached(filepath.Join(t.Dir, analysisDir, "controls.json"), func() (*[]Control, error) {
		return p.controls(b, t, probe, val, sd, progress)
	})
}

// summarise measures a model's similarity matrix on the probe images and analyses its phases.
func (p CIFARPlan) summarise(b backends.Backend, t *TrainedViT, probe *data.Dataset, sd float64, testLen int) (*TeacherSummary, error) {
	w, per, err := SimilarityImages(b, t, probe, probe.Len())
	if err != nil {
		return nil, err
	}
	reports, err := AnalysePhasesWith(w, per, p.Ks, p.phaseOptions())
	if err != nil {
		return nil, err
	}
	n := t.Result.Spec.TestImages
	if n == 0 || n > testLen {
		n = testLen
	}
	s := &TeacherSummary{SD: sd, Accuracy: t.Result.TestAccuracy, TestImages: n, Steps: t.Result.Steps,
		Dir: t.Dir, Similarity: w, Probe: probe.Len(), Phases: reports}
	if n > 0 {
		if iv, err := stats.Wilson(int(t.Result.TestAccuracy*float64(n)+0.5), n, stats.DefaultLevel); err == nil {
			s.AccuracyCI = iv
		}
	}
	return s, nil
}

// controls analyses the random-initialised model and the teacher's checkpoints along training.
func (p CIFARPlan) controls(b backends.Backend, t *TrainedViT, probe, val *data.Dataset, sd float64, progress io.Writer) (*[]Control, error) {
	out := []Control{}
	type snapshot struct {
		name string
		step int
		ctx  *context.Context
	}
	init := context.New()
	if err := init.SetRNGStateFromSeed(t.Result.Spec.Seed); err != nil {
		return nil, err
	}
	snaps := []snapshot{{"random init", 0, init.In(modelScope)}}
	paths, steps := train.KeptCheckpoints(filepath.Join(t.Dir, "checkpoints"), keepSteps(milestoneFractions, t.Result.Steps))
	for i, path := range paths {
		ctx := context.New()
		if _, err := train.LoadCheckpoint(ctx, path); err != nil {
			return nil, err
		}
		snaps = append(snaps, snapshot{fmt.Sprintf("step %d of %d", steps[i], t.Result.Steps), steps[i], ctx.In(modelScope)})
	}
	snaps = append(snaps, snapshot{fmt.Sprintf("trained (%d steps)", t.Result.Steps), t.Result.Steps, t.Ctx})
	opts := p.phaseOptions()
	opts.NullReplicates = min(opts.NullReplicates, 49)
	for _, s := range snaps {
		fmt.Fprintf(progress, "controls: p=%.2f %s: similarity, phases, accuracy on %d images\n", sd, s.name, val.Len())
		m := &TrainedViT{Model: t.Model, Ctx: s.ctx, Result: t.Result, Dir: t.Dir}
		w, per, err := SimilarityImages(b, m, probe, probe.Len())
		if err != nil {
			return nil, err
		}
		reports, err := AnalysePhasesWith(w, per, p.Ks, opts)
		if err != nil {
			return nil, err
		}
		preds, labels, err := PredictViT(b, s.ctx, t.Model, val, 256)
		if err != nil {
			return nil, err
		}
		acc, err := stats.Proportion(correctOf(preds, labels), stats.DefaultLevel)
		if err != nil {
			return nil, err
		}
		out = append(out, Control{Name: s.name, SD: sd, Seed: int(max(1, t.Result.Spec.Seed)), Final: s.step == t.Result.Steps && s.ctx == t.Ctx,
			Step: s.step, Accuracy: acc, Similarity: w, Phases: reports})
	}
	return &out, nil
}

// correctOf marks the images whose prediction equals the label.
func correctOf(preds, labels []int) []bool {
	out := make([]bool, len(preds))
	for i := range preds {
		out[i] = i < len(labels) && preds[i] == labels[i]
	}
	return out
}

// PredictViT returns a trained classifier's top-1 class and the label of every image of ds
// (normalised with the dataset's statistics, no augmentation).
func PredictViT(b backends.Backend, ctx *context.Context, m *vit.Model, ds *data.Dataset, batchSize int) (preds, labels []int, err error) {
	batches, err := datasetBatches(ds, batchSize)
	if err != nil {
		return nil, nil, err
	}
	tctx, err := teacherContext(&TrainedViT{Model: m, Ctx: ctx})
	if err != nil {
		return nil, nil, err
	}
	identity := make([]int, m.Config.Depth)
	for i := range identity {
		identity[i] = i
	}
	return raptor.OrderPredictions(b, tctx, m, identity, batches)
}

// finished tells whether a Raptor fit folder holds its result.
func finished(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "result.json"))
	return err == nil
}

// fit trains one Raptor with the plan's step counts.
func (p CIFARPlan) fit(b backends.Backend, t *TrainedViT, caches *TeacherCaches, part phases.Partition, seed int64, dir string, progress io.Writer) (*RaptorResult, error) {
	return p.fitSteps(b, t, caches, part, seed, p.RaptorSteps, dir, progress)
}

// fitSteps trains one Raptor with the plan's recipe and the given steps per stage.
func (p CIFARPlan) fitSteps(b backends.Backend, t *TrainedViT, caches *TeacherCaches, part phases.Partition, seed int64, steps int, dir string, progress io.Writer) (*RaptorResult, error) {
	return FitRaptor(b, t, caches, p.raptorSpec(part, seed, steps), dir, progress)
}

// raptorSpec is the plan's Raptor recipe (the paper's, scaled) for one partition and seed.
func (p CIFARPlan) raptorSpec(part phases.Partition, seed int64, steps int) RaptorSpec {
	spec := DefaultRaptorSpec(part, steps, steps)
	spec.Batch, spec.LR, spec.LayerScale, spec.Seed = p.RaptorBatch, p.RaptorLR, p.RaptorLayerScale, seed
	return spec
}

// raptorKs are the K fit on the first teacher of rate sd (RaptorSweepSDs, RaptorOtherKs).
func (p CIFARPlan) raptorKs(sd float64) []int {
	if p.RaptorSweepSDs == nil || slices.Contains(p.RaptorSweepSDs, sd) || p.RaptorOtherKs == nil {
		return p.Ks
	}
	return p.RaptorOtherKs
}

// baselineSDs are the rates compared with random phases.
func (p CIFARPlan) baselineSDs() []float64 {
	if len(p.BaselineSDs) > 0 {
		return p.BaselineSDs
	}
	return []float64{p.BaselineSD()}
}

// baselineSteps are the steps per stage of the random-phase comparison.
func (p CIFARPlan) baselineSteps() int {
	if p.BaselineSteps > 0 {
		return p.BaselineSteps
	}
	return p.RaptorSteps
}

// RecipeNote is everything about the plan a rerun needs, in one line.
func (p CIFARPlan) RecipeNote() string {
	return fmt.Sprintf("Raptor: %d stage-1 steps per block + %d stage-2 steps, batch %d, lr %g, LayerScale init %g, %d seed(s), phases by %s; "+
		"evaluation on %d test images; phases from %d probe images (%d bootstrap replicates, drift null %d replicates); "+
		"random contiguous baselines: all when ≤ 50, else %d draws (cap %d), %d shuffles; swaps on p=%s; %d teacher(s) per rate",
		p.RaptorSteps, p.RaptorSteps, p.RaptorBatch, p.RaptorLR, p.RaptorLayerScale, max(1, p.RaptorSeeds), p.phaseMethod(),
		p.EvalImages(), p.ProbeImages, p.PhaseBootstrap, p.NullReplicates, max(10, p.BaselineDraws), p.BaselineMax, p.BaselineShuffles,
		joinf(p.swapSDs(), func(f float64) string { return fmt.Sprintf("%.2f", f) }), max(1, p.TeacherSeeds))
}

func (p CIFARPlan) phaseMethod() string {
	if p.PhaseMethod == "" {
		return MethodBisection
	}
	return p.PhaseMethod
}

func (p CIFARPlan) phaseOptions() PhaseOptions {
	return PhaseOptions{Method: p.phaseMethod(), NullReplicates: p.NullReplicates, BootstrapReplicates: p.PhaseBootstrap, Seed: 1}
}

// swapSDs are the teachers whose single swaps are measured: the lowest and the highest rate.
func (p CIFARPlan) swapSDs() []float64 {
	if len(p.SDRates) == 0 {
		return nil
	}
	if p.SwapFirstOnly {
		return p.SDRates[:1]
	}
	if p.SwapAllSD || len(p.SDRates) == 1 {
		return p.SDRates
	}
	return []float64{p.SDRates[0], p.SDRates[len(p.SDRates)-1]}
}

var _ = strings.Join

// cached returns the JSON value at path, or computes it, writes it atomically and returns it.
func cached[T any](path string, compute func() (*T, error)) (*T, error) {
	if raw, err := os.ReadFile(path); err == nil {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%s: corrupt cached result (delete it to recompute): %w", path, err)
		}
		return &v, nil
	}
	v, err := compute()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return v, writeJSONAtomic(path, v)
}

// ResultsPath is where RunCIFARAndSave keeps the plan's results.
func (p CIFARPlan) ResultsPath(dataset string) (string, error) {
	root, err := p.CacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "results-"+slug(dataset)+".json"), nil
}

// RunCIFARAndSave runs RunCIFAR and saves its results (see ResultsPath), so later notebook cells
// and `blockrec cifar figures` can read them with ReadCIFARResults.
func RunCIFARAndSave(b backends.Backend, plan CIFARPlan, splits *data.Splits, progress io.Writer, stop func() bool) (*CIFARResults, string, error) {
	res, err := RunCIFAR(b, plan, splits, progress, stop)
	if err != nil {
		return nil, "", err
	}
	path, err := plan.ResultsPath(splits.Name())
	if err != nil {
		return nil, "", err
	}
	return res, path, writeJSONAtomic(path, res)
}

// ReadCIFARResults reads results saved by RunCIFARAndSave.
func ReadCIFARResults(path string) (*CIFARResults, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run the experiment first)", err)
	}
	var r CIFARResults
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// imagesNote says how many training images a plan uses out of the split's n.
func imagesNote(planned, n int) string {
	if planned <= 0 || planned >= n {
		return fmt.Sprintf("all %d training images", n)
	}
	return fmt.Sprintf("%d of %d training images", planned, n)
}

// augmentNote says whether the teachers saw augmented images.
func augmentNote(off bool) string {
	if off {
		return "no augmentation"
	}
	return "random crop (4 px padding) + horizontal flip"
}
