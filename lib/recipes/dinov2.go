package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/probes"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// DefaultDINOv2Ref is the paper's teacher, dinov2_vitb14_reg (ViT-B/14, 4 registers), as
// published on the HF hub.
const DefaultDINOv2Ref = "facebook/dinov2-with-registers-base"

// TinyDINOv2Note is what every caption says about the model when no real weights are cached.
const TinyDINOv2Note = "tiny random DINOv2-layout checkpoint — not real DINOv2"

// Environment variables naming the dense-probe datasets (absent: those probes are not run).
const (
	ADE20kEnv = "BLOCKREC_ADE20K" // root of ADEChallengeData2016 (images/, annotations/)
	NYUv2Env  = "BLOCKREC_NYUV2"  // folder holding nyu2_train.csv and nyu2_test.csv
)

// TinyDINOv2Config is the checkpoint generated when no real DINOv2 is cached: lib/dinov2's tiny
// config (dim 32, 4 heads, patch 4, 16 px) with 8 blocks and 4 registers, so that phases of
// K = 2..4 layers exist and the token groups match dinov2_vitb14_reg's (CLS, 4 registers, patches).
func TinyDINOv2Config() dinov2.HFConfig {
	c := dinov2.TinyHFConfig(4, false)
	c.NumHiddenLayers = 8
	return c
}

// DINOv2Plan sizes the DINOv2 experiment (notebook 02) for one scale.
type DINOv2Plan struct {
	Scale       notebook.Level `json:"scale"`
	TrainImages int            `json:"train_images"` // probe training set and Raptor's activation cache
	TestImages  int            `json:"test_images"`  // probe test set: similarity, Raptor evaluation, layer swap
	Ks          []int          `json:"ks"`
	Stage1Steps int            `json:"stage1_steps"` // per block
	Stage2Steps int            `json:"stage2_steps"`
	Batch       int            `json:"batch"` // Raptor training batch
	// RaptorLR and RaptorLayerScale: the paper's 3e-4 and 1e-5 suit 312,500 steps; short runs
	// use a larger rate and LayerScale (as the CIFAR plan does) so the blocks can move at all.
	RaptorLR         float64           `json:"raptor_lr"`
	RaptorLayerScale float64           `json:"raptor_layer_scale"`
	CacheDType       raptor.CacheDType `json:"cache_dtype"`
	ProbeEpochs      int               `json:"probe_epochs"`
	ProbeLR          float64           `json:"probe_lr"`
	// RetrainProbe also trains a probe on Raptor's own features (the paper's fine-tuned probe).
	RetrainProbe bool `json:"retrain_probe"`
	SwapTrials   int  `json:"swap_trials"` // random layer orders per swap setting
}

// DINOv2PlanFor returns the plan of a scale; real says whether real DINOv2 weights are used
// (on a CPU a ViT-B/14 forward pass takes seconds per image, so smoke shrinks the image counts).
func DINOv2PlanFor(level notebook.Level, real bool) DINOv2Plan {
	// The probe starts from zero (the paper fine-tunes DINOv2's released head), hence the larger
	// learning rate and more epochs on the small sets.
	p := DINOv2Plan{Scale: level, Ks: []int{2, 3, 4}, CacheDType: raptor.Float32, ProbeLR: 1e-2, RetrainProbe: true,
		RaptorLR: 1e-3, RaptorLayerScale: 0.1}
	switch level {
	case notebook.Smoke:
		p.TrainImages, p.TestImages, p.Stage1Steps, p.Stage2Steps, p.Batch, p.ProbeEpochs, p.SwapTrials = 512, 256, 20, 20, 32, 100, 2
		if real {
			p.TrainImages, p.TestImages, p.Batch = 64, 32, 16
		}
	case notebook.Paper:
		p.TrainImages, p.TestImages, p.Stage1Steps, p.Stage2Steps, p.Batch, p.ProbeEpochs, p.SwapTrials = 50000, 10000, 312500, 312500, 64, 15, 5
		p.CacheDType, p.ProbeLR, p.RaptorLR, p.RaptorLayerScale = raptor.Float16, 1e-3, 3e-4, 1e-5
	default: // CPU
		p.TrainImages, p.TestImages, p.Stage1Steps, p.Stage2Steps, p.Batch, p.ProbeEpochs, p.SwapTrials = 4096, 1024, 400, 400, 64, 100, 5
		if real {
			p.TrainImages, p.TestImages, p.CacheDType = 512, 256, raptor.Float16
		}
	}
	return p
}

// DINOv2Options configure RunDINOv2. Splits is required; the zero value of every other field
// has a default.
type DINOv2Options struct {
	Scale  notebook.Level // default notebook.Scale()
	Splits *data.Splits
	// Ref is the teacher: a hub id or a folder in HF layout (default DefaultDINOv2Ref). It is
	// used when it is cached (or Download is set); otherwise the tiny checkpoint stands in.
	Ref      string
	Hub      dinov2.HubOptions
	Download bool // allow downloading Ref (default: use only what is cached)
	NoTiny   bool // fail instead of falling back to the tiny checkpoint
	// Tiny is the generated checkpoint's config (default TinyDINOv2Config()), TinySeed its seed
	// (default 1).
	Tiny     *dinov2.HFConfig
	TinySeed uint64
	// Plan sizes the run (default DINOv2PlanFor(Scale, real weights)).
	Plan *DINOv2Plan
	// CacheRoot is the folder of this experiment's runs (default
	// $BLOCKREC_CACHE_DIR or <repo>/data/cache, then /<scale>/dinov2).
	CacheRoot string
	// ADE20kDir and NYUv2Dir locate the dense-probe datasets (default $BLOCKREC_ADE20K,
	// $BLOCKREC_NYUV2).
	ADE20kDir, NYUv2Dir string
}

// cacheRoot is CacheRoot or its default for the options' scale.
func (o DINOv2Options) cacheRoot() (string, error) {
	if o.CacheRoot != "" {
		return o.CacheRoot, nil
	}
	scale := o.Scale
	if scale == "" {
		scale = notebook.Scale()
	}
	base, err := notebook.CacheBase()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, string(scale), "dinov2"), nil
}

func (o DINOv2Options) withDefaults() (DINOv2Options, error) {
	if o.Splits == nil {
		return o, errors.New("dinov2 experiment: no data (DINOv2Options.Splits is nil)")
	}
	if o.Scale == "" {
		o.Scale = notebook.Scale()
	}
	if o.Ref == "" {
		o.Ref = DefaultDINOv2Ref
	}
	if !o.Download {
		o.Hub.Offline = true
	}
	if o.Tiny == nil {
		c := TinyDINOv2Config()
		o.Tiny = &c
	}
	if o.TinySeed == 0 {
		o.TinySeed = 1
	}
	root, err := o.cacheRoot()
	if err != nil {
		return o, err
	}
	o.CacheRoot = root
	if o.ADE20kDir == "" {
		o.ADE20kDir = os.Getenv(ADE20kEnv)
	}
	if o.NYUv2Dir == "" {
		o.NYUv2Dir = os.Getenv(NYUv2Env)
	}
	return o, nil
}

