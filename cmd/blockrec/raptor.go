package main

import (
	stdctx "context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/recipes"
	"github.com/blockrec/blockrec/lib/vit"
)

func init() {
	register("raptor", "distil a trained ViT into Raptor (cache, stage 1, stage 2, evaluation; resumable)", runRaptor)
}

func runRaptor(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("raptor", "--teacher DIR --out DIR (--k K | --thresholds T,... | --partition \"P ...\") [flags]",
		"Distils a train-vit teacher into Raptor: caches its states, fits stage 1 and stage 2 and evaluates.\n"+
			"Rerun the same command to resume; a folder made with other settings is refused.", stderr)
	teacherDir := fs.String("teacher", "", "train-vit run folder of the teacher (result.json, checkpoints/)")
	out := fs.String("out", "", "output folder (caches, stage checkpoints, result.json); rerun to resume")
	dataset := fs.String("data", "auto", "data set the teacher was trained on: auto, cifar100, cifar10, standin, synthetic")
	k := fs.Int("k", 0, "number of blocks; phases from the contiguous max-cut of the teacher's similarity matrix (k=1: one block)")
	thresholds := fs.String("thresholds", "", "phase thresholds, e.g. 7,10 (block i serves layers t <= threshold_i)")
	partition := fs.String("partition", "", "phases as 1-based layer lists, e.g. \"1,4,6 2,3 5\" (any partition, e.g. a random baseline)")
	stages := fs.String("stages", "1,2", "stages to run: 1, 2 or 1,2")
	steps1 := fs.Int("stage1-steps", 1000, "steps of each stage-1 block")
	steps2 := fs.Int("stage2-steps", 1000, "steps of stage 2")
	batch := fs.Int("batch", 64, "images per step")
	lr := fs.Float64("lr", 3e-4, "peak learning rate (cosine to 1e-6, warm-up 3.2% as in the paper)")
	mode := fs.String("mode", "annealed", "stage-1 objective: annealed (TF→AR), tf or ar")
	anneal := fs.Float64("anneal", 0.25, "fraction of stage-1 steps over which λ decays 1→0")
	noDepth := fs.Bool("no-depth-scaling", false, "disable depth scaling")
	plain := fs.Bool("plain-mse", false, "plain MSE everywhere instead of the token-group weighting")
	mlp := fs.String("mlp", "swiglu", "Raptor MLP: swiglu or gelu")
	lsInit := fs.Float64("layerscale", 1e-5, "LayerScale init (0 disables)")
	trainImages := fs.Int("train-images", 10000, "training images whose teacher states are cached (0: all)")
	valImages := fs.Int("val-images", 2000, "test images for evaluation (0: all)")
	dtype := fs.String("dtype", "float32", "cache storage: float32 or float16")
	seed := fs.Int64("seed", 1, "seed of initialisation and data order")
	if code, done := parseFlags(fs, args, 0, stdout); done {
		return code
	}
	fail := func(code int, err error) int { commandError(stderr, "raptor", err); return code }
	if *teacherDir == "" || *out == "" {
		return fail(2, errors.New("--teacher and --out are required"))
	}
	if err := checkFlags(fs,
		flagRule{"k", *k >= 0, "a whole number >= 1 (or leave it out)"},
		flagRule{"stage1-steps", *steps1 >= 0, "a whole number >= 0"},
		flagRule{"stage2-steps", *steps2 >= 0, "a whole number >= 0"},
		flagRule{"batch", *batch > 0, "a whole number > 0"},
		flagRule{"lr", positive(*lr), "a finite number > 0"},
		flagRule{"anneal", nonNegative(*anneal) && *anneal <= 1, "a number in [0, 1]"},
		flagRule{"layerscale", nonNegative(*lsInit), "a finite number >= 0 (0 disables)"},
		flagRule{"train-images", *trainImages >= 0, "a whole number >= 0 (0: all)"},
		flagRule{"val-images", *valImages >= 0, "a whole number >= 0 (0: all)"},
	); err != nil {
		return fail(2, err)
	}
	if *stages != "1" && *stages != "2" && *stages != "1,2" {
		return fail(2, fmt.Errorf("--stages %q: must be 1, 2 or 1,2", *stages))
	}
	runMode, err := raptor.ParseMode(*mode)
	if err != nil {
		return fail(2, err)
	}
	if *dtype != "float32" && *dtype != "float16" {
		return fail(2, fmt.Errorf("unknown --dtype %q", *dtype))
	}
	kind, err := kindFromFlag(*dataset)
	if err != nil {
		return fail(2, err)
	}
	var mlpKind vit.MLPKind
	switch *mlp {
	case "gelu":
		mlpKind = vit.MLPGELU
	case "swiglu":
		mlpKind = vit.MLPSwiGLU
	default:
		return fail(2, fmt.Errorf("unknown --mlp %q", *mlp))
	}
	choice, err := parsePhaseFlags(*k, *thresholds, *partition)
	if err != nil {
		return fail(2, err)
	}

	t, err := recipes.LoadTrainedViT(*teacherDir)
	if err != nil {
		return fail(1, err)
	}
	b, err := backend.New()
	if err != nil {
		return fail(1, err)
	}
	splits, err := data.Open(stdctx.Background(), data.Options{Only: kind, Logf: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }})
	if err != nil {
		return fail(1, err)
	}
	trainSet, valSet := splits.Train, splits.Test
	if *trainImages > 0 && *trainImages < trainSet.Len() {
		trainSet = trainSet.Subset(*trainImages, uint64(*seed))
	}
	if *valImages > 0 && *valImages < valSet.Len() {
		valSet = valSet.Subset(*valImages, uint64(*seed)+1)
	}
	p, err := choice.resolve(b, t, trainSet)
	if err != nil {
		return fail(2, err)
	}
	spec := recipes.DefaultRaptorSpec(p, 0, 0)
	if strings.Contains(*stages, "1") {
		spec.Stage1Steps = *steps1
	}
	if strings.Contains(*stages, "2") {
		spec.Stage2Steps = *steps2
	}
	spec.Batch, spec.LR, spec.Mode, spec.Anneal, spec.Seed = *batch, *lr, runMode, *anneal, *seed
	spec.DepthScaling, spec.PlainMSE, spec.LayerScale, spec.MLP = !*noDepth, *plain, *lsInit, mlpKind
	// The folder records everything that shapes its caches, checkpoints and result: a rerun with
	// other settings is refused rather than handed the old result or the old stage checkpoints.
	teacherAbs, err := filepath.Abs(*teacherDir)
	if err != nil {
		return fail(1, err)
	}
	record := raptorRunSpec{Teacher: teacherAbs, Dataset: splits.Name(), TrainImages: trainSet.Len(), ValImages: valSet.Len(),
		CacheDType: *dtype, Phases: p.String(), Stage1Steps: spec.Stage1Steps, Stage2Steps: spec.Stage2Steps,
		Batch: spec.Batch, LR: spec.LR, Mode: *mode, Anneal: spec.Anneal, DepthScaling: spec.DepthScaling,
		PlainMSE: spec.PlainMSE, MLP: string(spec.MLP), LayerScale: spec.LayerScale, Seed: spec.Seed}
	if err := recipes.ClaimSpec(filepath.Join(*out, "spec.json"), record); err != nil {
		return fail(1, err)
	}
	fmt.Fprintf(stderr, "blockrec raptor: teacher %s (%d layers, dim %d), phases %s\n", *teacherDir, t.Model.Config.Depth, t.Model.Config.Dim, p)
	caches, err := recipes.ComputeTeacherCaches(b, t, trainSet, valSet, *out, raptor.CacheDType(*dtype), stderr)
	if err != nil {
		return fail(1, err)
	}
	res, err := recipes.FitRaptor(b, t, caches, spec, *out, stderr)
	if err != nil {
		return fail(1, err)
	}
	last := res.R2[len(res.R2)-1][recipes.ColAll]
	fmt.Fprintf(stdout, "raptor k=%d %s | accuracy %.4f (teacher %.4f) | last-layer R² %.4f | %s\n", res.K, res.Partition,
		res.Accuracy, res.TeacherAccuracy, last, *out)
	return 0
}

