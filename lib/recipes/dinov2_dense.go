package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // ADE20k and NYUv2 images
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/probes"
	"github.com/blockrec/blockrec/lib/raptor"
)

// Dense-probe task names, as DenseProbeRow.Task and ProbeTable spell them.
const (
	ADE20kTask = "ADE20k mIoU"
	NYUv2Task  = "NYUv2 RMSE"
)

// ADE20kClasses is the number of SceneParse150 classes (labels 1..150, 0 ignored).
const ADE20kClasses = 150

// DenseOptions size the dense probes. Every model (the teacher and each Raptor) gets its own
// per-patch linear probe, trained on its own final-LayerNormed patch tokens of the train split
// (the paper trains one probe per backbone).
type DenseOptions struct {
	// Images caps each split (train and val): that many images, evenly spaced over the split's
	// sorted list (≤ 0: all).
	Images    int
	Epochs    int              // probe epochs
	LR        float64          // probe peak learning rate (AdamW, warm-up + cosine)
	BatchSize int              // patch rows per probe step
	Bins      probes.DepthBins // depth bins of the NYUv2 probe
	DepthLoss probes.DepthLoss // loss of the NYUv2 probe (zero value: the paper's, probes.PaperDepthLoss)
	Batch     int              // images per forward pass
}

// DenseOptionsFor returns the dense-probe sizes of a scale: 64 images per split at smoke, 256 on
// a CPU, 1024 at paper scale (the full ADE20k / NYUv2 splits do not fit the plain-Go probe).
func DenseOptionsFor(level notebook.Level) DenseOptions {
	o := DenseOptions{Images: 256, Epochs: 10, LR: 1e-3, BatchSize: 256, Bins: probes.PaperBins, DepthLoss: probes.PaperDepthLoss, Batch: 16}
	switch level {
	case notebook.Smoke:
		o.Images = 64
	case notebook.Paper:
		o.Images = 1024
	}
	return o
}

// denseModel is one backbone whose patch tokens the dense probes read.
type denseModel struct {
	name string // "teacher" or "Raptor K=k"
	// rollout maps the teacher's embedding outputs a_0 [n, tokens, dim] to the last state; nil for
	// the teacher itself.
	rollout *context.Exec
}

// denseRun is everything the dense probes need from the DINOv2 experiment.
type denseRun struct {
	b         backends.Backend
	teacher   *TrainedViT // headless teacher, weights under its Ctx
	norm      *finalNorm  // the teacher's final LayerNorm
	imageSize int         // side of the model's input
	stats     data.Stats
	models    []denseModel
	opts      DenseOptions
	progress  io.Writer
}

// dinov2RaptorSpec is the spec RunDINOv2 fits for a phase report (the same fields, so that
// loadRaptor finds and rebuilds the fitted model).
func dinov2RaptorSpec(plan DINOv2Plan, rep PhaseReport) RaptorSpec {
	spec := DefaultRaptorSpec(usedPartition(rep), plan.Stage1Steps, plan.Stage2Steps)
	spec.Batch = plan.Batch
	if plan.RaptorLR > 0 {
		spec.LR = plan.RaptorLR
	}
	if plan.RaptorLayerScale > 0 {
		spec.LayerScale = plan.RaptorLayerScale
	}
	return spec
}

// newDenseRun loads the Raptor of every K fitted in runDir (raptor-k<K>/) and compiles its rollout.
func newDenseRun(b backends.Backend, teacher *TrainedViT, norm *finalNorm, imageSize int, stats data.Stats,
	plan DINOv2Plan, reps []PhaseReport, runDir string, opts DenseOptions, progress io.Writer) (*denseRun, error) {
	if progress == nil {
		progress = io.Discard
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.Bins.N <= 0 {
		opts.Bins = probes.PaperBins
	}
	if opts.DepthLoss == (probes.DepthLoss{}) {
		opts.DepthLoss = probes.PaperDepthLoss
	}
	d := &denseRun{b: b, teacher: teacher, norm: norm, imageSize: imageSize, stats: stats, opts: opts, progress: progress,
		models: []denseModel{{name: "teacher"}}}
	for _, rep := range reps {
		if rep.K < 1 {
			continue
		}
		dir := dinov2RaptorDir(runDir, rep)
		m, ctx, err := loadRaptor(teacher, dinov2RaptorSpec(plan, rep), dir)
		if err != nil {
			return nil, fmt.Errorf("dense probes: %w", err)
		}
		exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), false)
			states := m.Forward(ctx.In(raptor.RaptorScope), x)
			return states[len(states)-1]
		})
		if err != nil {
			return nil, fmt.Errorf("dense probes: Raptor K=%d rollout: %w", rep.K, err)
		}
		d.models = append(d.models, denseModel{name: fmt.Sprintf("Raptor K=%d", rep.K), rollout: exec})
	}
	return d, nil
}