// DINOv2Results is everything notebook 02 shows. Each part is computed once and cached on disk.
type DINOv2Results struct {
	Scale       string        `json:"scale"`
	Model       string        `json:"model"`      // one line: which checkpoint, its size
	ModelNote   string        `json:"model_note"` // the model as every caption names it
	RealWeights bool          `json:"real_weights"`
	ModelDir    string        `json:"model_dir"`
	Dataset     string        `json:"dataset"`
	Provenance  string        `json:"provenance"`
	ImageSize   int           `json:"image_size"` // side of the images fed to the model
	Layout      hidden.Layout `json:"layout"`
	Depth       int           `json:"depth"`
	Plan        DINOv2Plan    `json:"plan"`
	RunDir      string        `json:"run_dir"`
	Backend     string        `json:"backend"`

	Extraction ExtractionTiming  `json:"extraction"`
	Similarity [][]float64       `json:"similarity"` // blocks 1..L, CLS + mean patch 1 − cos
	Phases     []PhaseReport     `json:"phases"`
	Probe      ProbeScore        `json:"probe"` // the linear probe on the teacher's features
	Raptor     []DINOv2RaptorRun `json:"raptor"`
	SwapK      int               `json:"swap_k"` // phases the swaps are drawn from
	Swaps      []SwapRun         `json:"swaps"`
	Dense      []DenseProbeRow   `json:"dense"`
	DenseNote  string            `json:"dense_note"` // why dense probes did not run, if they did not
}

// ExtractionTiming is the teacher's activation extraction (forward pass + cache write).
type ExtractionTiming struct {
	Images       int     `json:"images"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
	CacheBytes   int64   `json:"cache_bytes"`
	Backend      string  `json:"backend"`
}

// ProbeScore is a linear probe on [CLS, mean patch] of the final-LayerNormed output.
type ProbeScore struct {
	Features      int     `json:"features"`
	Classes       int     `json:"classes"`
	TrainImages   int     `json:"train_images"`
	TestImages    int     `json:"test_images"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TestAccuracy  float64 `json:"test_accuracy"`
	Seconds       float64 `json:"seconds"`
}

// DINOv2RaptorRun is Raptor with K blocks on the teacher's max-cut phases.
type DINOv2RaptorRun struct {
	K         int    `json:"k"`
	Partition string `json:"partition"`
	// Result is FitRaptor's: Accuracy is the teacher's probe (installed as the teacher's head) on
	// Raptor's output, TeacherAccuracy the same probe on the teacher's; R² per layer and group.
	Result RaptorResult `json:"result"`
	// ProbeAccuracy recomputes Accuracy independently: Raptor rolled out from a_0, final LayerNorm
	// and probe in plain Go.
	ProbeAccuracy float64 `json:"probe_accuracy"`
	// Retrained is a probe trained on Raptor's own train-set features (nil when not run).
	Retrained         *ProbeScore `json:"retrained,omitempty"`
	RaptorParams      int         `json:"raptor_params"`
	TeacherParams     int         `json:"teacher_block_params"`
	FractionOfTeacher float64     `json:"fraction_of_teacher"` // Accuracy / TeacherAccuracy
}

// DenseProbeRow is one model's dense-probe scores (NaN-free: Run is false when not measured).
type DenseProbeRow struct {
	Model   string  `json:"model"`
	Task    string  `json:"task"`  // "ADE20k mIoU" or "NYUv2 RMSE"
	Value   float64 `json:"value"` // meaningful when Run
	Run     bool    `json:"run"`
	Comment string  `json:"comment,omitempty"`
}

// Origin is the sentence every caption ends with: which model, which data.
func (r *DINOv2Results) Origin() string {
	return fmt.Sprintf("Model: %s. Data: %s, %d train / %d test images at %d px.", r.ModelNote, r.Dataset, r.Plan.TrainImages, r.Plan.TestImages, r.ImageSize)
}

// teacherModel is the loaded teacher and what captions say about it.
type teacherModel struct {
	m    *dinov2.Model
	real bool
	note string
	desc string
	slug string
}

// loadTeacherModel loads the real checkpoint when it is available, else the tiny one (generated
// once under the cache root).
func loadTeacherModel(o DINOv2Options, progress io.Writer) (*teacherModel, error) {
	m, err := dinov2.Load(o.Ref, o.Hub)
	if err == nil {
		c := m.Config()
		return &teacherModel{m: m, real: true, note: "DINOv2 " + o.Ref, desc: m.String(),
			slug: slug(o.Ref) + fmt.Sprintf("-l%d-d%d", c.Depth, c.Dim)}, nil
	}
	if !errors.Is(err, dinov2.ErrNotCached) || o.NoTiny {
		return nil, err
	}
	t := *o.Tiny
	name := fmt.Sprintf("tiny-d%d-l%d-h%d-p%d-r%d-s%d-%s-seed%d", t.HiddenSize, t.NumHiddenLayers, t.NumAttentionHeads,
		t.PatchSize, t.NumRegisterTokens, t.ImageSize, map[bool]string{true: "swiglu", false: "gelu"}[t.UseSwiGLU], o.TinySeed)
	dir := filepath.Join(o.CacheRoot, name)
	// Said once per run, first thing: offline (or downloads off), and what stands in.
	fmt.Fprintf(progress, "dinov2: offline: the real weights %s are not available, so this run uses the %s (%s) instead. Why: %v\n",
		o.Ref, TinyDINOv2Note, dir, err)
	if _, serr := os.Stat(filepath.Join(dir, "model.safetensors")); serr != nil {
		if err := dinov2.Generate(dir, t, o.TinySeed); err != nil {
			return nil, err
		}
	}
	m, err = dinov2.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	c := m.Config()
	desc := fmt.Sprintf("%s (dim %d, %d blocks, %d heads, patch %d, %d registers, %s MLP, %d px, seed %d)", TinyDINOv2Note,
		c.Dim, c.Depth, c.Heads, c.PatchSize, c.Registers, c.MLP, c.ImageSize, o.TinySeed)
	return &teacherModel{m: m, note: TinyDINOv2Note, desc: desc, slug: name}, nil
}

// preprocessor is what images go through: DINOv2's 256 → 224 for real weights; for the tiny
// checkpoint, a resize and crop to its own image size (ImageNet normalisation in both cases).
func (t *teacherModel) preprocessor() data.Preprocessor {
	if t.real {
		return data.DINOv2Preprocessor()
	}
	s := t.m.Config().ImageSize
	return data.Preprocessor{Resize: s, Crop: s, Filter: data.Bicubic, Stats: data.ImageNetStats}
}

