package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/stats"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// LoadTrainedViT reads a finished train-vit run folder (result.json and its last checkpoint).
func LoadTrainedViT(dir string) (*TrainedViT, error) {
	res, err := readResult(dir)
	if err != nil {
		return nil, fmt.Errorf("teacher %s: %w (train it first)", dir, err)
	}
	m, err := vit.New(res.Spec.Model)
	if err != nil {
		return nil, fmt.Errorf("teacher %s: %w", dir, err)
	}
	ckpt := train.LatestCheckpoint(filepath.Join(dir, "checkpoints"))
	if ckpt == "" {
		return nil, fmt.Errorf("teacher %s: no checkpoint in checkpoints/", dir)
	}
	ctx := context.New()
	if _, err := train.LoadCheckpoint(ctx, ckpt); err != nil {
		return nil, err
	}
	return &TrainedViT{Model: m, Ctx: ctx.In(modelScope), Result: *res, Dir: dir}, nil
}

// TeacherCaches holds a teacher's hidden states on the Raptor training images and on the
// evaluation images, computed once.
type TeacherCaches struct {
	Train, Val *raptor.Cache
}

// ComputeTeacherCaches writes (or reopens) the teacher-activation caches under dir.
func ComputeTeacherCaches(b backends.Backend, t *TrainedViT, trainSet, valSet *data.Dataset, dir string, dtype raptor.CacheDType, progress io.Writer) (*TeacherCaches, error) {
	tctx, err := teacherContext(t)
	if err != nil {
		return nil, err
	}
	out := &TeacherCaches{}
	for _, c := range []struct {
		name string
		ds   *data.Dataset
		dst  **raptor.Cache
	}{{"train", trainSet, &out.Train}, {"val", valSet, &out.Val}} {
		cdir := filepath.Join(dir, "cache-"+c.name)
		cache, err := raptor.OpenCache(cdir)
		if err != nil {
			began := time.Now()
			batches, berr := datasetBatches(c.ds, 128)
			if berr != nil {
				return nil, berr
			}
			cache, err = raptor.ComputeCache(b, tctx, t.Model, batches, cdir,
				fmt.Sprintf("%s %s (%d images)", t.Dir, c.name, c.ds.Len()), raptor.CacheOptions{DType: dtype})
			if err != nil {
				return nil, err
			}
			if progress != nil {
				fmt.Fprintf(progress, "raptor: cached teacher states of %d %s images in %s\n", cache.Len(), c.name, time.Since(began).Round(time.Second))
			}
		}
		*c.dst = cache
	}
	return out, nil
}

// teacherContext copies the teacher's weights into a fresh context under raptor.TeacherScope.
func teacherContext(t *TrainedViT) (*context.Context, error) {
	w, err := t.Model.Config.Weights(t.Ctx)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	return ctx, raptor.SetTeacher(ctx, t.Model.Config, w)
}

// datasetBatches yields a dataset's images normalised with its statistics, in order.
func datasetBatches(ds *data.Dataset, batch int) (func(yield func(train.EvalBatch) bool), error) {
	it, err := data.NewEvalIterator(ds, batch, ds.Stats, false)
	if err != nil {
		return nil, err
	}
	return func(yield func(train.EvalBatch) bool) {
		for {
			bt, ok := it.Next()
			if !ok || !yield(train.EvalBatch{Images: bt.Images, Labels: bt.Labels, H: ds.H, W: ds.W}) {
				return
			}
		}
	}, nil
}

// RaptorSpec is one Raptor fit of a teacher.
type RaptorSpec struct {
	Partition    phases.Partition // phases of the teacher's blocks (0-based layers)
	Stage1Steps  int              // per block; 0 skips stage 1
	Stage2Steps  int              // 0 skips stage 2
	Batch        int
	LR           float64
	Mode         raptor.Mode // stage-1 objective
	Anneal       float64     // fraction of stage-1 steps over which λ decays (0: 0.25)
	DepthScaling bool
	PlainMSE     bool // plain MSE instead of the token-group weighting
	MLP          vit.MLPKind
	LayerScale   float64
	Seed         int64
}

// DefaultRaptorSpec is the paper's recipe scaled to the given step counts.
func DefaultRaptorSpec(p phases.Partition, stage1, stage2 int) RaptorSpec {
	return RaptorSpec{Partition: p, Stage1Steps: stage1, Stage2Steps: stage2, Batch: 64, LR: 3e-4,
		Mode: raptor.Annealed, DepthScaling: true, MLP: vit.MLPSwiGLU, LayerScale: 1e-5, Seed: 1}
}

