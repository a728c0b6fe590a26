package recipes

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/gomlx/gomlx/backends"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
)

// CIFARResults is everything notebook 01 plots. Each part is computed once and cached on disk.
type CIFARResults struct {
	Scale      string           `json:"scale"`
	Dataset    string           `json:"dataset"`
	Provenance string           `json:"provenance"`
	Model      string           `json:"model"`
	Teachers   []TeacherSummary `json:"teachers"`
	Raptor     []RaptorRun      `json:"raptor"`    // max-cut phases, every SD and K
	Baselines  []RaptorRun      `json:"baselines"` // random phases on the baseline teacher
	BaselineSD float64          `json:"baseline_sd"`
	Swaps      []SwapRun        `json:"swaps"`
	Skipped    []string         `json:"skipped,omitempty"` // fits left out by the time budget
}

// TeacherSummary is one teacher of the SD sweep with its phase structure.
type TeacherSummary struct {
	SD         float64       `json:"sd"`
	Accuracy   float64       `json:"accuracy"`
	Steps      int           `json:"steps"`
	Dir        string        `json:"dir"`
	Similarity [][]float64   `json:"similarity"` // rows/columns = blocks 1..L
	Phases     []PhaseReport `json:"phases"`
}

// RaptorRun is one Raptor fit.
type RaptorRun struct {
	SD     float64      `json:"sd"`
	K      int          `json:"k"`
	Kind   string       `json:"kind"` // "max-cut", "random-contiguous", "random-shuffle"
	Seed   uint64       `json:"seed"`
	Result RaptorResult `json:"result"`
}

// SwapRun is the accuracy of a teacher with n layers swapped.
type SwapRun struct {
	SD       float64   `json:"sd"`
	Kind     string    `json:"kind"` // "intra" or "inter"
	N        int       `json:"n"`
	Accuracy []float64 `json:"accuracy"` // one per trial
	Teacher  float64   `json:"teacher"`  // unswapped accuracy on the same images
}

// swapMeans returns the mean accuracy over every trial of the intra-phase swaps and of the
// inter-phase swaps among swaps.
func swapMeans(swaps []SwapRun) (intra, inter float64) {
	var in, out []float64
	for _, s := range swaps {
		if s.Kind == "intra" {
			in = append(in, s.Accuracy...)
		} else {
			out = append(out, s.Accuracy...)
		}
	}
	intra, _ = meanStd(in)
	inter, _ = meanStd(out)
	return intra, inter
}

// Partition kinds of RaptorRun.
const (
	KindMaxCut           = "max-cut"
	KindRandomContiguous = "random-contiguous"
	KindRandomShuffle    = "random-shuffle"
)

// RunCIFAR runs (or reloads) the whole CIFAR experiment of a plan on splits: the teacher sweep
// with similarity matrices, phases and activation caches; Raptor with K blocks on max-cut phases
// for every teacher; layer swaps; max-cut versus random phases on the middle teacher. When stop reports true before a Raptor fit starts (a time budget), the
// remaining fits are skipped and listed in Skipped: the results are partial and say so.
func RunCIFAR(b backends.Backend, plan CIFARPlan, splits *data.Splits, progress io.Writer, stop func() bool) (*CIFARResults, error) {
	if progress == nil {
		progress = io.Discard
	}
	if stop == nil {
		stop = func() bool { return false }
	}
	res := &CIFARResults{Scale: string(plan.Scale), Dataset: splits.Name(), Provenance: splits.Provenance(),
		Model: fmt.Sprintf("ViT dim %d, %d layers, %d heads, patch %d, %s MLP; teachers trained %g epochs on %s, batch %d, %s",
			plan.Model.Dim, plan.Model.Depth, plan.Model.Heads, plan.Model.PatchSize, plan.Model.MLP,
			plan.Epochs, imagesNote(plan.TrainImages, splits.Train.Len()), plan.BatchSize, augmentNote(plan.NoAugment)),
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
		dir := filepath.Join(teacher.Dir, "analysis")
		summary, err := cached(filepath.Join(dir, "phases.json"), func() (*TeacherSummary, error) {
			w, err := Similarity(b, teacher, probe, probe.Len())
			if err != nil {
				return nil, err
			}
			reports, err := AnalysePhases(w, plan.Ks)
			if err != nil {
				return nil, err
			}
			return &TeacherSummary{SD: sd, Accuracy: teacher.Result.TestAccuracy, Steps: teacher.Result.Steps,
				Dir: teacher.Dir, Similarity: w, Phases: reports}, nil
		})
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

	// Raptor fits run in order of how much they tell, so that a time budget cuts the least
	// informative ones: max-cut fits at the K compared with random phases, then layer swaps (no
	// training), then the first seed of random phases, then the other K, then the other seeds.
	maxCut := func(ks func(int) bool) error {
		for _, k := range plan.Ks {
			if !ks(k) {
				continue
			}
			for _, r := range runs {
				for _, rep := range r.summary.Phases {
					if rep.K != k {
						continue
					}
					name := fmt.Sprintf("raptor-k%d-maxcut", k)
					if stop() && !finished(filepath.Join(r.dir, name)) {
						res.Skipped = append(res.Skipped, fmt.Sprintf("p=%.2f K=%d max-cut", r.summary.SD, k))
						continue
					}
					fit, err := plan.fit(b, r.teacher, r.caches, rep.Contiguous, filepath.Join(r.dir, name), progress)
					if err != nil {
						return err
					}
					res.Raptor = append(res.Raptor, RaptorRun{SD: r.summary.SD, K: k, Kind: KindMaxCut, Result: *fit})
				}
			}
		}
		return nil
	}
	baselines := func(seeds func(uint64) bool) error {
		for _, r := range runs {
			if r.summary.SD != res.BaselineSD {
				continue
			}
			for seed := uint64(1); seed <= uint64(plan.BaselineSeeds); seed++ {
				if !seeds(seed) {
					continue
				}
				for _, rep := range r.summary.Phases {
					if !slices.Contains(plan.BaselineKs, rep.K) {
						continue
					}
					contiguous, err := phases.RandomContiguous(plan.Model.Depth, rep.K, seed)
					if err != nil {
						return err
					}
					shuffled, err := phases.RandomShuffled(rep.Contiguous.Sizes(), seed)
					if err != nil {
						return err
					}
					for _, c := range []struct {
						kind string
						p    phases.Partition
					}{{KindRandomContiguous, contiguous}, {KindRandomShuffle, shuffled}} {
						dir := filepath.Join(r.dir, fmt.Sprintf("raptor-k%d-%s-seed%d", rep.K, c.kind, seed))
						if stop() && !finished(dir) {
							res.Skipped = append(res.Skipped, fmt.Sprintf("p=%.2f K=%d %s seed %d", r.summary.SD, rep.K, c.kind, seed))
							continue
						}
						fit, err := plan.fit(b, r.teacher, r.caches, c.p, dir, progress)
						if err != nil {
							return err
						}
						res.Baselines = append(res.Baselines, RaptorRun{SD: r.summary.SD, K: rep.K, Kind: c.kind, Seed: seed, Result: *fit})
					}
				}
			}
		}
		return nil
	}
	compared := func(k int) bool { return slices.Contains(plan.BaselineKs, k) }
	if err := maxCut(compared); err != nil {
		return nil, err
	}
	for _, r := range runs {
		swaps, err := cached(filepath.Join(r.dir, "swaps.json"), func() (*[]SwapRun, error) {
			return plan.layerSwaps(b, r.teacher, r.summary, val, r.summary.SD)
		})
		if err != nil {
			return nil, err
		}
		res.Swaps = append(res.Swaps, *swaps...)
	}
	if err := baselines(func(seed uint64) bool { return seed == 1 }); err != nil {
		return nil, err
	}
	if err := maxCut(func(k int) bool { return !compared(k) }); err != nil {
		return nil, err
	}
	if err := baselines(func(seed uint64) bool { return seed > 1 }); err != nil {
		return nil, err
	}
	sort.SliceStable(res.Raptor, func(i, j int) bool {
		if res.Raptor[i].SD != res.Raptor[j].SD {
			return res.Raptor[i].SD < res.Raptor[j].SD
		}
		return res.Raptor[i].K < res.Raptor[j].K
	})
	return res, nil
}

// finished tells whether a Raptor fit folder holds its result.
func finished(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "result.json"))
	return err == nil
}