// resizedDataset applies p's resize and centre crop to every image of ds (bytes, as
// Preprocessor.ApplyHWC does before normalising) and records p's statistics, so that the
// dataset-based helpers (datasetBatches, raptor caches) feed exactly the preprocessed images.
func resizedDataset(ds *data.Dataset, p data.Preprocessor) (*data.Dataset, error) {
	out := *ds
	out.H, out.W, out.Stats = p.Crop, p.Crop, p.Stats
	out.Source = fmt.Sprintf("%s, resized (shorter side %d, %s) and centre-cropped to %d px", ds.Source, p.Resize, p.Filter, p.Crop)
	n := out.ImageSize()
	out.Pixels = make([]uint8, ds.Len()*n)
	nh, nw := data.ShorterSide(ds.H, ds.W, p.Resize)
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < ds.Len(); i += len(errs) {
				r := data.Resize(ds.Image(i), ds.H, ds.W, ds.C, nh, nw, p.Filter)
				crop, err := data.CenterCrop(r, nh, nw, ds.C, p.Crop, p.Crop)
				if err != nil {
					errs[w] = fmt.Errorf("dinov2 experiment: image %d of %s: %w", i, ds.Name, err)
					return
				}
				copy(out.Pixels[i*n:(i+1)*n], crop)
			}
		}()
	}
	wg.Wait()
	return &out, errors.Join(errs...)
}

