package recipes

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// ViTSpec is everything that defines a trained ViT classifier: a run folder holds one spec.
type ViTSpec struct {
	Model          vit.Config `json:"model"`
	Epochs         float64    `json:"epochs"`
	BatchSize      int        `json:"batch_size"`
	LR             float64    `json:"lr"`
	MinLR          float64    `json:"min_lr"`
	WarmupFrac     float64    `json:"warmup_frac"`
	WeightDecay    float64    `json:"weight_decay"`
	ClipNorm       float64    `json:"clip_norm"`
	LabelSmoothing float64    `json:"label_smoothing"`
	Augment        bool       `json:"augment"`
	Seed           int64      `json:"seed"`
	TrainImages    int        `json:"train_images"` // 0: the whole training split
	TestImages     int        `json:"test_images"`  // 0: the whole test split
	Dataset        string     `json:"dataset"`      // the dataset's name, recorded for provenance
	// KeepFractions are fractions of training at which a checkpoint is kept for good (snapshots
	// along training); not part of the recipe, so not in spec.json.
	KeepFractions []float64 `json:"-"`
}

// milestoneFractions are the points along training at which the CIFAR teachers keep a
// checkpoint, for the structure-versus-training-time controls.
var milestoneFractions = []float64{0.05, 0.15, 0.35, 0.6}

// keepSteps turns fractions of training into distinct positive steps.
func keepSteps(fracs []float64, steps int) []int {
	var out []int
	for _, f := range fracs {
		if s := int(f * float64(steps)); s > 0 && s < steps && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// DefaultViTSpec is a CPU-sized recipe around a model config: AdamW 1e-3, 5% warm-up, cosine to
// 1e-5, weight decay 0.05, clipping at 1, crop+flip augmentation.
func DefaultViTSpec(model vit.Config, epochs float64) ViTSpec {
	return ViTSpec{Model: model, Epochs: epochs, BatchSize: 64, LR: 1e-3, MinLR: 1e-5, WarmupFrac: 0.05,
		WeightDecay: 0.05, ClipNorm: 1, Augment: true, Seed: 1}
}

// fits reports whether splits hold the images spec asks for (CIFARPlan.SizedTo makes a plan's
// specs fit the data set found).
func (spec ViTSpec) fits(splits *data.Splits) error {
	if spec.TrainImages > splits.Train.Len() || spec.TrainImages < 0 {
		return fmt.Errorf("train-vit: %d training images requested, %s has %d", spec.TrainImages, splits.Name(), splits.Train.Len())
	}
	return nil
}

// ViTResult is what training produced; it is saved as result.json in the run folder.
type ViTResult struct {
	Spec         ViTSpec `json:"spec"`
	Steps        int     `json:"steps"`
	TestAccuracy float64 `json:"test_accuracy"`
	TrainSeconds float64 `json:"train_seconds"` // wall time of the invocations that trained (excluding resumed-over time)
	ImagesPerSec float64 `json:"train_images_per_sec"`
	Backend      string  `json:"backend"`
	Finished     string  `json:"finished"`
}

// TrainedViT is a trained model with its weights.
type TrainedViT struct {
	Model  *vit.Model
	Ctx    *context.Context // the model's scope
	Result ViTResult
	Dir    string
}

// modelScope is where every trained ViT keeps its variables.
const modelScope = "vit"

// TrainViT trains (or resumes, or just loads when finished) the classifier of spec on splits in
// dir. A dir that holds a different spec is an error, never overwritten.
func TrainViT(b backends.Backend, dir string, spec ViTSpec, splits *data.Splits, progress io.Writer) (*TrainedViT, error) {
	spec.Model.NumClasses = splits.NumClasses()
	spec.Dataset = splits.Name()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("train-vit: %w", err)
	}
	if err := spec.fits(splits); err != nil {
		return nil, err
	}
	images := spec.TrainImages
	if images == 0 {
		images = splits.Train.Len()
	}
	if images < spec.BatchSize {
		return nil, fmt.Errorf("train-vit: %d training images is less than one batch of %d", images, spec.BatchSize)
	}
	m, err := vit.New(spec.Model)
	if err != nil {
		return nil, err
	}
	if err := claimSpec(filepath.Join(dir, "spec.json"), spec); err != nil {
		return nil, err
	}
	if res, err := readResult(dir); err == nil {
		ctx := context.New()
		if _, err := train.LoadCheckpoint(ctx, train.LatestCheckpoint(filepath.Join(dir, "checkpoints"))); err != nil {
			return nil, err
		}
		return &TrainedViT{Model: m, Ctx: ctx.In(modelScope), Result: *res, Dir: dir}, nil
	}

	trainSet := splits.Train
	if spec.TrainImages > 0 {
		trainSet = trainSet.Subset(spec.TrainImages, uint64(spec.Seed))
	}
	testSet := splits.Test
	if spec.TestImages > 0 && spec.TestImages < testSet.Len() {
		testSet = testSet.Subset(spec.TestImages, uint64(spec.Seed)+1)
	}
	stepsPerEpoch := trainSet.Len() / spec.BatchSize
	if stepsPerEpoch == 0 {
		return nil, fmt.Errorf("train-vit: %d training images is less than one batch of %d", trainSet.Len(), spec.BatchSize)
	}
	steps := max(1, int(math.Round(spec.Epochs*float64(stepsPerEpoch))))
	cfg := train.Config{Name: "vit sd=" + fmt.Sprint(spec.Model.DropPath), Steps: steps, LR: spec.LR, MinLR: spec.MinLR,
		WarmupSteps: int(spec.WarmupFrac * float64(steps)), WeightDecay: spec.WeightDecay, ClipNorm: spec.ClipNorm,
		Seed: spec.Seed, Dir: filepath.Join(dir, "checkpoints"), CheckpointEvery: max(50, steps/20), LogEvery: max(1, min(50, steps/50)),
		Progress: progress, ImagesPerStep: spec.BatchSize, KeepSteps: keepSteps(spec.KeepFractions, steps)}

	// The batcher is positioned at the step training resumes from, so batches match an
	// uninterrupted run.
	// train.Run resumes from the same checkpoint: the newest that verifies.
	_, start, skipped, err := train.ResumeCheckpoint(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("train-vit: cannot resume: %w", err)
	}
	for _, note := range skipped {
		fmt.Fprintf(progressOrStderr(progress), "train-vit: %s; resuming from the newest checkpoint that verifies (step %d)\n", note, start)
	}
	batcher, err := data.NewBatcher(trainSet, data.BatcherOptions{BatchSize: spec.BatchSize, Seed: uint64(spec.Seed),
		Augment: spec.Augment, Epoch: start / stepsPerEpoch, Step: start % stepsPerEpoch})
	if err != nil {
		return nil, err
	}
	defer batcher.Close()
	next := start
	h, w, c := trainSet.H, trainSet.W, trainSet.C
	batches := func(step int) ([]*tensors.Tensor, error) {
		if step != next {
			return nil, fmt.Errorf("batches requested out of order: step %d, expected %d", step, next)
		}
		next++
		bt := batcher.Next()
		n := bt.Size()
		return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(bt.Images, n, h, w, c),
			tensors.FromFlatDataAndDimensions(bt.Labels, n)}, nil
	}
	ctx := context.New()
	began := time.Now()
	res, err := train.Run(b, ctx, cfg, scopedLoss(modelScope, train.ClassifierLoss(m, spec.LabelSmoothing)), batches)
	if err != nil {
		return nil, err
	}
	seconds := time.Since(began).Seconds()
	mctx := ctx.In(modelScope)
	acc, err := EvaluateViT(b, mctx, m, testSet, 256)
	if err != nil {
		return nil, err
	}
	result := ViTResult{Spec: spec, Steps: res.Steps, TestAccuracy: acc, TrainSeconds: seconds,
		ImagesPerSec: res.StepsPerSec * float64(spec.BatchSize), Finished: time.Now().UTC().Format(time.RFC3339)}
	if b != nil {
		result.Backend = b.Name()
	}
	if err := writeJSONAtomic(filepath.Join(dir, "result.json"), result); err != nil {
		return nil, err
	}
	return &TrainedViT{Model: m, Ctx: mctx, Result: result, Dir: dir}, nil
}