// fit trains one Raptor with the plan's step counts.
func (p CIFARPlan) fit(b backends.Backend, t *TrainedViT, caches *TeacherCaches, part phases.Partition, dir string, progress io.Writer) (*RaptorResult, error) {
	spec := DefaultRaptorSpec(part, p.RaptorSteps, p.RaptorSteps)
	spec.Batch, spec.LR, spec.LayerScale = p.RaptorBatch, p.RaptorLR, p.RaptorLayerScale
	return FitRaptor(b, t, caches, spec, dir, progress)
}

// layerSwaps measures the plan's layer swaps on one teacher (see LayerSwaps).
func (p CIFARPlan) layerSwaps(b backends.Backend, t *TrainedViT, s *TeacherSummary, val *data.Dataset, sd float64) (*[]SwapRun, error) {
	runs, err := LayerSwaps(b, t, s.Phases, val, p.SwapTrials(), 256)
	if err != nil {
		return nil, err
	}
	for i := range *runs {
		(*runs)[i].SD = sd
	}
	return runs, nil
}

// LayerSwaps measures, without training, the teacher's accuracy on val when 1..3 of its layers
// run the weights of another layer of the same max-cut phase (intra) or of another phase
// (inter), on the K=3 phases of reports (or the largest K below 3), `trials` random draws each.
func LayerSwaps(b backends.Backend, t *TrainedViT, reports []PhaseReport, val *data.Dataset, trials, batch int) (*[]SwapRun, error) {
	var part phases.Partition
	for _, rep := range reports {
		if rep.K >= 2 && rep.K <= 3 {
			part = rep.Contiguous
		}
	}
	out := []SwapRun{}
	if part == nil {
		return &out, nil
	}
	tctx, err := teacherContext(t)
	if err != nil {
		return nil, err
	}
	// Each evaluation needs its own pass over the images.
	accuracy := func(order []int) (float64, error) {
		batches, err := datasetBatches(val, batch)
		if err != nil {
			return 0, err
		}
		return raptor.OrderAccuracy(b, tctx, t.Model, order, batches)
	}
	identity := make([]int, t.Model.Config.Depth)
	for i := range identity {
		identity[i] = i
	}
	base, err := accuracy(identity)
	if err != nil {
		return nil, err
	}
	for _, kind := range []raptor.SwapKind{raptor.Intra, raptor.Inter} {
		for n := 1; n <= 3; n++ {
			orders, err := raptor.SwapOrders(part, kind, n, trials, uint64(n))
			if err != nil {
				continue // not enough eligible layers for n swaps of this kind
			}
			run := SwapRun{Kind: string(kind), N: n, Teacher: base}
			for _, order := range orders {
				acc, err := accuracy(order)
				if err != nil {
					return nil, err
				}
				run.Accuracy = append(run.Accuracy, acc)
			}
			out = append(out, run)
		}
	}
	return &out, nil
}

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