// planKey is a short hash of everything that decides a run's numbers, so that a changed plan gets
// a fresh folder instead of stale results.
func planKey(p DINOv2Plan, model, dataset string, imageSize int) string {
	raw, _ := json.Marshal(struct {
		P       DINOv2Plan
		M, D    string
		S, Vers int
	}{p, model, dataset, imageSize, 1})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// RunDINOv2 runs (or reloads) the DINOv2 experiment: teacher activations cached on the train and
// test images, the layer similarity matrix and its max-cut phases, a linear probe on the
// teacher's [CLS, mean patch] features, Raptor for every K (stage 1 + 2) evaluated with that probe
// and with a probe retrained on Raptor's features, R² per layer and token group, layer swaps
// within and across phases, and the dense probes when their datasets are given.
func RunDINOv2(b backends.Backend, opts DINOv2Options, progress io.Writer) (*DINOv2Results, error) {
	if progress == nil {
		progress = io.Discard
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tm, err := loadTeacherModel(o, progress)
	if err != nil {
		return nil, err
	}
	plan := DINOv2PlanFor(o.Scale, tm.real)
	if o.Plan != nil {
		plan = *o.Plan
	}
	cfg := tm.m.Config()
	prep := tm.preprocessor()
	splits := o.Splits
	res := &DINOv2Results{Scale: string(plan.Scale), Model: tm.desc, ModelNote: tm.note, RealWeights: tm.real, ModelDir: tm.m.Dir,
		Dataset: splits.Name(), Provenance: splits.Provenance(), ImageSize: prep.Crop, Layout: tm.m.Layout(prep.Crop, prep.Crop),
		Depth: cfg.Depth, Plan: plan, Backend: backendName(b)}
	run := filepath.Join(o.CacheRoot, fmt.Sprintf("%s-%s-%s", tm.slug, slug(splits.Name()), planKey(plan, tm.slug, splits.Name(), prep.Crop)))
	res.RunDir = run
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, err
	}
	if plan.TrainImages > splits.Train.Len() || plan.TestImages > splits.Test.Len() || plan.TrainImages <= 0 || plan.TestImages <= 0 {
		return nil, fmt.Errorf("dinov2 experiment: plan wants %d train and %d test images, %s has %d and %d",
			plan.TrainImages, plan.TestImages, splits.Name(), splits.Train.Len(), splits.Test.Len())
	}
	trainSet, err := resizedDataset(splits.Train.Subset(plan.TrainImages, 21), prep)
	if err != nil {
		return nil, err
	}
	testSet, err := resizedDataset(splits.Test.Subset(plan.TestImages, 22), prep)
	if err != nil {
		return nil, err
	}

	// The headless teacher: DINOv2's weights in the model scope.
	tctx := context.New()
	if err := tm.m.Install(tctx.In(dinov2.Scope)); err != nil {
		return nil, err
	}
	headless := &TrainedViT{Model: tm.m.ViT, Ctx: tctx.In(dinov2.Scope), Dir: tm.m.Dir}

	// 1. Teacher activations on the train and test images (the Raptor caches), timed.
	var caches *TeacherCaches
	timing, err := cached(filepath.Join(run, "extraction.json"), func() (*ExtractionTiming, error) {
		began := time.Now()
		var err error
		caches, err = ComputeTeacherCaches(b, headless, trainSet, testSet, run, plan.CacheDType, progress)
		if err != nil {
			return nil, err
		}
		secs := time.Since(began).Seconds()
		n := trainSet.Len() + testSet.Len()
		return &ExtractionTiming{Images: n, Seconds: secs, ImagesPerSec: float64(n) / secs,
			CacheBytes: dirBytes(filepath.Join(run, "cache-train")) + dirBytes(filepath.Join(run, "cache-val")), Backend: res.Backend}, nil
	})
	if err != nil {
		return nil, err
	}
	res.Extraction = *timing
	if caches == nil {
		if caches, err = ComputeTeacherCaches(b, headless, trainSet, testSet, run, plan.CacheDType, progress); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(progress, "dinov2: teacher activations: %d images, %.1f img/s (%s)\n", timing.Images, timing.ImagesPerSec, timing.Backend)

	// 2. Similarity matrix (test images, from the cache) and max-cut phases.
	type simResult struct {
		Similarity [][]float64   `json:"similarity"`
		Phases     []PhaseReport `json:"phases"`
	}
	sim, err := cached(filepath.Join(run, "phases-v2.json"), func() (*simResult, error) {
		w, err := cacheSimilarity(caches.Val)
		if err != nil {
			return nil, err
		}
		reports, err := AnalysePhasesWith(w, nil, plan.Ks, PhaseOptions{Method: MethodBisection, NullReplicates: plan.nullReplicates(), Seed: 1})
		if err != nil {
			return nil, err
		}
		return &simResult{Similarity: w, Phases: reports}, nil
	})
	if err != nil {
		return nil, err
	}
	res.Similarity, res.Phases = sim.Similarity, sim.Phases

	// 3. The linear probe on the teacher's features.
	norm, err := newFinalNorm(tm.m)
	if err != nil {
		return nil, err
	}
	classes := splits.NumClasses()
	trainX, trainY, err := norm.cacheFeatures(caches.Train)
	if err != nil {
		return nil, err
	}
	testX, testY, err := norm.cacheFeatures(caches.Val)
	if err != nil {
		return nil, err
	}
	type probeFile struct {
		Score ProbeScore     `json:"score"`
		Head  *probes.Linear `json:"head"`
	}
	pf, err := cached(filepath.Join(run, "probe.json"), func() (*probeFile, error) {
		head, score, err := fitProbe(trainX, trainY, testX, testY, classes, plan)
		if err != nil {
			return nil, err
		}
		return &probeFile{Score: *score, Head: head}, nil
	})
	if err != nil {
		return nil, err
	}
	res.Probe = pf.Score
	fmt.Fprintf(progress, "dinov2: teacher probe: train %.1f%%, test %.1f%% (%d classes)\n", 100*pf.Score.TrainAccuracy, 100*pf.Score.TestAccuracy, classes)

	// The teacher with the probe as its classification head: Raptor's accuracy and the layer
	// swaps read the same head.
	headed, err := withProbeHead(tm.m, pf.Head)
	if err != nil {
		return nil, err
	}

	// 4. Raptor for every K on the released solver's phases (recursive bisection), as the
	// official code trains them; the contiguous DP where bisection cannot give K.
	for _, rep := range res.Phases {
		if rep.K < 1 {
			continue
		}
		dir := dinov2RaptorDir(run, rep)
		spec := dinov2RaptorSpec(plan, rep)
		fit, err := FitRaptor(b, headed, caches, spec, dir, progress)
		if err != nil {
			return nil, err
		}
		rr, err := cached(filepath.Join(dir, "probe.json"), func() (*DINOv2RaptorRun, error) {
			return evaluateRaptorProbe(b, headed, caches, spec, dir, norm, pf.Head, trainY, testY, classes, plan)
		})
		if err != nil {
			return nil, err
		}
		rr.K, rr.Partition, rr.Result = rep.K, usedPartition(rep).String(), *fit
		if fit.TeacherAccuracy > 0 {
			rr.FractionOfTeacher = fit.Accuracy / fit.TeacherAccuracy
		}
		res.Raptor = append(res.Raptor, *rr)
		fmt.Fprintf(progress, "dinov2: Raptor K=%d %s: probe %.1f%% of the teacher's %.1f%%\n", rep.K, rr.Partition, 100*fit.Accuracy, 100*fit.TeacherAccuracy)
	}

	// 5. Layer swaps within and across the phases of K=3 (or the largest K below it).
	for _, rep := range res.Phases {
		if rep.K >= 2 && rep.K <= 3 {
			res.SwapK = rep.K
		}
	}
	swaps, err := cached(filepath.Join(run, "swaps.json"), func() (*[]SwapRun, error) {
		return LayerSwaps(b, headed, res.Phases, testSet, plan.SwapTrials, 128)
	})
	if err != nil {
		return nil, err
	}
	res.Swaps = *swaps

	// 6. Dense probes.
	res.Dense, res.DenseNote, err = denseProbes(b, o, plan, headless, norm, prep, res, progress)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// backendName is the backend's name, or "none".
func backendName(b backends.Backend) string {
	if b == nil {
		return "none"
	}
	return b.Name()
}

// dirBytes is the total size of the files in dir.
func dirBytes(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			n += info.Size()
		}
	}
	return n
}

// cacheSimilarity is the paper's CLS + mean-patch dissimilarity matrix over a cache's images.
func cacheSimilarity(c *raptor.Cache) ([][]float64, error) {
	acc := phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: c.Meta().Layout})
	err := c.Each(func(b *hidden.Batch, _ []int, _ int) error {
		for i := range b.Images {
			if err := acc.Add(b.Image(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return acc.Matrix(), nil
}

// finalNorm is the teacher's final LayerNorm, applied in plain Go to cached states.
type finalNorm struct {
	gain, offset []float32
	eps          float64
}

func newFinalNorm(m *dinov2.Model) (*finalNorm, error) {
	g, ok1 := m.Weights["norm/gain"]
	o, ok2 := m.Weights["norm/offset"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("dinov2 experiment: %s has no final LayerNorm weights", m.Source)
	}
	return &finalNorm{gain: tensors.MustCopyFlatData[float32](g), offset: tensors.MustCopyFlatData[float32](o), eps: m.Config().LayerNormEps}, nil
}

// features returns [CLS, mean patch] of LayerNorm(last), last being one image's tokens×dim state.
func (f *finalNorm) features(last []float32, layout hidden.Layout) []float32 {
	d := len(f.gain)
	t := len(last) / d
	normed := make([]float32, len(last))
	for tok := range t {
		x := last[tok*d : (tok+1)*d]
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
			normed[tok*d+k] = float32((float64(v)-mean)*inv)*f.gain[k] + f.offset[k]
		}
	}
	from, _ := layout.Patches()
	return probes.CLSMeanPatch(normed, 1, t, d, from)
}

// cacheFeatures returns the probe features of the last layer of every cached image, with labels.
func (f *finalNorm) cacheFeatures(c *raptor.Cache) ([]float32, []int32, error) {
	meta := c.Meta()
	var x []float32
	var y []int32
	err := c.Each(func(b *hidden.Batch, labels []int, _ int) error {
		for i := range b.Images {
			x = append(x, f.features(b.Image(i).Layer(meta.Layers-1), meta.Layout)...)
			y = append(y, int32(labels[i]))
		}
		return nil
	})
	return x, y, err
}

// fitProbe trains the softmax probe on the train features and scores it on both sets.
func fitProbe(trainX []float32, trainY []int32, testX []float32, testY []int32, classes int, plan DINOv2Plan) (*probes.Linear, *ProbeScore, error) {
	began := time.Now()
	in := len(trainX) / len(trainY)
	head, err := probes.TrainSoftmax(trainX, len(trainY), in, trainY, classes, probes.TrainOptions{
		Epochs: plan.ProbeEpochs, BatchSize: 64, LR: plan.ProbeLR, WeightDecay: 1e-2, Seed: 1})
	if err != nil {
		return nil, nil, err
	}
	trainAcc, err := probes.Top1(head.Predict(trainX, len(trainY)), trainY)
	if err != nil {
		return nil, nil, err
	}
	testAcc, err := probes.Top1(head.Predict(testX, len(testY)), testY)
	if err != nil {
		return nil, nil, err
	}
	return head, &ProbeScore{Features: in, Classes: classes, TrainImages: len(trainY), TestImages: len(testY),
		TrainAccuracy: trainAcc, TestAccuracy: testAcc, Seconds: time.Since(began).Seconds()}, nil
}

// withProbeHead returns the teacher with the probe as its [CLS, mean patch] classification head,
// its weights in a fresh context.
func withProbeHead(m *dinov2.Model, head *probes.Linear) (*TrainedViT, error) {
	cfg := m.Config()
	cfg.NumClasses, cfg.HeadInput = head.Out, vit.HeadCLSMeanPatch
	if head.In != 2*cfg.Dim {
		return nil, fmt.Errorf("dinov2 experiment: probe reads %d features, the model gives 2×%d", head.In, cfg.Dim)
	}
	model, err := vit.New(cfg)
	if err != nil {
		return nil, err
	}
	weights := make(map[string]*tensors.Tensor, len(m.Weights)+2)
	for k, v := range m.Weights {
		weights[k] = v
	}
	weights["head/weights"] = tensors.FromFlatDataAndDimensions(append([]float32(nil), head.W...), head.In, head.Out)
	weights["head/biases"] = tensors.FromFlatDataAndDimensions(append([]float32(nil), head.B...), head.Out)
	ctx := context.New()
	if err := cfg.SetWeights(ctx.In(dinov2.Scope), weights); err != nil {
		return nil, err
	}
	return &TrainedViT{Model: model, Ctx: ctx.In(dinov2.Scope), Dir: m.Dir}, nil
}

// loadRaptor rebuilds the Raptor model a FitRaptor run in dir trained (as FitRaptor configures
// it) and loads its final weights.
func loadRaptor(t *TrainedViT, spec RaptorSpec, dir string) (*raptor.Model, *context.Context, error) {
	m, err := RaptorModel(t.Model.Config, spec)
	if err != nil {
		return nil, nil, err
	}
	rcfg := m.Config
	ctx := context.New()
	var ckpts []string
	if spec.Stage2Steps > 0 {
		ckpts = append(ckpts, train.LatestCheckpoint(filepath.Join(dir, "stage2")))
	} else {
		for j := range rcfg.K() {
			ckpts = append(ckpts, train.LatestCheckpoint(filepath.Join(dir, fmt.Sprintf("stage1-block%d", j))))
		}
	}
	for _, c := range ckpts {
		if c == "" {
			return nil, nil, fmt.Errorf("raptor %s: no final checkpoint", dir)
		}
		if _, err := train.LoadCheckpoint(ctx, c); err != nil {
			return nil, nil, err
		}
	}
	return m, ctx, nil
}

// raptorParams counts the variables under Raptor's scope.
func raptorParams(ctx *context.Context) int {
	n := 0
	prefix := "/" + raptor.RaptorScope + "/"
	for v := range ctx.IterVariables() {
		if strings.HasPrefix(v.Scope()+"/", prefix) {
			n += v.Shape().Size()
		}
	}
	return n
}

// teacherBlockParams counts the teacher's block parameters.
func teacherBlockParams(c vit.Config) int {
	n := 0
	for name, shape := range c.WeightShapes() {
		if strings.HasPrefix(name, "block_") {
			s := 1
			for _, d := range shape {
				s *= d
			}
			n += s
		}
	}
	return n
}

// raptorCacheFeatures rolls Raptor out from every cached a_0 and returns the probe features of
// its final state.
func raptorCacheFeatures(b backends.Backend, m *raptor.Model, ctx *context.Context, c *raptor.Cache, norm *finalNorm) ([]float32, error) {
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
		ctx.SetTraining(x.Graph(), false)
		states := m.Forward(ctx.In(raptor.RaptorScope), x)
		return states[len(states)-1]
	})
	if err != nil {
		return nil, fmt.Errorf("raptor rollout: %w", err)
	}
	meta := c.Meta()
	per := meta.Tokens * meta.Dim
	var out []float32
	err = c.Each(func(chunk *hidden.Batch, _ []int, _ int) error {
		for start := 0; start < chunk.Images; start += 128 {
			n := min(128, chunk.Images-start)
			xs := make([]float32, n*per)
			for k := range n {
				copy(xs[k*per:], chunk.Image(start+k).Layer(0))
			}
			res, err := exec.Exec(tensors.FromFlatDataAndDimensions(xs, n, meta.Tokens, meta.Dim))
			if err != nil {
				return fmt.Errorf("raptor rollout: %w", err)
			}
			last := tensors.MustCopyFlatData[float32](res[0])
			res[0].FinalizeAll()
			for k := range n {
				out = append(out, norm.features(last[k*per:(k+1)*per], meta.Layout)...)
			}
		}
		return nil
	})
	return out, err
}

// evaluateRaptorProbe scores a fitted Raptor with the teacher's probe (recomputed independently of
// FitRaptor) and, if the plan says so, with a probe retrained on Raptor's own features.
func evaluateRaptorProbe(b backends.Backend, t *TrainedViT, caches *TeacherCaches, spec RaptorSpec, dir string, norm *finalNorm,
	head *probes.Linear, trainY, testY []int32, classes int, plan DINOv2Plan) (*DINOv2RaptorRun, error) {
	m, ctx, err := loadRaptor(t, spec, dir)
	if err != nil {
		return nil, err
	}
	out := &DINOv2RaptorRun{RaptorParams: raptorParams(ctx), TeacherParams: teacherBlockParams(t.Model.Config)}
	testX, err := raptorCacheFeatures(b, m, ctx, caches.Val, norm)
	if err != nil {
		return nil, err
	}
	if out.ProbeAccuracy, err = probes.Top1(head.Predict(testX, len(testY)), testY); err != nil {
		return nil, err
	}
	if plan.RetrainProbe {
		trainX, err := raptorCacheFeatures(b, m, ctx, caches.Train, norm)
		if err != nil {
			return nil, err
		}
		_, score, err := fitProbe(trainX, trainY, testX, testY, classes, plan)
		if err != nil {
			return nil, err
		}
		out.Retrained = score
	}
	return out, nil
}

// denseProbes runs the ADE20k and NYUv2 probes (dinov2_dense.go) on the teacher and every Raptor
// of r when their datasets are given, and reports "not run" rows for the others.
func denseProbes(b backends.Backend, o DINOv2Options, plan DINOv2Plan, teacher *TrainedViT, norm *finalNorm, prep data.Preprocessor,
	r *DINOv2Results, progress io.Writer) ([]DenseProbeRow, string, error) {
	var rows []DenseProbeRow
	var notes []string
	var dense *denseRun
	for _, task := range []struct{ name, dir, env string }{
		{ADE20kTask, o.ADE20kDir, ADE20kEnv}, {NYUv2Task, o.NYUv2Dir, NYUv2Env}} {
		if task.dir == "" {
			comment := fmt.Sprintf("not run: $%s is unset (no %s data on this machine)", task.env, strings.Fields(task.name)[0])
			notes = append(notes, task.name+" "+comment)
			for _, model := range append([]string{"teacher"}, raptorNames(r)...) {
				rows = append(rows, DenseProbeRow{Model: model, Task: task.name, Comment: comment})
			}
			continue
		}
		if dense == nil {
			var err error
			if dense, err = newDenseRun(b, teacher, norm, prep.Crop, prep.Stats, plan, r.Phases, r.RunDir, DenseOptionsFor(plan.Scale), progress); err != nil {
				return nil, "", err
			}
		}
		res, err := dense.runTask(task.name, task.dir, r.RunDir)
		if err != nil {
			return nil, "", err
		}
		rows, notes = append(rows, res.Rows...), append(notes, res.Note)
	}
	return rows, strings.Join(notes, "; "), nil
}

func raptorNames(r *DINOv2Results) []string {
	var out []string
	for _, run := range r.Raptor {
		out = append(out, fmt.Sprintf("Raptor K=%d", run.K))
	}
	return out
}

// DINOv2ResultsPath is where RunDINOv2AndSave keeps the latest results of the options' scale
// (only Scale and CacheRoot are read; the results name their model and data).
func DINOv2ResultsPath(opts DINOv2Options) (string, error) {
	root, err := opts.cacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "results.json"), nil
}