// RaptorModel builds the Raptor of a spec for a teacher config.
func RaptorModel(tcfg vit.Config, spec RaptorSpec) (*raptor.Model, error) {
	assign, err := raptor.AssignFromPartition(spec.Partition)
	if err != nil {
		return nil, err
	}
	if len(assign) != tcfg.Depth {
		return nil, fmt.Errorf("raptor: partition %s covers %d layers, the teacher has %d", spec.Partition, len(assign), tcfg.Depth)
	}
	rcfg := raptor.ForTeacher(tcfg, assign)
	rcfg.DepthScaling, rcfg.LayerScaleInit, rcfg.MLP = spec.DepthScaling, spec.LayerScale, spec.MLP
	return raptor.New(rcfg)
}

// RaptorResult is what a fit measured on the evaluation cache; saved as result.json.
type RaptorResult struct {
	Partition       string  `json:"partition"`
	K               int     `json:"k"`
	Accuracy        float64 `json:"accuracy"`         // teacher's head on Raptor's output (-1 without a head)
	TeacherAccuracy float64 `json:"teacher_accuracy"` // on the same images
	// R2 is overcomplete's r2_score with the teacher as reference (grand-mean SST), as the paper
	// reports it; [layer 1..L][CLS, registers, patches, all]; -1 for an empty group.
	R2 [][]float64 `json:"r2"`
	// R2Trainer is the released trainer's argument order (Raptor's output as the reference);
	// R2PerFeature the per-feature-mean definition. Same layout as R2.
	R2Trainer    [][]float64 `json:"r2_trainer"`
	R2PerFeature [][]float64 `json:"r2_per_feature"`
	// R2Lo and R2Hi are R2's 95% percentile-bootstrap interval over images (the evaluation images
	// split into R2Parts parts, resampled with replacement); MeanR2 its mean over layers 1..L per
	// group, with MeanR2Lo and MeanR2Hi from the same replicates. −1 where undefined.
	R2Lo     [][]float64 `json:"r2_lo,omitempty"`
	R2Hi     [][]float64 `json:"r2_hi,omitempty"`
	MeanR2   []float64   `json:"mean_r2,omitempty"`
	MeanR2Lo []float64   `json:"mean_r2_lo,omitempty"`
	MeanR2Hi []float64   `json:"mean_r2_hi,omitempty"`
	// MeanR2Reps are MeanR2's bootstrap replicates per group; replicate j of every fit on the
	// same evaluation cache pooled the same parts, so fits can be compared replicate by replicate.
	MeanR2Reps [][]float64 `json:"mean_r2_reps,omitempty"`
	R2Parts    int         `json:"r2_parts,omitempty"`
	Cosine     [][]float64 `json:"cosine"`
	// CopyR2 is the R² of the trivial predictor that copies the embedding a_0 to every layer:
	// Raptor has learned something only where R2 clearly exceeds it.
	CopyR2    [][]float64 `json:"copy_r2"`
	ValImages int         `json:"val_images"`
	// Labels, Predictions (Raptor's top-1 class through the teacher's head) and
	// TeacherPredictions, one per evaluation image in cache order: for paired tests between
	// fits scored on the same images, and for the agreement with the teacher.
	Labels             []int   `json:"labels,omitempty"`
	Predictions        []int   `json:"predictions,omitempty"`
	TeacherPredictions []int   `json:"teacher_predictions,omitempty"`
	Agreement          float64 `json:"agreement"` // share of images where Raptor's class is the teacher's (-1 without a head)
	Spec               string  `json:"spec"`      // steps, batch, lr, LayerScale, seed of the fit
	Seconds            float64 `json:"seconds"`
	Finished           string  `json:"finished"`
}

// Token-group columns of RaptorResult.R2 and Cosine.
const (
	ColCLS = iota
	ColRegisters
	ColPatches
	ColAll
)