// progressOrStderr is where notes go when the caller passed no progress writer.
func progressOrStderr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}

// scopedLoss runs a loss function with the context moved into a scope.
func scopedLoss(scope string, fn train.LossFn) train.LossFn {
	return func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
		return fn(ctx.In(scope), inputs)
	}
}

// EvaluateViT returns the top-1 accuracy of a model on a dataset (normalised with its own stats).
func EvaluateViT(b backends.Backend, ctx *context.Context, m *vit.Model, ds *data.Dataset, batchSize int) (float64, error) {
	it, err := data.NewEvalIterator(ds, batchSize, ds.Stats, false)
	if err != nil {
		return 0, err
	}
	return train.Evaluate(b, ctx, m, func(yield func(train.EvalBatch) bool) {
		for {
			bt, ok := it.Next()
			if !ok || !yield(train.EvalBatch{Images: bt.Images, Labels: bt.Labels, H: ds.H, W: ds.W}) {
				return
			}
		}
	})
}

func readResult(dir string) (*ViTResult, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return nil, err
	}
	var r ViTResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "result.json"), err)
	}
	return &r, nil
}

// WriteJSON writes v as indented JSON atomically (temporary file, then rename).
func WriteJSON(path string, v any) error { return writeJSONAtomic(path, v) }

// writeJSONAtomic writes v as indented JSON through a temporary file and a rename.
func writeJSONAtomic(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