// RunDINOv2AndSave runs RunDINOv2 and saves its results (DINOv2ResultsPath), so that later
// notebook cells read them with ReadDINOv2Results.
func RunDINOv2AndSave(b backends.Backend, opts DINOv2Options, progress io.Writer) (*DINOv2Results, string, error) {
	res, err := RunDINOv2(b, opts, progress)
	if err != nil {
		return nil, "", err
	}
	path, err := DINOv2ResultsPath(opts)
	if err != nil {
		return nil, "", err
	}
	return res, path, writeJSONAtomic(path, res)
}

// ReadDINOv2Results reads results saved by RunDINOv2AndSave.
func ReadDINOv2Results(path string) (*DINOv2Results, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run the experiment first)", err)
	}
	var r DINOv2Results
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// tag is the short model name figure titles carry.
func (r *DINOv2Results) tag() string {
	if r.RealWeights {
		return strings.TrimPrefix(r.ModelNote, "DINOv2 facebook/")
	}
	return "tiny random ckpt, not DINOv2"
}

// raptorRun returns the run with K blocks, or nil.
func (r *DINOv2Results) raptorRun(k int) *DINOv2RaptorRun {
	for i := range r.Raptor {
		if r.Raptor[i].K == k {
			return &r.Raptor[i]
		}
	}
	return nil
}