// FitRaptor trains Raptor on a teacher's caches (stage 1 per block, then stage 2), evaluates it,
// and writes result.json in dir. A finished dir returns its result; an interrupted one resumes.
func FitRaptor(b backends.Backend, t *TrainedViT, caches *TeacherCaches, spec RaptorSpec, dir string, progress io.Writer) (*RaptorResult, error) {
	if raw, err := os.ReadFile(filepath.Join(dir, "result.json")); err == nil {
		var r RaptorResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "result.json"), err)
		}
		return &r, nil
	}
	tcfg := t.Model.Config
	m, err := RaptorModel(tcfg, spec)
	if err != nil {
		return nil, err
	}
	rcfg := m.Config
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	began := time.Now()
	weights := func(w raptor.Weights) raptor.Weights {
		if spec.PlainMSE {
			return raptor.PlainMSE
		}
		return w
	}
	tc := func(steps int, name, sub string) train.Config {
		c := raptor.PaperTrain(steps)
		c.LR, c.Name, c.Seed, c.Dir = spec.LR, name, spec.Seed, filepath.Join(dir, sub)
		c.CheckpointEvery, c.LogEvery, c.Progress = max(50, steps/5), max(1, min(50, steps/20)), progress
		if progress == nil {
			c.Progress = io.Discard
		}
		return c
	}
	var stage1 []*context.Context
	if spec.Stage1Steps > 0 {
		for j := range rcfg.K() {
			w := raptor.Stage1WeightsFor(rcfg, j) // CLS-weighted for the block holding the last layer
			ctx, _, err := raptor.TrainStage1(b, m, j, caches.Train, raptor.StageOptions{
				Train: tc(spec.Stage1Steps, fmt.Sprintf("raptor k=%d stage1 block %d", rcfg.K(), j), fmt.Sprintf("stage1-block%d", j)),
				Batch: spec.Batch, Mode: spec.Mode, Anneal: spec.Anneal, Weights: weights(w)})
			if err != nil {
				return nil, err
			}
			stage1 = append(stage1, ctx)
		}
	}
	var final *context.Context
	if spec.Stage2Steps > 0 {
		final, _, err = raptor.TrainStage2(b, m, stage1, caches.Train, raptor.StageOptions{
			Train: tc(spec.Stage2Steps, fmt.Sprintf("raptor k=%d stage2", rcfg.K()), "stage2"),
			Batch: spec.Batch, Mode: raptor.AutoregressiveOnly, Weights: weights(raptor.Stage2Weights)})
		if err != nil {
			return nil, err
		}
	} else {
		if len(stage1) == 0 {
			return nil, errors.New("raptor: no stage to run (both step counts are 0)")
		}
		final = context.New()
		for j, c := range stage1 {
			if err := raptor.CopyBlock(final, c, j); err != nil {
				return nil, err
			}
		}
	}
	tw, err := tcfg.Weights(t.Ctx)
	if err != nil {
		return nil, err
	}
	if err := raptor.SetTeacher(final, tcfg, tw); err != nil {
		return nil, err
	}
	ev, err := raptor.Evaluate(b, final, t.Model, m, caches.Val, raptor.EvalOptions{Batch: 128, Parts: r2Parts})
	if err != nil {
		return nil, err
	}
	// A teacher without a classification head has no accuracy: stored as -1, like empty groups.
	res := &RaptorResult{Partition: spec.Partition.String(), K: rcfg.K(), Accuracy: finiteOr(ev.Accuracy, -1), TeacherAccuracy: finiteOr(ev.TeacherAccuracy, -1),
		ValImages: ev.Images, Seconds: time.Since(began).Seconds(), Finished: time.Now().UTC().Format(time.RFC3339),
		Labels: ev.Labels, Predictions: ev.Predictions, TeacherPredictions: ev.TeacherPredictions, Agreement: finiteOr(ev.Agreement(), -1),
		Spec: fmt.Sprintf("stage 1 %d steps/block, stage 2 %d steps, batch %d, lr %g, LayerScale init %g, seed %d, mode %v, depth scaling %v",
			spec.Stage1Steps, spec.Stage2Steps, spec.Batch, spec.LR, spec.LayerScale, spec.Seed, spec.Mode, spec.DepthScaling)}
	for l := range tcfg.Depth {
		var r2, r2t, r2f, cos []float64
		for g := range 4 {
			r2 = append(r2, finiteOr(ev.Comparison.R2(l, g), -1))
			r2t = append(r2t, finiteOr(ev.Comparison.R2Trainer(l, g), -1))
			r2f = append(r2f, finiteOr(ev.Comparison.R2PerFeature(l, g), -1))
			cos = append(cos, finiteOr(ev.Comparison.Cosine(l, g), -1))
		}
		res.R2, res.Cosine = append(res.R2, r2), append(res.Cosine, cos)
		res.R2Trainer, res.R2PerFeature = append(res.R2Trainer, r2t), append(res.R2PerFeature, r2f)
	}
	if err := res.r2Intervals(ev.Parts); err != nil {
		return nil, err
	}
	if res.CopyR2, err = CopyBaselineR2(caches.Val); err != nil {
		return nil, err
	}
	if err := writeJSONAtomic(filepath.Join(dir, "result.json"), res); err != nil {
		return nil, err
	}
	return res, nil
}

