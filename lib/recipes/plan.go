package recipes

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/vit"
)

// CIFARPlan sizes the CIFAR experiment (notebook 01) and the teachers that notebook 03 analyses,
// for one scale. Every number that decides how much compute a run spends lives here.
type CIFARPlan struct {
	Scale   notebook.Level
	Model   vit.Config // teacher architecture (classes filled in from the dataset)
	SDRates []float64  // uniform stochastic-depth rates of the teacher sweep
	Epochs  float64    // teacher training epochs
	// NoAugment trains the teachers on the plain images (no random crop or flip). Augmentation
	// pays off over long training; over 3 epochs it costs accuracy (see CIFARPlanFor).
	NoAugment         bool
	BatchSize         int
	TrainImages       int // 0: the whole training split
	TestImages        int // 0: the whole test split
	ProbeImages       int // images for similarity matrices and dynamics
	EvalLimit         int // test images Raptor, swaps and controls are scored on (EvalImages)
	Ks                []int
	RaptorSteps       int // stage-1 steps per block (stage 2 gets the same)
	RaptorTrainImages int // teacher-activation cache size
	RaptorBatch       int
	RaptorLR          float64
	// RaptorLayerScale is the initial LayerScale of Raptor's blocks. The paper uses 1e-5 for
	// 312,500 steps; runs of a few hundred steps start at 0.1 so the blocks can move at all.
	RaptorLayerScale float64
	RaptorSeeds      int // Raptor seeds per teacher and K (0 means 1)
	// RaptorSweepSDs are the rates whose first teacher gets Raptor at every K of Ks (nil: every
	// rate); the other rates get RaptorOtherKs only (nil: every K).
	RaptorSweepSDs []float64
	RaptorOtherKs  []int
	// AblationK, when positive, runs the recipe ablation of the paper's Table 1 at this K on the
	// first rate's teacher (AblationSeeds seeds, 0 means 1): teacher forcing only, + annealing
	// to autoregressive, + depth scaling, + CLS weighting, + stage 2 (the full recipe).
	AblationK     int
	AblationSeeds int
	// TeacherSeeds is the number of teachers trained per SD rate (0 means 1), differing in the
	// seed of initialisation, batch order and DropPath; Raptor, swaps and baselines use seed 1,
	// the teacher-level claims (accuracy, block structure) all of them.
	TeacherSeeds int
	// BaselineDraws is the number of random contiguous partitions per K when there are more
	// than phases.MaxEnumerated (else every one is fit); at least 10.
	BaselineDraws int
	// BaselineMax, when positive, caps the contiguous partitions fit per K (smoke only: the
	// results then say the baselines are not exhaustive).
	BaselineMax      int
	BaselineShuffles int   // random shuffled partitions per K
	BaselineKs       []int // the K compared with random phases
	// BaselineSDs are the rates whose first teacher is compared with random phases (nil: the
	// middle rate, BaselineSD).
	BaselineSDs []float64
	// BaselineSteps, when positive, is a shorter recipe (stage-1 steps per block and stage-2
	// steps) for the random-phase comparison; the max-cut phases are then fit again with it, so
	// both sides of the comparison share one recipe.
	BaselineSteps int
	DynamicsSD    float64 // the teacher notebook 03 analyses
	// PhaseMethod picks the phases Raptor is fit on: MethodBisection (the released solver,
	// the default) or MethodDP.
	PhaseMethod    string
	PhaseBootstrap int  // bootstrap replicates over probe images for phase stability
	NullReplicates int  // replicates of the warped-drift null test
	SwapAllSD      bool // single swaps on every teacher (else the lowest and highest rate)
	SwapFirstOnly  bool // single swaps on the lowest rate only (smoke: each swap compiles a graph)
	// Sized lists what SizedTo cut to fit the data set found (empty: the plan as designed).
	Sized []string
}

// CIFARPlanFor returns the plan of a scale.
func CIFARPlanFor(level notebook.Level) CIFARPlan {
	switch level {
	case notebook.Smoke:
		m := vit.Tiny(0)
		m.Dim, m.Depth, m.Heads, m.MLPHidden = 32, 6, 2, 64
		return CIFARPlan{Scale: level, Model: m, SDRates: []float64{0, 0.5}, Epochs: 1, BatchSize: 32,
			TrainImages: 512, TestImages: 256, ProbeImages: 64, Ks: []int{1, 2, 3}, RaptorSteps: 20,
			// Every K on the first rate, K=2 on the other (the cpu plan's layout; each fit
			// compiles its own graphs, seconds each on XLA).
			RaptorSweepSDs: []float64{0}, RaptorOtherKs: []int{2},
			RaptorTrainImages: 128, RaptorBatch: 32, RaptorLR: 1e-3, RaptorLayerScale: 0.1,
			// Few baselines: smoke checks code paths, and on XLA every Raptor fit pays for
			// compiling its graphs (seconds each).
			BaselineDraws: 10, BaselineMax: 2, BaselineShuffles: 1, BaselineKs: []int{2}, DynamicsSD: 0,
			PhaseBootstrap: 50, NullReplicates: 9, SwapFirstOnly: true}
	case notebook.Paper:
		m := vit.Small(0)
		m.Depth = 12
		return CIFARPlan{Scale: level, Model: m, SDRates: []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9},
			Epochs: 200, BatchSize: 128, ProbeImages: 2000, Ks: []int{1, 2, 3, 4}, RaptorSteps: 20000,
			RaptorTrainImages: 50000, RaptorBatch: 64, RaptorLR: 3e-4, RaptorLayerScale: 1e-5,
			EvalLimit: 10000, RaptorSeeds: 3, TeacherSeeds: 3, BaselineDraws: 10, BaselineShuffles: 10, BaselineKs: []int{2, 3, 4}, DynamicsSD: 0.5,
			PhaseBootstrap: 1000, NullReplicates: 199, SwapAllSD: true}
	default: // CPU: see cpuPlan.
		return cpuPlan()
	}
}