// retrainedFraction is Raptor's retrained-probe accuracy over the teacher's probe accuracy.
func (r *DINOv2Results) retrainedFraction(run *DINOv2RaptorRun) (float64, bool) {
	if run.Retrained == nil || r.Probe.TestAccuracy <= 0 {
		return 0, false
	}
	return run.Retrained.TestAccuracy / r.Probe.TestAccuracy, true
}

// Figures builds every figure of notebook 02 from the results.
func (r *DINOv2Results) Figures() ([]NamedFigure, error) {
	var out []NamedFigure
	origin := r.Origin()

	// Similarity matrix with the contiguous max-cut boundaries for each K.
	tiles, err := phaseTiles(r.Similarity, r.Phases)
	if err != nil {
		return nil, err
	}
	var maps []*plot.Plot
	for _, t := range tiles {
		p, err := figures.Heatmap(t.M, figures.HeatmapOptions{Title: t.Title, OneBased: true, Boundaries: t.Boundaries, ColorBarLabel: "1 − cos"})
		if err != nil {
			return nil, err
		}
		maps = append(maps, p)
	}
	var parts []string
	for _, rep := range r.Phases {
		if rep.K < 2 {
			continue
		}
		bis := "no bisection threshold gives this K"
		if rep.Bisection != nil {
			bis = "released bisection: " + rep.Bisection.String()
		}
		parts = append(parts, fmt.Sprintf("K=%d contiguous %s (%s; block index %.3f vs smooth drift %.3f)", rep.K, rep.Contiguous, bis, rep.BlockIndex, rep.DriftBlockIndex))
	}
	if len(maps) > 0 {
		maps[0].Title.Text += " · " + r.tag()
		out = append(out, NamedFigure{Name: "02_similarity_maxcut", Figure: figures.Panel(len(maps), maps...),
			W: vg.Length(len(maps)) * 9 * vg.Centimeter, H: 9 * vg.Centimeter,
			Caption: fmt.Sprintf("Layer-layer dissimilarity of the teacher's blocks 1..%d (CLS + mean patch, 1 − cos, averaged over the %d test images); red dashed lines: optimal contiguous max-cut boundaries. %s. %s",
				r.Depth, r.Plan.TestImages, strings.Join(parts, "; "), origin)})
	}

	// Raptor accuracy as a fraction of the teacher's, per K.
	var cats []string
	frozen := figures.BarGroup{Label: "teacher's probe on Raptor"}
	retrained := figures.BarGroup{Label: "probe retrained on Raptor"}
	hasRetrained := true
	for _, run := range r.Raptor {
		if run.K < 2 {
			continue
		}
		cats = append(cats, fmt.Sprintf("K=%d", run.K))
		frozen.Values = append(frozen.Values, 100*run.FractionOfTeacher)
		f, ok := r.retrainedFraction(&run)
		hasRetrained = hasRetrained && ok
		retrained.Values = append(retrained.Values, 100*f)
	}
	if len(cats) > 0 {
		groups := []figures.BarGroup{frozen}
		if hasRetrained {
			groups = append(groups, retrained)
		}
		out = append(out, NamedFigure{Name: "02_accuracy_vs_k", W: 14 * vg.Centimeter, H: 10 * vg.Centimeter,
			Figure: figures.Bars("Raptor vs teacher, linear probe ("+r.tag()+")", "Raptor blocks", "% of the teacher's probe accuracy", cats, groups...),
			Caption: fmt.Sprintf("Raptor's top-1 accuracy as a percentage of the teacher's (%.1f%%), with a linear probe on [CLS, mean patch] of the final-LayerNormed output (paper Fig. 5 / Table 2): the probe trained on the teacher's train features, and a probe retrained on Raptor's. %s",
				100*r.Probe.TestAccuracy, origin)})
	}

	// R² per layer and token group.
	groupNames := []struct {
		col  int
		name string
	}{{ColCLS, "CLS"}, {ColRegisters, "register"}, {ColPatches, "patch"}}
	var r2plots []*plot.Plot
	clipped := false
	for _, g := range groupNames {
		if g.col == ColRegisters && r.Layout.NumRegisters == 0 {
			continue
		}
		var series []figures.Series
		for _, run := range r.Raptor {
			s := figures.Series{Label: fmt.Sprintf("Raptor K=%d", run.K)}
			for l, row := range run.Result.R2 {
				v := row[g.col]
				if v < -1 {
					v, clipped = -1, true
				}
				s.X, s.Y = append(s.X, float64(l+1)), append(s.Y, v)
			}
			series = append(series, s)
		}
		if len(r.Raptor) > 0 && r.Raptor[0].Result.CopyR2 != nil {
			s := figures.Series{Label: "copy a_0 (baseline)"}
			for l, row := range r.Raptor[0].Result.CopyR2 {
				v := row[g.col]
				if v < -1 {
					v, clipped = -1, true
				}
				s.X, s.Y = append(s.X, float64(l+1)), append(s.Y, v)
			}
			series = append(series, s)
		}
		title := g.name + " tokens"
		if len(r2plots) == 0 {
			title += " · " + r.tag()
		} else {
			for i := range series { // one legend, on the first tile: the series are the same
				series[i].Label = ""
			}
		}
		r2plots = append(r2plots, figures.Lines(title, "layer", "R² vs teacher", series...))
	}
	// A common y range, with room above R² = 1 for the legend.
	lo := 0.0
	for _, p := range r2plots {
		lo = math.Min(lo, p.Y.Min)
	}
	// Labelled ticks from the bottom up to R² = 1 only (the space above is the legend's).
	step := 2.0
	for _, c := range []float64{0.1, 0.2, 0.25, 0.5, 1} {
		if (1-lo)/c <= 6 {
			step = c
			break
		}
	}
	var ticks plot.ConstantTicks
	for v := math.Ceil(lo/step-1e-9) * step; v <= 1+1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.4g", v+0)})
	}
	upToOne := ticks
	for _, p := range r2plots {
		p.Y.Min, p.Y.Max = lo, 1+0.4*(1-lo)
		p.Y.Tick.Marker = upToOne
	}
	if len(r2plots) > 0 && len(r.Raptor) > 0 {
		note := ""
		if clipped {
			note = " Values below −1 are drawn at −1."
		}
		out = append(out, NamedFigure{Name: "02_r2_per_layer", Figure: figures.Panel(len(r2plots), r2plots...),
			W: vg.Length(len(r2plots)) * 10 * vg.Centimeter, H: 9 * vg.Centimeter,
			Caption: fmt.Sprintf("R² between Raptor's and the teacher's hidden states at every layer, per token group, Raptor rolled out from a_0 on the test images; the baseline copies a_0 to every layer.%s %s", note, origin)})
	}

	// Layer swap.
	if len(r.Swaps) > 0 {
		find := func(kind string, n int) *SwapRun {
			for i := range r.Swaps {
				if r.Swaps[i].Kind == kind && r.Swaps[i].N == n {
					return &r.Swaps[i]
				}
			}
			return nil
		}
		groups := []figures.BarGroup{{Label: "no swap"}, {Label: "intra-phase"}, {Label: "inter-phase"}}
		var cats []string
		for n := 1; n <= 3; n++ {
			in, ex := find("intra", n), find("inter", n)
			if in == nil || ex == nil {
				continue
			}
			cats = append(cats, fmt.Sprintf("%d layer(s)", n))
			mi, si := meanStd(in.Accuracy)
			me, se := meanStd(ex.Accuracy)
			si, se = zeroIfNaN(si), zeroIfNaN(se) // one draw has no sample σ: drawn as a bare bar
			groups[0].Values, groups[0].Err = append(groups[0].Values, 100*in.Teacher), append(groups[0].Err, 0)
			groups[1].Values, groups[1].Err = append(groups[1].Values, 100*mi), append(groups[1].Err, 100*si)
			groups[2].Values, groups[2].Err = append(groups[2].Values, 100*me), append(groups[2].Err, 100*se)
		}
		if len(cats) > 0 {
			out = append(out, NamedFigure{Name: "02_layer_swap", W: 15 * vg.Centimeter, H: 10 * vg.Centimeter,
				Figure: figures.Bars("Layer swap without training ("+r.tag()+")", "layers replaced", "probe top-1 accuracy (%)", cats, groups...),
				Caption: fmt.Sprintf("Teacher accuracy (its linear probe, unchanged) when 1-3 layers run the weights of another layer of the same max-cut phase (intra) or of another phase (inter), phases of K=%d; mean ± sample std (n − 1; none for a single draw) over %d random draws (paper Fig. 15). %s",
					r.SwapK, r.Plan.SwapTrials, origin)})
		}
	}
	return out, nil
}