// grid is the side of the patch grid.
func (d *denseRun) grid() int { return d.imageSize / d.teacher.Model.Config.PatchSize }

// loadImages decodes image files, resizes each (bicubic, aspect not kept) to the model's input
// side and normalises it: n×S×S×3.
func (d *denseRun) loadImages(paths []string) ([]float32, error) {
	s := d.imageSize
	per := s * s * 3
	out := make([]float32, len(paths)*per)
	err := parallelEach(len(paths), func(i int) error {
		f, err := os.Open(paths[i])
		if err != nil {
			return fmt.Errorf("dense probes: %w", err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("dense probes: decoding %s: %w", paths[i], err)
		}
		pix, h, w := data.ToRGB(img)
		data.Normalize(out[i*per:(i+1)*per], data.Resize(pix, h, w, 3, s, s, data.Bicubic), d.stats)
		return nil
	})
	return out, err
}

// parallelEach runs f(0..n−1) on GOMAXPROCS goroutines and joins the errors.
func parallelEach(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// patchFeatures runs the teacher on n preprocessed images and returns, for every model (same
// order as d.models), the final-LayerNormed patch tokens: n×patches×dim. The teacher's are its
// graph's Normed output; each Raptor is rolled out from the teacher's a_0 and normed in Go with
// the teacher's final LayerNorm.
func (d *denseRun) patchFeatures(images []float32, n int) ([][]float32, error) {
	m := d.teacher.Model
	s := d.imageSize
	layout := m.Layout(s, s)
	t, dim := layout.NumTokens(), m.Config.Dim
	from, to := layout.Patches()
	np := to - from
	exec, err := context.NewExec(d.b, d.teacher.Ctx, func(ctx *context.Context, x *Node) []*Node {
		ctx.SetTraining(x.Graph(), false)
		out := m.Forward(ctx, x)
		return []*Node{out.Hidden[0], out.Normed}
	})
	if err != nil {
		return nil, fmt.Errorf("dense probes: teacher forward: %w", err)
	}
	feats := make([][]float32, len(d.models))
	for k := range feats {
		feats[k] = make([]float32, n*np*dim)
	}
	keepPatches := func(dst, tokens []float32, bs int) {
		for i := range bs {
			copy(dst[i*np*dim:(i+1)*np*dim], tokens[(i*t+from)*dim:(i*t+to)*dim])
		}
	}
	per := s * s * 3
	for start := 0; start < n; start += d.opts.Batch {
		bs := min(d.opts.Batch, n-start)
		outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(images[start*per:(start+bs)*per], bs, s, s, 3))
		if err != nil {
			return nil, fmt.Errorf("dense probes: teacher forward, images %d..%d: %w", start, start+bs-1, err)
		}
		a0 := tensors.MustCopyFlatData[float32](outs[0])
		keepPatches(feats[0][start*np*dim:], tensors.MustCopyFlatData[float32](outs[1]), bs)
		for _, o := range outs {
			o.FinalizeAll()
		}
		for k, model := range d.models {
			if model.rollout == nil {
				continue
			}
			res, err := model.rollout.Exec(tensors.FromFlatDataAndDimensions(a0, bs, t, dim))
			if err != nil {
				return nil, fmt.Errorf("dense probes: %s rollout, images %d..%d: %w", model.name, start, start+bs-1, err)
			}
			last := tensors.MustCopyFlatData[float32](res[0])
			res[0].FinalizeAll()
			keepPatches(feats[k][start*np*dim:], d.norm.normTokens(last), bs)
		}
	}
	return feats, nil
}

// normTokens applies the final LayerNorm to every dim-sized row of states.
func (f *finalNorm) normTokens(states []float32) []float32 {
	d := len(f.gain)
	out := make([]float32, len(states))
	for tok := range len(states) / d {
		x := states[tok*d : (tok+1)*d]
		mean := 0.0
		for _, v := range x {
			mean += float64(v)
		}
		mean /= float64(d)
		variance := 0.0
		for _, v := range x {
			variance += (float64(v) - mean) * (float64(v) - mean)
		}
		inv := 1 / math.Sqrt(variance/float64(d)+f.eps)
		for k, v := range x {
			out[tok*d+k] = float32((float64(v)-mean)*inv)*f.gain[k] + f.offset[k]
		}
	}
	return out
}

// denseTargets reads the per-pixel targets of a dense task: for the training pairs, one value per
// patch of a g×g grid (patch reduces a map to it); for the validation pairs, the full map
// resized to s×s by nearest neighbour (the ground truth the probe is scored against).
func denseTargets[T any](train, val []probes.Pair, read func(path string) ([]T, int, int, error),
	patch func(m []T, h, w, gh, gw int) []T, g, s int) (trainTargets []T, gt [][]T, err error) {
	trainTargets = make([]T, len(train)*g*g)
	if err := parallelEach(len(train), func(i int) error {
		m, h, w, err := read(train[i].Target)
		if err != nil {
			return err
		}
		copy(trainTargets[i*g*g:], patch(m, h, w, g, g))
		return nil
	}); err != nil {
		return nil, nil, err
	}
	gt = make([][]T, len(val))
	if err := parallelEach(len(val), func(i int) error {
		m, h, w, err := read(val[i].Target)
		if err != nil {
			return err
		}
		gt[i] = nearestResize(m, h, w, s, s)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	return trainTargets, gt, nil
}

// loadDense reads a dense task's data: every model's patch features of the train and val images,
// the training targets per patch, and the val targets resized to the model's input side.
func loadDense[T any](d *denseRun, train, val []probes.Pair, read func(path string) ([]T, int, int, error),
	patch func(m []T, h, w, gh, gw int) []T) (tr, va *denseSplit, targets []T, gt [][]T, err error) {
	if tr, err = d.split(train); err != nil {
		return nil, nil, nil, nil, err
	}
	if targets, gt, err = denseTargets(train, val, read, patch, d.grid(), d.imageSize); err != nil {
		return nil, nil, nil, nil, err
	}
	if va, err = d.split(val); err != nil {
		return nil, nil, nil, nil, err
	}
	return tr, va, targets, gt, nil
}

// nearestResize resizes an h×w map to nh×nw by nearest neighbour (source pixel of the output
// pixel centre), so labels and invalid depths stay exact.
func nearestResize[T any](src []T, h, w, nh, nw int) []T {
	out := make([]T, nh*nw)
	for y := range nh {
		sy := min((2*y+1)*h/(2*nh), h-1)
		for x := range nw {
			out[y*nw+x] = src[sy*w+min((2*x+1)*w/(2*nw), w-1)]
		}
	}
	return out
}

// capPairs keeps n pairs evenly spaced over the list (all when n ≤ 0 or n ≥ len).
func capPairs(p []probes.Pair, n int) []probes.Pair {
	if n <= 0 || n >= len(p) {
		return p
	}
	out := make([]probes.Pair, n)
	for i := range n {
		out[i] = p[i*len(p)/n]
	}
	return out
}

func imagePaths(p []probes.Pair) []string {
	out := make([]string, len(p))
	for i, q := range p {
		out[i] = q.Image
	}
	return out
}

// denseSplit is one split's features (per model) and targets.
// probeEach trains a probe on every model's own training features and scores it on that model's
// validation features, together with the teacher's probe (the first model's) on the same
// features. format prints one score (e.g. "mIoU %.4f").
func (d *denseRun) probeEach(task, format string, tr, va *denseSplit, trainProbe func(feats []float32) (*probes.Linear, error),
	score func(head *probes.Linear, feats []float32) (float64, error)) (own, teacherProbe []float64, err error) {
	var teacherHead *probes.Linear
	for k, model := range d.models {
		began := time.Now()
		head, err := trainProbe(tr.feats[k])
		if err != nil {
			return nil, nil, fmt.Errorf("dense probes: %s %s probe: %w", task, model.name, err)
		}
		if k == 0 {
			teacherHead = head
		}
		v, err := score(head, va.feats[k])
		if err != nil {
			return nil, nil, err
		}
		tv, err := score(teacherHead, va.feats[k])
		if err != nil {
			return nil, nil, err
		}
		own, teacherProbe = append(own, v), append(teacherProbe, tv)
		fmt.Fprintf(d.progress, "dinov2: %s %s: "+format+" (teacher's probe "+format+"), %s\n", task, model.name, v, tv, time.Since(began).Round(time.Millisecond))
	}
	return own, teacherProbe, nil
}

type denseSplit struct {
	pairs []probes.Pair
	feats [][]float32
}

func (d *denseRun) split(pairs []probes.Pair) (*denseSplit, error) {
	imgs, err := d.loadImages(imagePaths(pairs))
	if err != nil {
		return nil, err
	}
	feats, err := d.patchFeatures(imgs, len(pairs))
	if err != nil {
		return nil, err
	}
	return &denseSplit{pairs: pairs, feats: feats}, nil
}

func (d *denseRun) trainOptions() probes.TrainOptions {
	return probes.TrainOptions{Epochs: d.opts.Epochs, BatchSize: d.opts.BatchSize, LR: d.opts.LR, WeightDecay: 1e-4, Seed: 1}
}

// ade20k trains a segmentation probe per model on the train split and returns its mIoU on the
// val split (pixels of the label map resized to the model's input side), plus the teacher's
// probe applied to each model's features.
func (d *denseRun) ade20k(root string) (own, teacherProbe []float64, desc string, err error) {
	trainPairs, err := probes.ADE20kPairs(root, "training")
	if err != nil {
		return nil, nil, "", err
	}
	valPairs, err := probes.ADE20kPairs(root, "validation")
	if err != nil {
		return nil, nil, "", err
	}
	trainPairs, valPairs = capPairs(trainPairs, d.opts.Images), capPairs(valPairs, d.opts.Images)
	g, s := d.grid(), d.imageSize
	tr, va, labels, gt, err := loadDense(d, trainPairs, valPairs, probes.ReadADE20kLabels, probes.PatchLabels)
	if err != nil {
		return nil, nil, "", err
	}
	dim := d.teacher.Model.Config.Dim
	miou := func(head *probes.Linear, feats []float32) (float64, error) {
		cm := probes.NewConfusion(ADE20kClasses)
		for i := range valPairs {
			pred := probes.PredictSegmentation(head, feats[i*g*g*dim:(i+1)*g*g*dim], g, g, s, s)
			if err := cm.Add(pred, gt[i]); err != nil {
				return 0, fmt.Errorf("dense probes: %s: %w", valPairs[i].Target, err)
			}
		}
		v := cm.MeanIoU()
		if math.IsNaN(v) {
			return 0, fmt.Errorf("dense probes: ADE20k %s: no labelled validation pixel", root)
		}
		return v, nil
	}
	own, teacherProbe, err = d.probeEach("ADE20k", "mIoU %.4f", tr, va, func(feats []float32) (*probes.Linear, error) {
		return probes.TrainSoftmax(feats, len(labels), dim, labels, ADE20kClasses, withIgnore(d.trainOptions(), probes.IgnoreLabel))
	}, miou)
	if err != nil {
		return nil, nil, "", err
	}
	desc = fmt.Sprintf("%d train / %d val images of %s at %d px, mIoU over %d px label maps", len(trainPairs), len(valPairs), root, s, s)
	return own, teacherProbe, desc, nil
}

func withIgnore(o probes.TrainOptions, label int32) probes.TrainOptions {
	o.UseIgnore, o.Ignore = true, label
	return o
}

// nyuCSV finds a NYUv2 split CSV in dir or dir/data (the Kaggle release keeps them in data/).
func nyuCSV(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, "data", name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("dense probes: NYUv2: no %s in %s or %s", name, dir, filepath.Join(dir, "data"))
}

// nyuv2 trains a depth probe (bins, softmax expectation) per model on nyu2_train and returns its
// RMSE in metres on nyu2_test (depth maps resized to the model's input side, Eigen crop).
func (d *denseRun) nyuv2(dir string) (own, teacherProbe []float64, desc string, err error) {
	var splits [2][]probes.Pair
	for k, name := range []string{"nyu2_train.csv", "nyu2_test.csv"} {
		path, err := nyuCSV(dir, name)
		if err != nil {
			return nil, nil, "", err
		}
		if splits[k], err = probes.NYUPairs(path); err != nil {
			return nil, nil, "", err
		}
		splits[k] = capPairs(splits[k], d.opts.Images)
	}
	trainPairs, valPairs := splits[0], splits[1]
	g, s := d.grid(), d.imageSize
	tr, va, depths, gt, err := loadDense(d, trainPairs, valPairs, probes.ReadDepthPNG, probes.PatchDepths)
	if err != nil {
		return nil, nil, "", err
	}
	dim := d.teacher.Model.Config.Dim
	mask := probes.EigenCrop(s, s)
	rmse := func(head *probes.Linear, feats []float32) (float64, error) {
		var r probes.RMSE
		for i := range valPairs {
			pred := probes.PredictDepth(head, d.opts.Bins, feats[i*g*g*dim:(i+1)*g*g*dim], g, g, s, s)
			if err := r.Add(pred, gt[i], mask); err != nil {
				return 0, fmt.Errorf("dense probes: %s: %w", valPairs[i].Target, err)
			}
		}
		v := r.Value()
		if math.IsNaN(v) {
			return 0, fmt.Errorf("dense probes: NYUv2 %s: no valid depth pixel inside the Eigen crop", dir)
		}
		return v, nil
	}
	own, teacherProbe, err = d.probeEach("NYUv2", "RMSE %.4f m", tr, va, func(feats []float32) (*probes.Linear, error) {
		return probes.TrainDepth(feats, len(depths), dim, depths, d.opts.Bins, d.opts.DepthLoss, d.trainOptions())
	}, rmse)
	if err != nil {
		return nil, nil, "", err
	}
	desc = fmt.Sprintf("%d train / %d test images of %s at %d px, RMSE in metres over %d px depth maps (Eigen crop), %d bins over [%g, %g] m, loss %g·SI-log(λ %g) + %g·CE",
		len(trainPairs), len(valPairs), dir, s, s, d.opts.Bins.N, d.opts.Bins.Min, d.opts.Bins.Max,
		d.opts.DepthLoss.SILogWeight, d.opts.DepthLoss.Lambda, d.opts.DepthLoss.CEWeight)
	return own, teacherProbe, desc, nil
}

// denseTaskResult is one task's cached outcome.
type denseTaskResult struct {
	Rows []DenseProbeRow `json:"rows"`
	Note string          `json:"note"`
}

// denseKey names a task's cache file: the data folder and the options decide the numbers.
func denseKey(task, dir string, opts DenseOptions, models []denseModel) string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.name
	}
	raw, _ := json.Marshal(struct {
		T, D string
		O    DenseOptions
		M    []string
		V    int
	}{task, dir, opts, names, 1})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// runTask runs one dense task (or reads it from runDir) and returns a row per model.
func (d *denseRun) runTask(task, dir, runDir string) (*denseTaskResult, error) {
	file := filepath.Join(runDir, fmt.Sprintf("dense-%s-%s.json", strings.ToLower(strings.Fields(task)[0]), denseKey(task, dir, d.opts, d.models)))
	return cached(file, func() (*denseTaskResult, error) {
		var own, frozen []float64
		var desc string
		var err error
		what := "mIoU"
		if task == ADE20kTask {
			own, frozen, desc, err = d.ade20k(dir)
		} else {
			own, frozen, desc, err = d.nyuv2(dir)
			what = "RMSE"
		}
		if err != nil {
			return nil, err
		}
		out := &denseTaskResult{Note: fmt.Sprintf("%s: linear probe per model on its own final-LayerNormed patch tokens, %s", task, desc)}
		for k, m := range d.models {
			row := DenseProbeRow{Model: m.name, Task: task, Value: own[k], Run: true,
				Comment: "probe trained on this model's own patch tokens"}
			if k > 0 {
				row.Comment += fmt.Sprintf("; the teacher's probe on them: %s %.4f", what, frozen[k])
			}
			out.Rows = append(out.Rows, row)
		}
		return out, nil
	})
}