// raptorRunSpec is what a raptor output folder was made with (its spec.json).
type raptorRunSpec struct {
	Teacher      string  `json:"teacher"` // absolute path of the teacher's run folder
	Dataset      string  `json:"dataset"`
	TrainImages  int     `json:"train_images"` // images actually cached
	ValImages    int     `json:"val_images"`
	CacheDType   string  `json:"cache_dtype"`
	Phases       string  `json:"phases"` // 1-based, as printed
	Stage1Steps  int     `json:"stage1_steps"`
	Stage2Steps  int     `json:"stage2_steps"`
	Batch        int     `json:"batch"`
	LR           float64 `json:"lr"`
	Mode         string  `json:"mode"`
	Anneal       float64 `json:"anneal"`
	DepthScaling bool    `json:"depth_scaling"`
	PlainMSE     bool    `json:"plain_mse"`
	MLP          string  `json:"mlp"`
	LayerScale   float64 `json:"layerscale"`
	Seed         int64   `json:"seed"`
}

// phaseChoice is what --k, --thresholds or --partition asked for (exactly one is set), read
// before anything is loaded; resolve turns it into phases of the teacher's layers.
type phaseChoice struct {
	k          int
	thresholds []int
	partition  phases.Partition // 0-based layers
}

// parsePhaseFlags checks that exactly one of --k, --thresholds and --partition is given and reads
// the lists.
func parsePhaseFlags(k int, thresholds, partition string) (phaseChoice, error) {
	set := 0
	for _, s := range []bool{k > 0, thresholds != "", partition != ""} {
		if s {
			set++
		}
	}
	if set != 1 {
		return phaseChoice{}, errors.New("give exactly one of --k, --thresholds, --partition")
	}
	c := phaseChoice{k: k}
	for _, field := range strings.Fields(partition) {
		var phase []int
		for _, s := range strings.Split(field, ",") {
			v, err := strconv.Atoi(s)
			if err != nil {
				return phaseChoice{}, fmt.Errorf("--partition %q: %w", partition, err)
			}
			phase = append(phase, v-1)
		}
		c.partition = append(c.partition, phase)
	}
	if partition != "" && len(c.partition) == 0 {
		return phaseChoice{}, fmt.Errorf("--partition %q: no phases", partition)
	}
	if thresholds != "" {
		for _, s := range strings.Split(thresholds, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return phaseChoice{}, fmt.Errorf("--thresholds %q: %w", thresholds, err)
			}
			c.thresholds = append(c.thresholds, v)
		}
	}
	return c, nil
}

// resolve returns the phases of the teacher's layers: the partition or thresholds as given
// (checked against the teacher's depth), else the contiguous max-cut of the teacher's
// similarity matrix on up to 1000 images of ds.
func (c phaseChoice) resolve(b backends.Backend, t *recipes.TrainedViT, ds *data.Dataset) (phases.Partition, error) {
	depth := t.Model.Config.Depth
	switch {
	case c.partition != nil:
		return c.partition, c.partition.Validate(depth)
	case c.thresholds != nil:
		return phases.FromThresholds(c.thresholds, depth)
	case c.k == 1:
		return phases.FromThresholds(nil, depth)
	}
	w, err := recipes.Similarity(b, t, ds, min(1000, ds.Len()))
	if err != nil {
		return nil, err
	}
	r, err := phases.Contiguous(w, c.k)
	if err != nil {
		return nil, err
	}
	return r.Partition, nil
}