// ProbeTable is the paper's Table 2 for this run, as markdown: classification probe (absolute and
// as % of the teacher), the retrained probe, and the dense probes (or why they did not run).
func (r *DINOv2Results) ProbeTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| Model | blocks (params) | probe top-1 | %% of teacher | retrained probe top-1 | R² last layer (all tokens) | ADE20k mIoU | NYUv2 RMSE |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	dense := func(model, task string) string {
		for _, d := range r.Dense {
			if d.Model == model && d.Task == task {
				if d.Run {
					return fmt.Sprintf("%.3f", d.Value)
				}
				return "not run"
			}
		}
		return "not run"
	}
	fmt.Fprintf(&b, "| teacher (%s) | %d (%s) | %.1f%% | 100%% | — | 1 | %s | %s |\n", r.tag(), r.Depth, humanCount(r.teacherParams()),
		100*r.Probe.TestAccuracy, dense("teacher", "ADE20k mIoU"), dense("teacher", "NYUv2 RMSE"))
	for _, run := range r.Raptor {
		name := fmt.Sprintf("Raptor K=%d", run.K)
		re := "—"
		if run.Retrained != nil {
			re = fmt.Sprintf("%.1f%%", 100*run.Retrained.TestAccuracy)
		}
		last := "—"
		if n := len(run.Result.R2); n > 0 {
			last = fmt.Sprintf("%.3f", run.Result.R2[n-1][ColAll])
		}
		fmt.Fprintf(&b, "| %s %s | %d (%s) | %.1f%% | %.1f%% | %s | %s | %s | %s |\n", name, run.Partition, run.K, humanCount(run.RaptorParams),
			100*run.Result.Accuracy, 100*run.FractionOfTeacher, re, last, dense(name, "ADE20k mIoU"), dense(name, "NYUv2 RMSE"))
	}
	fmt.Fprintf(&b, "\n*%s Probe: softmax regression on [CLS, mean patch] of the final-LayerNormed output, trained on %d train images, scored on %d test images. Dense probes: %s.*\n",
		r.Origin(), r.Probe.TrainImages, r.Probe.TestImages, r.DenseNote)
	return b.String()
}

func (r *DINOv2Results) teacherParams() int {
	if len(r.Raptor) > 0 {
		return r.Raptor[0].TeacherParams
	}
	return 0
}