// SizedTo fits the plan's image counts to the data set found: a count larger than its split is
// cut to the split, and the cut is listed in Sized (the notebooks print it in their first lines),
// so that every scale runs on whatever data a machine has. A data set too small to train on at
// all (fewer training images than one batch, or no test images) is an error that names what is
// missing and how to get better data.
func (p CIFARPlan) SizedTo(splits *data.Splits) (CIFARPlan, error) {
	if splits == nil || splits.Train == nil || splits.Test == nil {
		return p, fmt.Errorf("cifar plan: no data set")
	}
	train, test := splits.Train.Len(), splits.Test.Len()
	if train < p.BatchSize || test < 1 {
		return p, fmt.Errorf("cifar plan (scale %s): %s has %d training and %d test images, the plan needs at least %d and 1; "+
			"put CIFAR-100 in data/ or install the %s package (make data says what is there)",
			p.Scale, splits.Name(), train, test, p.BatchSize, data.FashionMNISTPackage)
	}
	p.Sized = nil
	fit := func(what string, n *int, have int) {
		if *n > have {
			p.Sized = append(p.Sized, fmt.Sprintf("%s %d → %d (all %s has)", what, *n, have, splits.Name()))
			*n = have
		}
	}
	fit("teacher training images", &p.TrainImages, train)
	fit("test images", &p.TestImages, test)
	fit("probe images", &p.ProbeImages, test)
	fit("Raptor training images", &p.RaptorTrainImages, train)
	return p, nil
}

// BaselineSD is the teacher on which max-cut is compared with random phases: the middle rate.
func (p CIFARPlan) BaselineSD() float64 {
	if len(p.SDRates) == 0 {
		return 0
	}
	return p.SDRates[len(p.SDRates)/2]
}

// EvalImages is the number of test images Raptor, layer swaps and the controls are evaluated on:
// EvalLimit, else 1000, and never more than the teachers' test images.
func (p CIFARPlan) EvalImages() int {
	n := p.EvalLimit
	if n <= 0 {
		n = 1000
	}
	if p.TestImages > 0 && p.TestImages < n {
		return p.TestImages
	}
	return n
}

// SwapTrials is the number of random layer orders per swap setting.
func (p CIFARPlan) SwapTrials() int {
	if p.Scale == notebook.Smoke {
		return 2
	}
	return 5
}

// TeacherSpec is the training recipe of the teacher with stochastic-depth rate sd.
func (p CIFARPlan) TeacherSpec(sd float64) ViTSpec { return p.TeacherSpecSeed(sd, 1) }

// TeacherSpecSeed is TeacherSpec for the teacher of the given seed (1, 2, …).
func (p CIFARPlan) TeacherSpecSeed(sd float64, seed int) ViTSpec {
	m := p.Model
	m.DropPath = sd
	spec := DefaultViTSpec(m, p.Epochs)
	spec.BatchSize, spec.TrainImages, spec.TestImages = p.BatchSize, p.TrainImages, p.TestImages
	spec.Augment = !p.NoAugment
	spec.KeepFractions = milestoneFractions
	spec.Seed = int64(seed)
	return spec
}

// TeacherDir is the run folder of a teacher, shared by notebooks 01 and 03 and the command line.
func (p CIFARPlan) TeacherDir(dataset string, sd float64) (string, error) {
	return p.TeacherDirSeed(dataset, sd, 1)
}

// TeacherDirSeed is TeacherDir for the teacher of the given seed (seed 1 is TeacherDir).
func (p CIFARPlan) TeacherDirSeed(dataset string, sd float64, seed int) (string, error) {
	root, err := p.CacheRoot()
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("teacher-%s-sd%.2f", slug(dataset), sd)
	if seed > 1 {
		name += fmt.Sprintf("-seed%d", seed)
	}
	return filepath.Join(root, name), nil
}

// CacheRoot is where this plan's runs live: notebook.CacheBase()/<scale>/cifar ($BLOCKREC_CACHE_DIR or <repo>/data/cache).
func (p CIFARPlan) CacheRoot() (string, error) {
	base, err := notebook.CacheBase()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, string(p.Scale), "cifar"), nil
}

// Teacher trains (or loads) the teacher with rate sd on splits.
func (p CIFARPlan) Teacher(b backends.Backend, splits *data.Splits, sd float64, progress io.Writer) (*TrainedViT, error) {
	return p.TeacherSeed(b, splits, sd, 1, progress)
}

// TeacherSeed trains (or loads) the teacher with rate sd and the given seed.
func (p CIFARPlan) TeacherSeed(b backends.Backend, splits *data.Splits, sd float64, seed int, progress io.Writer) (*TrainedViT, error) {
	dir, err := p.TeacherDirSeed(splits.Name(), sd, seed)
	if err != nil {
		return nil, err
	}
	return TrainViT(b, dir, p.TeacherSpecSeed(sd, seed), splits, progress)
}

// slug makes a dataset name safe for a folder name.
func slug(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			out = append(out, r)
		case r >= 'A' && r <= 'Z':
			out = append(out, r+'a'-'A')
		default:
			if len(out) > 0 && out[len(out)-1] != '-' {
				out = append(out, '-')
			}
		}
	}
	for len(out) > 0 && out[len(out)-1] == '-' {
		out = out[:len(out)-1]
	}
	return string(out)
}