// finiteOr maps NaN (an empty token group) to a marker, so results stay valid JSON.
func finiteOr(v, marker float64) float64 {
	if v != v {
		return marker
	}
	return v
}

// CopyBaselineR2 is the layer-wise R² (columns as RaptorResult.R2) of predicting every layer
// 1..L by the embedding output a_0, over a teacher-state cache.
func CopyBaselineR2(c *raptor.Cache) ([][]float64, error) {
	meta := c.Meta()
	depth := meta.Layers - 1
	cmp := raptor.NewComparison(depth, meta.Dim, meta.Layout)
	err := c.Each(func(b *hidden.Batch, _ []int, _ int) error {
		for i := range b.Images {
			img := b.Image(i)
			n := img.Tokens * img.Dim
			pred := hidden.NewStates(depth, img.Tokens, img.Dim)
			target := &hidden.States{Layers: depth, Tokens: img.Tokens, Dim: img.Dim, Data: img.Data[n:]}
			for l := range depth {
				copy(pred.Data[l*n:(l+1)*n], img.Data[:n])
			}
			if err := cmp.Add(pred, target); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float64, depth)
	for l := range depth {
		for g := range 4 {
			out[l] = append(out[l], finiteOr(cmp.R2(l, g), -1))
		}
	}
	return out, nil
}

// r2Parts is how many parts the evaluation images are split into for R²'s bootstrap, and
// r2Reps its replicates.
const (
	r2Parts = 20
	r2Reps  = 1000
)

// r2Intervals fills R2Lo, R2Hi, MeanR2, MeanR2Lo and MeanR2Hi by a bootstrap over the parts.
func (res *RaptorResult) r2Intervals(parts []*raptor.Comparison) error {
	if len(parts) < 2 || len(res.R2) == 0 {
		return nil
	}
	layers, groups := len(res.R2), len(res.R2[0])
	meanOver := func(c *raptor.Comparison, g int) float64 {
		var xs []float64
		for l := range layers {
			if v := c.R2(l, g); v == v {
				xs = append(xs, v)
			}
		}
		if len(xs) == 0 {
			return -1
		}
		m, _ := stats.MeanSD(xs)
		return m
	}
	full, err := raptor.PoolComparisons(parts, nil)
	if err != nil {
		return err
	}
	reps := make([][][]float64, layers) // [l][g][replicate]
	for l := range reps {
		reps[l] = make([][]float64, groups)
	}
	means := make([][]float64, groups)
	rng := phases.NewRand(77)
	idx := make([]int, len(parts))
	for range r2Reps {
		for i := range idx {
			idx[i] = rng.IntN(len(parts))
		}
		c, err := raptor.PoolComparisons(parts, idx)
		if err != nil {
			return err
		}
		for l := range layers {
			for g := range groups {
				if v := c.R2(l, g); v == v {
					reps[l][g] = append(reps[l][g], v)
				}
			}
		}
		for g := range groups {
			means[g] = append(means[g], meanOver(c, g)) // −1 where undefined: kept, so replicate j stays j
		}
	}
	interval := func(xs []float64) (float64, float64) {
		iv, err := stats.PercentileInterval(xs, stats.DefaultLevel)
		if err != nil {
			return -1, -1
		}
		return iv.Lo, iv.Hi
	}
	res.R2Parts = len(parts)
	for l := range layers {
		lo, hi := make([]float64, groups), make([]float64, groups)
		for g := range groups {
			lo[g], hi[g] = interval(reps[l][g])
		}
		res.R2Lo, res.R2Hi = append(res.R2Lo, lo), append(res.R2Hi, hi)
	}
	res.MeanR2Reps = means
	for g := range groups {
		lo, hi := interval(defined(means[g]))
		res.MeanR2, res.MeanR2Lo, res.MeanR2Hi = append(res.MeanR2, meanOver(full, g)), append(res.MeanR2Lo, lo), append(res.MeanR2Hi, hi)
	}
	return nil
}