// humanCount writes a parameter count as 1.2k / 3.4M.
func humanCount(n int) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// Conclusion states, from the numbers, what this run says about the paper's DINOv2 claims.
func (r *DINOv2Results) Conclusion() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Computed from this run** (scale `%s`). %s\n\n", r.Scale, r.Origin())
	if !r.RealWeights {
		b.WriteString("*No real DINOv2 weights were cached, so the teacher is a random network in DINOv2's layout: these numbers check the pipeline, not the paper's claims.*\n\n")
	} else if r.Scale == "smoke" {
		b.WriteString("*Smoke scale: a handful of images and training steps; these numbers check the pipeline, not the science.*\n\n")
	}
	fmt.Fprintf(&b, "- Teacher activations: %d images at %.1f img/s on %s (%s of cache).\n", r.Extraction.Images, r.Extraction.ImagesPerSec, r.Extraction.Backend, humanBytes(r.Extraction.CacheBytes))
	fmt.Fprintf(&b, "- Teacher linear probe: %.1f%% test top-1 (%.1f%% on its train images, %d classes).\n", 100*r.Probe.TestAccuracy, 100*r.Probe.TrainAccuracy, r.Probe.Classes)
	for _, rep := range r.Phases {
		if rep.K < 2 {
			continue
		}
		verdict := "no drift null test"
		if rep.Null != nil {
			verdict = fmt.Sprintf("warped-drift null: %s (jump share %.3f, p=%.3g, %d replicates) → phases beyond drift %s", rep.Null.Verdict, rep.Null.Stat, rep.Null.P, rep.Null.Replicates, nullVerdict(rep.Null))
		}
		same := "the released bisection finds no threshold for this K"
		if rep.Bisection != nil {
			if rep.Bisection.Canonical().String() == rep.Contiguous.Canonical().String() {
				same = "the released bisection agrees"
			} else {
				same = "the released bisection gives " + rep.Bisection.String()
				if !rep.BisectionContiguous {
					same += ", not contiguous"
				}
			}
		}
		fmt.Fprintf(&b, "- K=%d contiguous max-cut phases %s (%s; Raptor is fit on %s by %s; block index %.3f; %s).\n", rep.K, rep.Contiguous, same, usedPartition(rep), rep.UsedMethod, rep.BlockIndex, verdict)
	}
	var prev *DINOv2RaptorRun
	for i := range r.Raptor {
		run := &r.Raptor[i]
		line := fmt.Sprintf("- Raptor K=%d (%s parameters, %.0f%% of the teacher's blocks): %.1f%% with the teacher's probe = %.0f%% of the teacher",
			run.K, humanCount(run.RaptorParams), 100*float64(run.RaptorParams)/math.Max(1, float64(run.TeacherParams)), 100*run.Result.Accuracy, 100*run.FractionOfTeacher)
		if f, ok := r.retrainedFraction(run); ok {
			line += fmt.Sprintf("; %.1f%% (%.0f%%) with a probe retrained on Raptor", 100*run.Retrained.TestAccuracy, 100*f)
		}
		line += fmt.Sprintf("; mean R² over layers: CLS %.3f, patches %.3f (copying a_0: %.3f)", meanR2(run.Result.R2, ColCLS), meanR2(run.Result.R2, ColPatches), meanR2(run.Result.CopyR2, ColPatches))
		if prev != nil {
			line += fmt.Sprintf("; %+.1f points over K=%d", 100*(run.Result.Accuracy-prev.Result.Accuracy), prev.K)
		}
		b.WriteString(line + ".\n")
		prev = run
	}
	if len(r.Raptor) >= 3 {
		var steps []string
		var gains []float64
		for i := 1; i < len(r.Raptor); i++ {
			a, c := r.Raptor[i-1], r.Raptor[i]
			g := 100 * (c.Result.Accuracy - a.Result.Accuracy)
			gains = append(gains, g)
			steps = append(steps, fmt.Sprintf("K=%d→%d %+.1f points (mean R² all tokens %.3f → %.3f)", a.K, c.K, g,
				meanR2(a.Result.R2, ColAll), meanR2(c.Result.R2, ColAll)))
		}
		verdict := "does not match the paper's accuracy pattern (a large first gain, then saturation)"
		if gains[0] > 0 && gains[len(gains)-1] < gains[0] {
			verdict = "matches the paper's accuracy pattern (a large first gain, then saturation)"
		}
		fmt.Fprintf(&b, "- Adding blocks: %s; this %s.\n", strings.Join(steps, ", "), verdict)
	}
	if len(r.Raptor) > 0 {
		best := r.Raptor[len(r.Raptor)-1]
		lo, hi := 0, 0
		for l, row := range best.Result.R2 {
			if row[ColAll] < best.Result.R2[lo][ColAll] {
				lo = l
			}
			if row[ColAll] > best.Result.R2[hi][ColAll] {
				hi = l
			}
		}
		fmt.Fprintf(&b, "- R² profile of K=%d (all tokens): highest at layer %d (%.3f), lowest at layer %d (%.3f).\n", best.K, hi+1, best.Result.R2[hi][ColAll], lo+1, best.Result.R2[lo][ColAll])
	}
	if len(r.Swaps) > 0 {
		mi, me := swapMeans(r.Swaps)
		verdict := "intra-phase swaps keep more accuracy than inter-phase swaps, as in the paper"
		if mi <= me {
			verdict = "intra-phase swaps do not keep more accuracy than inter-phase swaps"
		}
		fmt.Fprintf(&b, "- Layer swap (K=%d phases, teacher %.1f%%): intra-phase %.1f%%, inter-phase %.1f%% on average: %s.\n", r.SwapK, 100*r.Swaps[0].Teacher, 100*mi, 100*me, verdict)
	}
	fmt.Fprintf(&b, "- Dense probes: %s.\n", r.DenseNote)
	return b.String()
}

// humanBytes writes a byte count in MB or GB.
func humanBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// zeroIfNaN maps the undefined σ of a single value to 0 for drawing.
func zeroIfNaN(x float64) float64 {
	if x != x {
		return 0
	}
	return x
}

// usedPartition is the phases Raptor is fit on (older reports without Used: the contiguous DP).
func usedPartition(rep PhaseReport) phases.Partition {
	if rep.Used != nil {
		return rep.Used
	}
	return rep.Contiguous
}

// nullReplicates is the warped-drift test's replicates at the plan's scale.
func (p DINOv2Plan) nullReplicates() int {
	if p.Scale == notebook.Smoke {
		return 9
	}
	return 99
}

// dinov2RaptorDir is the folder of the Raptor fit of a phase report (named by its phases, so a
// fit on other phases is never reused).
func dinov2RaptorDir(run string, rep PhaseReport) string {
	return filepath.Join(run, fmt.Sprintf("raptor-k%d-%s", rep.K, slug(usedPartition(rep).String())))
}
