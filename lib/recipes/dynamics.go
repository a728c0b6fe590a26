package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"gonum.org/v1/plot"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/vit"
)

// GiantRef is the model the paper's dynamics section analyses (DINOv2 ViT-g/14, 40 blocks).
const GiantRef = "facebook/dinov2-giant"

// DynamicsConfig sizes one run of the dynamics analyses (notebook 03).
type DynamicsConfig struct {
	Images               int     `json:"images"`                 // images streamed through every statistic
	SelfCorrectionImages int     `json:"self_correction_images"` // the first of them are also perturbed (2·L partial runs each)
	TrajectoryImages     int     `json:"trajectory_images"`      // the first of them keep their paths for the PCA plot
	Epsilon              float64 `json:"epsilon"`                // relative perturbation norm
	PerturbLayers        []int   `json:"perturb_layers"`         // nil: every layer 0..L
	Ks                   []int   `json:"ks"`                     // phase counts (k ≥ 2) tested against the speed curves
	SummaryK             int     `json:"summary_k"`              // the k whose boundaries enter the Summary
	Permutations         int     `json:"permutations"`           // budget of the boundary permutation test
	TopK                 int     `json:"top_k"`                  // singular values kept per layer
	BatchSize            int     `json:"batch_size"`
	Seed                 uint64  `json:"seed"` // image subset, perturbation directions, permutations
}

// DefaultDynamicsConfig analyses n images (perturbing and tracing min(n, 100) of them) with
// ε = 0.1 at every layer and boundaries of k = 2..4 phases; the Summary uses k = 3.
func DefaultDynamicsConfig(n int) DynamicsConfig {
	return DynamicsConfig{Images: n, SelfCorrectionImages: min(n, 100), TrajectoryImages: min(n, 100), Epsilon: 0.1,
		Ks: []int{2, 3, 4}, SummaryK: 3, Permutations: 10000, TopK: 8, BatchSize: 32, Seed: 1}
}

// DynamicsConfigFor sizes the analysis of a CIFAR plan's teacher: the plan's probe images, its
// phase counts (k ≥ 2).
func DynamicsConfigFor(p CIFARPlan) DynamicsConfig {
	cfg := DefaultDynamicsConfig(p.ProbeImages)
	cfg.Ks = nil
	for _, k := range p.Ks {
		if k >= 2 {
			cfg.Ks = append(cfg.Ks, k)
		}
	}
	return cfg
}

// GiantDynamicsConfig sizes the analysis of DINOv2-giant: a forward pass costs ~0.6 TFLOP per
// 224-px image, so without an accelerator only a handful of images can be perturbed.
func GiantDynamicsConfig(n int) DynamicsConfig {
	cfg := DefaultDynamicsConfig(n)
	cfg.SelfCorrectionImages = min(n, 8)
	cfg.BatchSize = 8
	return cfg
}

func (c DynamicsConfig) validate() error {
	if c.Images <= 0 {
		return fmt.Errorf("dynamics recipe: %d images", c.Images)
	}
	if c.SelfCorrectionImages < 0 || c.TrajectoryImages < 0 || c.SelfCorrectionImages > c.Images || c.TrajectoryImages > c.Images {
		return fmt.Errorf("dynamics recipe: %d perturbed and %d traced images must be within the %d images", c.SelfCorrectionImages, c.TrajectoryImages, c.Images)
	}
	if !(c.Epsilon > 0) {
		return fmt.Errorf("dynamics recipe: epsilon %v must be positive", c.Epsilon)
	}
	for _, k := range c.Ks {
		if k < 2 {
			return fmt.Errorf("dynamics recipe: k=%d: boundaries need at least 2 phases", k)
		}
	}
	return nil
}

// DynamicsSubject is a model under analysis: any lib/vit model with its weights.
type DynamicsSubject struct {
	Name    string           // for captions, e.g. "CPU-trained ViT teacher (…)"
	Version string           // changes whenever the weights change; part of the cache key
	Model   *vit.Model       //
	Ctx     *context.Context // the scope holding the model's variables
	// Prep preprocesses images (resize, crop, normalise); nil feeds them at the dataset's own size,
	// normalised with its own statistics, as the CIFAR teachers were trained.
	Prep *data.Preprocessor
}

// TeacherSubject describes a trained CIFAR teacher.
func TeacherSubject(t *TrainedViT) DynamicsSubject {
	c := t.Model.Config
	name := fmt.Sprintf("CPU-trained ViT teacher (dim %d, %d blocks, patch %d, SD %.2f, %.1f%% test acc.)",
		c.Dim, c.Depth, c.PatchSize, c.DropPath, 100*t.Result.TestAccuracy)
	return DynamicsSubject{Name: name, Version: fmt.Sprintf("%s steps=%d finished=%s", t.Dir, t.Result.Steps, t.Result.Finished),
		Model: t.Model, Ctx: t.Ctx}
}

// DINOv2Subject installs the weights of a loaded DINOv2 checkpoint in a fresh context; images
// go through prep (data.DINOv2Preprocessor for the real models).
func DINOv2Subject(m *dinov2.Model, prep data.Preprocessor) (DynamicsSubject, error) {
	if prep.Crop%m.Config().PatchSize != 0 {
		return DynamicsSubject{}, fmt.Errorf("dynamics recipe: %s: crop %d is not a multiple of the patch size %d", m.Source, prep.Crop, m.Config().PatchSize)
	}
	ctx := context.New()
	if err := m.Install(ctx.In(dinov2.Scope)); err != nil {
		return DynamicsSubject{}, err
	}
	c := m.Config()
	name := fmt.Sprintf("DINOv2 %s (dim %d, %d blocks, patch %d)", m.Source, c.Dim, c.Depth, c.PatchSize)
	return DynamicsSubject{Name: name, Version: m.Dir, Model: m.ViT, Ctx: ctx.In(dinov2.Scope), Prep: &prep}, nil
}

// LoadDINOv2Subject loads ref (a folder or a hub id, see dinov2.Resolve) as a subject. The error
// wraps dinov2.ErrNotCached when the weights are not available offline.
func LoadDINOv2Subject(ref string, opts dinov2.HubOptions, prep data.Preprocessor) (DynamicsSubject, error) {
	m, err := dinov2.Load(ref, opts)
	if err != nil {
		return DynamicsSubject{}, err
	}
	return DINOv2Subject(m, prep)
}

// imageSize is the side of the images fed to the model.
func (s DynamicsSubject) imageSize(ds *data.Dataset) (h, w int) {
	if s.Prep != nil {
		return s.Prep.Crop, s.Prep.Crop
	}
	return ds.H, ds.W
}

// images returns the images idx of ds, preprocessed for the subject, NHWC float32.
func (s DynamicsSubject) images(ds *data.Dataset, idx []int) ([]float32, error) {
	if s.Prep != nil {
		return s.Prep.Batch(ds, idx, 0)
	}
	n := ds.ImageSize()
	out := make([]float32, len(idx)*n)
	for j, i := range idx {
		data.Normalize(out[j*n:(j+1)*n], ds.Image(i), ds.Stats)
	}
	return out, nil
}

// RunFrom returns a dynamics.RunFrom on the subject for images of h×w pixels: it continues the
// forward pass of one image from the hidden state after block `layer` (0 = embedding output) and
// returns the final hidden state (before the final LayerNorm), compiling one graph per starting
// layer on first use. The function is not safe for concurrent use.
func (s DynamicsSubject) RunFrom(b backends.Backend, h, w int) dynamics.RunFrom {
	path := s.RunPath(b, h, w)
	n := s.Model.Layout(h, w).NumTokens() * s.Model.Config.Dim
	return func(layer int, state []float32) ([]float32, error) {
		if layer == s.Model.Config.Depth && len(state) == n {
			return append([]float32(nil), state...), nil
		}
		p, err := path(layer, state)
		if err != nil {
			return nil, err
		}
		return p[len(p)-n:], nil
	}
}

// RunPath is RunFrom returning every later hidden state: layers layer+1 … L, concatenated
// (nothing for layer = L).
func (s DynamicsSubject) RunPath(b backends.Backend, h, w int) dynamics.RunPath {
	depth := s.Model.Config.Depth
	tokens, dim := s.Model.Layout(h, w).NumTokens(), s.Model.Config.Dim
	execs := make(map[int]*context.Exec)
	return func(layer int, state []float32) ([]float32, error) {
		if layer < 0 || layer > depth {
			return nil, fmt.Errorf("run-from: layer %d outside 0..%d", layer, depth)
		}
		if len(state) != tokens*dim {
			return nil, fmt.Errorf("run-from: state has %d values, want %d tokens × %d dims", len(state), tokens, dim)
		}
		if layer == depth {
			return nil, nil
		}
		exec := execs[layer]
		if exec == nil {
			var err error
			exec, err = context.NewExec(b, s.Ctx, func(ctx *context.Context, x *Node) *Node {
				return Concatenate(s.Model.RunFrom(ctx, layer, x), 0) // (L−layer) × tokens × dim
			})
			if err != nil {
				return nil, fmt.Errorf("run-from layer %d: %w", layer, err)
			}
			execs[layer] = exec
		}
		in := tensors.FromFlatDataAndDimensions(append([]float32(nil), state...), 1, tokens, dim)
		outs, err := exec.Exec(in)
		if err != nil {
			return nil, fmt.Errorf("run-from layer %d: %w", layer, err)
		}
		final := tensors.MustCopyFlatData[float32](outs[0])
		for _, o := range outs {
			o.FinalizeAll()
		}
		in.FinalizeAll()
		return final, nil
	}
}

// dynamicsMethod changes whenever RunDynamics computes something differently, so that results
// cached by an older version are recomputed.
const dynamicsMethod = "3: speed tests on held-out images; angular self-correction along the path; centred stable rank; S-shape test"

// DynamicsKey says what a result was computed from; a cached result is reused only when its key
// equals the requested one.
type DynamicsKey struct {
	Method  string         `json:"method"`
	Subject string         `json:"subject"`
	Version string         `json:"version"`
	Model   vit.Config     `json:"model"`
	Dataset string         `json:"dataset"` // the data set's provenance line
	Split   string         `json:"split"`
	Config  DynamicsConfig `json:"config"`
}

// PhaseBoundaries are the max-cut phases of the subject's own layer dissimilarity matrix for one k.
type PhaseBoundaries struct {
	K int `json:"k"`
	// Thresholds are the boundaries in the dynamics convention: layer b ends a phase, b+1 starts
	// the next (layer i = output of block i).
	Thresholds []int            `json:"thresholds"`
	Partition  phases.Partition `json:"partition"` // over rows 0..L-1 = blocks 1..L
}

// SpeedBoundaryTest is the boundary test of one token group's mean speed for one k.
type SpeedBoundaryTest struct {
	K     int                         `json:"k"`
	Scope dynamics.Scope              `json:"scope"`
	Test  dynamics.BoundaryTestResult `json:"test"`
	Holds bool                        `json:"holds"` // score > 1 and p < 0.05
}

// DynamicsResult is everything notebook 03 plots.
type DynamicsResult struct {
	Key    DynamicsKey   `json:"key"`
	Layout hidden.Layout `json:"layout"`
	// FinalLayer is L: hidden layers are 0 (embedding) … L (output of the last block).
	FinalLayer int `json:"final_layer"`
	// Similarity is the paper's layer dissimilarity (CLS + mean patch), rows = blocks 1..L.
	Similarity  [][]float64                `json:"similarity"`
	Phases      []PhaseBoundaries          `json:"phases"`
	Convergence dynamics.ConvergenceResult `json:"convergence"`
	Speed       dynamics.SpeedResult       `json:"speed"`
	// SplitPhases are the max-cut phases of the dissimilarity matrix of the boundary half of the
	// images only (even stream positions), SpeedHeldOut the speed of the other half (odd
	// positions): the speed tests use one on the other, so that the boundaries are not chosen on
	// the images whose speed they are tested on. Phases and Speed are over all images.
	SplitPhases  []PhaseBoundaries    `json:"split_phases"`
	SpeedHeldOut dynamics.SpeedResult `json:"speed_held_out"`
	// SpeedTests holds the boundary test for every k and token group (held-out, see SplitPhases).
	SpeedTests []SpeedBoundaryTest `json:"speed_tests"`
	// SpeedTestNote says how the speed tests were split, for captions.
	SpeedTestNote string `json:"speed_test_note"`
	// SelfCorrectionCLS perturbs only the CLS token, SelfCorrectionPatches only the patch tokens.
	SelfCorrectionCLS     dynamics.SelfCorrectionResult `json:"self_correction_cls"`
	SelfCorrectionPatches dynamics.SelfCorrectionResult `json:"self_correction_patches"`
	Updates               dynamics.UpdateFieldResult    `json:"updates"`
	// TrajectoriesCLS and TrajectoriesMeanPatch are 2-D PCA paths of unit-normalised tokens, the
	// PCA fitted on all Images, the paths of the first TrajectoryImages.
	TrajectoriesCLS       dynamics.TrajectoryResult `json:"trajectories_cls"`
	TrajectoriesMeanPatch dynamics.TrajectoryResult `json:"trajectories_mean_patch"`
	ClassNames            []string                  `json:"class_names"`
	DatasetName           string                    `json:"dataset_name"` // data.Dataset.Name, for captions
	Summary               dynamics.Summary          `json:"summary"`
	SummaryK              int                       `json:"summary_k"`          // cfg.SummaryK, or the largest k tested when it is not among them
	SummaryBoundaries     []int                     `json:"summary_boundaries"` // the thresholds of SummaryK phases
	// SummaryTestBoundaries are the SummaryK thresholds of SplitPhases, which the Summary's speed
	// claim is tested with (on SpeedHeldOut).
	SummaryTestBoundaries []int   `json:"summary_test_boundaries"`
	Backend               string  `json:"backend"`
	Seconds               float64 `json:"seconds"`
	Finished              string  `json:"finished"`
}

// Boundaries returns the thresholds of k phases, or nil.
func (r *DynamicsResult) Boundaries(k int) []int {
	for _, p := range r.Phases {
		if p.K == k {
			return p.Thresholds
		}
	}
	return nil
}

// RunDynamics streams cfg.Images images of ds (a seeded subset, in a seeded random order, so that
// the first SelfCorrectionImages and TrajectoryImages are a random sample even of a data set
// sorted by class) through the subject once and runs every analysis of the paper's section 7 on them: direction convergence,
// angular speed and its boundary test against the max-cut phases of the same images' layer
// dissimilarity matrix, self-correction (CLS-only and patches-only perturbations on the first
// SelfCorrectionImages), the update field (stable rank, singular values, coherence) and PCA
// trajectories; then the Summary. Only one batch of hidden states is held at a time.
func RunDynamics(b backends.Backend, s DynamicsSubject, ds *data.Dataset, cfg DynamicsConfig, progress io.Writer) (*DynamicsResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	began := time.Now()
	if cfg.Images > ds.Len() {
		return nil, fmt.Errorf("dynamics recipe: %d images requested, %s has %d", cfg.Images, ds.Name, ds.Len())
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	sub := ds.Subset(cfg.Images, cfg.Seed)
	order := rand.New(rand.NewPCG(cfg.Seed, 0x6f72646572)).Perm(sub.Len())
	h, w := s.imageSize(ds)
	layout := s.Model.Layout(h, w)
	L := s.Model.Config.Depth
	for _, k := range cfg.Ks {
		if k > L {
			return nil, fmt.Errorf("dynamics recipe: k=%d phases for a model of %d blocks", k, L)
		}
	}
	run := s.RunPath(b, h, w)

	conv := dynamics.NewConvergence(layout)
	speed := dynamics.NewSpeed(layout)
	sim := phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: layout})
	// The boundary half (even stream positions) chooses the phases the speed of the other half
	// (odd positions) is tested against.
	simBoundary := phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: layout})
	speedHeldOut := dynamics.NewSpeed(layout)
	upd, err := dynamics.NewUpdateField(layout, dynamics.UpdateFieldConfig{TopK: cfg.TopK})
	if err != nil {
		return nil, err
	}
	pcaCLS, err := dynamics.NewPCAFit(layout, dynamics.TrajectoryConfig{Kind: dynamics.TrajectoryCLS, Normalize: true})
	if err != nil {
		return nil, err
	}
	pcaMP, err := dynamics.NewPCAFit(layout, dynamics.TrajectoryConfig{Kind: dynamics.TrajectoryMeanPatch, Normalize: true})
	if err != nil {
		return nil, err
	}
	perturb := func(scope dynamics.Scope) (*dynamics.SelfCorrection, error) {
		return dynamics.NewSelfCorrectionPath(layout, run, dynamics.PerturbConfig{Epsilon: cfg.Epsilon, Tokens: scope,
			Layers: cfg.PerturbLayers, Seed: cfg.Seed})
	}
	scCLS, err := perturb(dynamics.ScopeCLS)
	if err != nil {
		return nil, err
	}
	scPatch, err := perturb(dynamics.ScopePatches)
	if err != nil {
		return nil, err
	}
	// Traced images keep only their CLS and mean-patch paths: a 2-token layout.
	compact := hidden.Layout{NumPatches: 1}
	var traced []*hidden.States
	var labels []int

	ex, err := vit.NewExtractor(b, s.Ctx, s.Model, cfg.BatchSize, nil)
	if err != nil {
		return nil, err
	}
	for start := 0; start < sub.Len(); start += cfg.BatchSize {
		end := min(start+cfg.BatchSize, sub.Len())
		idx := order[start:end]
		imgs, err := s.images(sub, idx)
		if err != nil {
			return nil, fmt.Errorf("dynamics recipe: images %d..%d of the stream: %w", start, end-1, err)
		}
		err = ex.Run(imgs, len(idx), h, w, func(eb *vit.ExtractedBatch) error {
			for i := 0; i < eb.States.Images; i++ {
				id := start + eb.Start + i
				st := eb.States.Image(i)
				if err := dynamics.Feed(st, conv, speed, sim, upd, pcaCLS, pcaMP); err != nil {
					return fmt.Errorf("image %d: %w", id, err)
				}
				half := dynamics.Accumulator(simBoundary)
				if id%2 == 1 {
					half = speedHeldOut
				}
				if err := half.Add(st); err != nil {
					return fmt.Errorf("image %d: %w", id, err)
				}
				if id < cfg.SelfCorrectionImages {
					if err := scCLS.AddWithID(st, uint64(id)); err != nil {
						return fmt.Errorf("image %d: %w", id, err)
					}
					if err := scPatch.AddWithID(st, uint64(id)); err != nil {
						return fmt.Errorf("image %d: %w", id, err)
					}
				}
				if id < cfg.TrajectoryImages {
					traced = append(traced, compactPaths(st, layout))
					labels = append(labels, int(sub.Labels[idx[eb.Start+i]]))
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dynamics recipe: %w", err)
		}
		fmt.Fprintf(progress, "dynamics: %d/%d images (%d perturbed), %.1f s\n", end, sub.Len(),
			min(end, cfg.SelfCorrectionImages), time.Since(began).Seconds())
	}

	r := &DynamicsResult{Layout: layout, FinalLayer: L, Similarity: sim.Matrix(), ClassNames: ds.ClassNames, DatasetName: ds.Name,
		Convergence: conv.Result(), Speed: speed.Result(), Updates: upd.Result(),
		SelfCorrectionCLS: scCLS.Result(), SelfCorrectionPatches: scPatch.Result()}
	split := sub.Len() >= 2
	if split {
		r.SpeedHeldOut = speedHeldOut.Result()
		r.SpeedTestNote = fmt.Sprintf("boundaries from the max-cut phases of %d images (even stream positions), speed tested on the other %d (odd positions)",
			(sub.Len()+1)/2, sub.Len()/2)
	} else {
		r.SpeedTestNote = "no speed tests: a held-out split needs at least 2 images"
	}
	for _, k := range cfg.Ks {
		pb, err := maxCutPhases(r.Similarity, k)
		if err != nil {
			return nil, err
		}
		r.Phases = append(r.Phases, pb)
		if !split {
			continue
		}
		hb, err := maxCutPhases(simBoundary.Matrix(), k)
		if err != nil {
			return nil, err
		}
		r.SplitPhases = append(r.SplitPhases, hb)
		for _, g := range r.SpeedHeldOut.Groups {
			t, err := dynamics.BoundaryTest(g.Means(), hb.Thresholds, cfg.Permutations, cfg.Seed)
			if err != nil {
				return nil, fmt.Errorf("dynamics recipe: held-out speed of %v, k=%d: %w", g.Scope, k, err)
			}
			r.SpeedTests = append(r.SpeedTests, SpeedBoundaryTest{K: k, Scope: g.Scope, Test: t, Holds: t.Score > 1 && t.P < 0.05})
		}
	}
	if r.TrajectoriesCLS, err = project(pcaCLS, compact, traced, labels); err != nil {
		return nil, err
	}
	if r.TrajectoriesMeanPatch, err = project(pcaMP, compact, traced, labels); err != nil {
		return nil, err
	}
	r.SummaryK = cfg.SummaryK
	if r.Boundaries(r.SummaryK) == nil && len(cfg.Ks) > 0 { // not among Ks: the largest k tested
		r.SummaryK = cfg.Ks[len(cfg.Ks)-1]
	}
	r.SummaryBoundaries = r.Boundaries(r.SummaryK)
	for _, p := range r.SplitPhases {
		if p.K == r.SummaryK {
			r.SummaryTestBoundaries = p.Thresholds
		}
	}
	in := dynamics.SummaryInput{Convergence: &r.Convergence, Speed: &r.SpeedHeldOut, Boundaries: r.SummaryTestBoundaries,
		Permutations: cfg.Permutations, Seed: cfg.Seed, Updates: &r.Updates, RankScope: dynamics.ScopeAll}
	if cfg.SelfCorrectionImages > 0 {
		in.CLSPerturbed, in.PatchPerturbed = &r.SelfCorrectionCLS, &r.SelfCorrectionPatches
	}
	if r.Summary, err = dynamics.Summarize(in); err != nil {
		return nil, err
	}
	r.Key = dynamicsKey(s, ds, cfg)
	if b != nil {
		r.Backend = b.Name()
	}
	r.Seconds = time.Since(began).Seconds()
	r.Finished = time.Now().UTC().Format(time.RFC3339)
	return r, nil
}

// maxCutPhases returns the optimal contiguous max-cut phases of a dissimilarity matrix for k.
func maxCutPhases(sim [][]float64, k int) (PhaseBoundaries, error) {
	c, err := phases.Contiguous(sim, k)
	if err != nil {
		return PhaseBoundaries{}, fmt.Errorf("dynamics recipe: k=%d: %w", k, err)
	}
	th, err := c.Partition.Thresholds()
	if err != nil {
		return PhaseBoundaries{}, fmt.Errorf("dynamics recipe: k=%d: %w", k, err)
	}
	return PhaseBoundaries{K: k, Thresholds: th, Partition: c.Partition}, nil
}

func dynamicsKey(s DynamicsSubject, ds *data.Dataset, cfg DynamicsConfig) DynamicsKey {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	return DynamicsKey{Method: dynamicsMethod, Subject: s.Name, Version: s.Version, Model: s.Model.Config, Dataset: ds.Provenance(), Split: ds.Split, Config: cfg}
}

// compactPaths keeps one image's CLS token and mean patch token per layer (a 2-token state).
func compactPaths(s *hidden.States, layout hidden.Layout) *hidden.States {
	out := hidden.NewStates(s.Layers, 2, s.Dim)
	from, to := layout.Patches()
	mean := make([]float64, s.Dim)
	for l := 0; l < s.Layers; l++ {
		copy(out.Token(l, 0), s.Token(l, layout.CLS()))
		clear(mean)
		for t := from; t < to; t++ {
			for j, v := range s.Token(l, t) {
				mean[j] += float64(v)
			}
		}
		for j, v := range mean {
			out.Token(l, 1)[j] = float32(v / float64(to-from))
		}
	}
	return out
}

// project fits the 2-D PCA and projects the traced paths (CLS = token 0, mean patch = token 1).
func project(fit *dynamics.PCAFit, compact hidden.Layout, traced []*hidden.States, labels []int) (dynamics.TrajectoryResult, error) {
	pca, err := fit.Result(2)
	if err != nil {
		return dynamics.TrajectoryResult{}, fmt.Errorf("dynamics recipe: %w", err)
	}
	tr, err := dynamics.NewTrajectories(compact, pca)
	if err != nil {
		return dynamics.TrajectoryResult{}, err
	}
	for i, st := range traced {
		if err := tr.Add(st, labels[i]); err != nil {
			return dynamics.TrajectoryResult{}, err
		}
	}
	return tr.Result(), nil
}

// DynamicsCachePath is where CachedDynamics keeps the result of a subject on a data set: the
// plan's cache folder, dynamics/<subject>-<data set>.json.
func DynamicsCachePath(p CIFARPlan, s DynamicsSubject, ds *data.Dataset) (string, error) {
	root, err := p.CacheRoot()
	if err != nil {
		return "", err
	}
	name := slug(s.Name)
	if len(name) > 80 {
		name = name[:80]
	}
	return filepath.Join(root, "dynamics", name+"-"+slug(ds.Name)+"-"+slug(ds.Split)+".json"), nil
}

// CachedDynamics returns the result stored at path when it was computed from the same subject,
// weights, data and config; otherwise it runs RunDynamics and stores the result there (JSON).
func CachedDynamics(b backends.Backend, path string, s DynamicsSubject, ds *data.Dataset, cfg DynamicsConfig, progress io.Writer) (*DynamicsResult, error) {
	want := dynamicsKey(s, ds, cfg)
	if old, err := ReadDynamics(path); err == nil {
		if reflect.DeepEqual(old.Key, want) {
			return old, nil
		}
		if progress != nil {
			fmt.Fprintf(progress, "dynamics: %s was computed from other settings; recomputing\n", path)
		}
	} else if !errors.Is(err, os.ErrNotExist) && progress != nil {
		fmt.Fprintf(progress, "dynamics: ignoring unreadable cache: %v\n", err)
	}
	r, err := RunDynamics(b, s, ds, cfg, progress)
	if err != nil {
		return nil, err
	}
	return r, WriteDynamics(path, r)
}

// Non-finite numbers (a NaN coherence of a scope whose tokens never move, an infinite boundary
// score) have no JSON form: they are stored as these sentinels, far outside any value the
// analyses produce, and restored on reading.
const (
	jsonNaN    = -1.7976931348623157e308
	jsonPosInf = 1.7976931348623155e308
	jsonNegInf = -1.7976931348623155e308
)

// WriteDynamics stores a result as JSON (atomically).
func WriteDynamics(path string, r *DynamicsResult) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mapFloats(reflect.ValueOf(r), encodeNonFinite)
	defer mapFloats(reflect.ValueOf(r), decodeNonFinite)
	return writeJSONAtomic(path, r)
}

// ReadDynamics reads a result stored by WriteDynamics.
func ReadDynamics(path string) (*DynamicsResult, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r DynamicsResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: corrupt dynamics result: %w", path, err)
	}
	mapFloats(reflect.ValueOf(&r), decodeNonFinite)
	return &r, nil
}

func encodeNonFinite(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return jsonNaN
	case math.IsInf(v, 1):
		return jsonPosInf
	case math.IsInf(v, -1):
		return jsonNegInf
	}
	return v
}

func decodeNonFinite(v float64) float64 {
	switch v {
	case jsonNaN:
		return math.NaN()
	case jsonPosInf:
		return math.Inf(1)
	case jsonNegInf:
		return math.Inf(-1)
	}
	return v
}

// mapFloats applies f in place to every settable float64 reachable from v (through pointers,
// structs, slices and arrays).
func mapFloats(v reflect.Value, f func(float64) float64) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			mapFloats(v.Elem(), f)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				mapFloats(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			mapFloats(v.Index(i), f)
		}
	case reflect.Float64:
		if v.CanSet() {
			v.SetFloat(f(v.Float()))
		}
	}
}

// radToDeg converts the package's radians to the degrees the figures show.
const radToDeg = 180 / math.Pi

// dynGroupName names a token group in legends.
func dynGroupName(s dynamics.Scope) string {
	switch s {
	case dynamics.ScopeCLS:
		return "CLS"
	case dynamics.ScopeRegisters:
		return "registers"
	case dynamics.ScopePatches:
		return "patches"
	}
	return "all tokens"
}

// allFinite reports whether every value is a finite number (figures.Lines rejects the others).
func allFinite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// DynamicsFigures returns the figures of the rigour checks, each with its caption: the S-shape
// test of γ, the angular deviation along perturbed paths, the per-block angular contraction,
// centred vs uncentred stable rank, and the held-out speed test. A figure whose data were not
// measured (e.g. no perturbed images) is left out.
func (r *DynamicsResult) DynamicsFigures() ([]NamedFigure, error) {
	var out []NamedFigure
	add := func(name, caption string, p *plot.Plot, err error) error {
		if err != nil {
			return fmt.Errorf("dynamics figure %s: %w", name, err)
		}
		if p != nil {
			out = append(out, NamedFigure{Name: name, Figure: p, W: figures.Width, H: figures.Height, Caption: caption})
		}
		return nil
	}
	p, err := ConvergenceShapeFigure(r)
	if err := add("03_convergence_shape", "Mean γ_l = cos(x_l, x_L) per layer with logistic, linear and quadratic least-squares fits; the legend gives AICc per model (lower is better) and the S-shape verdict (ΔAICc ≥ 2 for the logistic and an inflection inside the data).", p, err); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		res  *dynamics.SelfCorrectionResult
		name string
	}{{&r.SelfCorrectionCLS, "03_angular_deviation_cls"}, {&r.SelfCorrectionPatches, "03_angular_deviation_patches"}} {
		p, err := AngularDeviationFigure(c.res)
		if err := add(c.name, fmt.Sprintf("Angle between the perturbed and the clean hidden state of the perturbed %s at every layer after the perturbation (ε = %.2g), for a few perturbation layers; mean over tokens, then over %d images. Unlike ‖f′ − f‖/‖f‖, the angle does not shrink with norm growth alone.",
			dynGroupName(c.res.Perturbed), c.res.Epsilon, c.res.Images), p, err); err != nil {
			return nil, err
		}
	}
	p, err = AngularContractionFigure(r)
	if err := add("03_angular_contraction", "Per-block angular contraction θ_{l}/θ_{l−1}: the perturbed group's mean angular deviation one block after a perturbation injected at layer l−1, over the injected angle; mean over images with a 95% percentile-bootstrap interval over images. Below 1: the block turns the perturbation back.", p, err); err != nil {
		return nil, err
	}
	p, err = CenteredRankFigure(r)
	if err := add("03_centred_rank", "Stable rank ‖Δ‖²_F/‖Δ‖²_2 of the update Δ_l = x_l − x_{l−1}, raw and centred (Δ minus its mean over the scope's tokens, per image); mean over images. A coherent field has raw rank ≈ 1 whatever its token-to-token structure.", p, err); err != nil {
		return nil, err
	}
	p, err = HeldOutSpeedFigure(r)
	if err := add("03_speed_held_out", "Angular speed per block of the held-out images with the max-cut boundaries of the other images: "+r.SpeedTestNote+".", p, err); err != nil {
		return nil, err
	}
	return out, nil
}

// ConvergenceShapeFigure plots the mean γ of each token group with its three fitted models;
// nil when the Summary has no shape test (fewer than 7 layers).
func ConvergenceShapeFigure(r *DynamicsResult) (*plot.Plot, error) {
	var series []figures.Series
	for _, c := range r.Summary.Convergence {
		g, ok := r.Convergence.Group(c.Scope)
		if c.Shape == nil || !ok {
			continue
		}
		name := dynGroupName(c.Scope)
		data := figures.Series{Label: name + " (mean γ)"}
		for i, st := range g.Stats {
			if allFinite(st.Mean) {
				data.X, data.Y = append(data.X, float64(g.Layers[i])), append(data.Y, st.Mean)
			}
		}
		series = append(series, data)
		for _, f := range []dynamics.ShapeFit{c.Shape.Logistic, c.Shape.Linear, c.Shape.Quadratic} {
			label := fmt.Sprintf("%s %s fit, AICc %.1f", name, f.Model, f.AICc)
			if f.Model == "logistic" {
				label += fmt.Sprintf(" (S-shaped: %v)", c.SShaped)
			}
			fs := figures.Series{Label: label}
			x0, x1 := data.X[0], data.X[len(data.X)-1]
			for i := 0; i <= 100; i++ {
				x := x0 + (x1-x0)*float64(i)/100
				if y := f.Eval(x); allFinite(y) {
					fs.X, fs.Y = append(fs.X, x), append(fs.Y, math.Max(-1, math.Min(1, y)))
				}
			}
			series = append(series, fs)
		}
	}
	if len(series) == 0 {
		return nil, nil
	}
	p := figures.Lines("Direction convergence: logistic vs linear vs quadratic", "layer l (0 = embedding, L = last block)", "γ_l = cos(x_l, x_L) (unitless)", series...)
	p.Y.Min, p.Y.Max = math.Max(-1, p.Y.Min), 1
	return p, nil
}

// AngularDeviationFigure plots, for up to four perturbation layers, the angular deviation of the
// perturbed group (degrees) at every later layer; nil without path measurements.
func AngularDeviationFigure(res *dynamics.SelfCorrectionResult) (*plot.Plot, error) {
	ps, ok := res.PathOf(res.Perturbed)
	if !ok || len(ps.Perturb) == 0 {
		return nil, nil
	}
	var pick []int // indices into ps.Perturb: first, thirds, and the last before L
	for _, q := range []float64{0, 1.0 / 3, 2.0 / 3, 1} {
		i := int(math.Round(q * float64(len(ps.Perturb)-1)))
		if ps.Perturb[i] == res.FinalLayer && i > 0 {
			i--
		}
		if len(pick) == 0 || pick[len(pick)-1] != i {
			pick = append(pick, i)
		}
	}
	var series []figures.Series
	for _, i := range pick {
		s := figures.Series{Label: fmt.Sprintf("perturbed at layer %d", ps.Perturb[i])}
		for j, m := range ps.Mean[i] {
			if allFinite(m) {
				s.X, s.Y = append(s.X, float64(ps.Perturb[i]+j)), append(s.Y, m*radToDeg)
			}
		}
		series = append(series, s)
	}
	p := figures.Lines(fmt.Sprintf("Angular deviation of the perturbed %s along depth (ε = %.2g)", dynGroupName(res.Perturbed), res.Epsilon),
		"layer m (0 = embedding)", "angle between x′_m and x_m (degrees)", series...)
	p.Y.Min = 0
	return p, nil
}

// AngularContractionFigure plots the per-block angular contraction of the CLS token (CLS
// perturbed) and of the patches (patches perturbed) with their intervals and the line ratio = 1;
// nil without path measurements.
func AngularContractionFigure(r *DynamicsResult) (*plot.Plot, error) {
	var series []figures.Series
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, res := range []*dynamics.SelfCorrectionResult{&r.SelfCorrectionCLS, &r.SelfCorrectionPatches} {
		cs, ok := res.ContractionOf(res.Perturbed)
		if !ok {
			continue
		}
		name := dynGroupName(res.Perturbed)
		mean := figures.Series{Label: name + ": mean over images"}
		low := figures.Series{Label: name + ": 95% interval, lower"}
		high := figures.Series{Label: name + ": 95% interval, upper"}
		for i, iv := range cs.Ratio {
			x := float64(cs.Blocks[i])
			if !allFinite(iv.Mean) {
				continue
			}
			mean.X, mean.Y = append(mean.X, x), append(mean.Y, iv.Mean)
			lo, hi = math.Min(lo, iv.Mean), math.Max(hi, iv.Mean)
			if allFinite(iv.Lo, iv.Hi) {
				low.X, low.Y = append(low.X, x), append(low.Y, iv.Lo)
				high.X, high.Y = append(high.X, x), append(high.Y, iv.Hi)
			}
		}
		series = append(series, mean)
		if len(low.X) > 0 {
			series = append(series, low, high)
		}
	}
	if len(series) == 0 {
		return nil, nil
	}
	series = append(series, figures.Series{Label: "no contraction (ratio 1)", X: []float64{1, float64(r.FinalLayer)}, Y: []float64{1, 1}})
	return figures.Lines("Per-block angular contraction of a perturbation", "block l (maps layer l−1 to layer l)",
		"θ_l / θ_{l−1} (ratio of angles, unitless)", series...), nil
}

// CenteredRankFigure plots the raw and the centred stable rank of every scope; nil when the
// centred rank was not measured.
func CenteredRankFigure(r *DynamicsResult) (*plot.Plot, error) {
	var series []figures.Series
	for _, raw := range r.Updates.StableRank {
		cen, ok := r.Updates.CenteredRank(raw.Scope)
		if !ok {
			continue
		}
		for _, c := range []struct {
			s    dynamics.Series
			what string
		}{{raw, "raw"}, {cen, "centred"}} {
			s := figures.Series{Label: fmt.Sprintf("%s, %s", dynGroupName(raw.Scope), c.what)}
			if r.Updates.Centered && c.what == "raw" {
				s.Label = fmt.Sprintf("%s, centred (configured)", dynGroupName(raw.Scope))
			}
			for i, st := range c.s.Stats {
				if allFinite(st.Mean) {
					s.X, s.Y = append(s.X, float64(c.s.Layers[i]+1)), append(s.Y, st.Mean)
				}
			}
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return nil, nil
	}
	p := figures.Lines("Stable rank of the update field, raw vs centred", "block l (update Δ = x_l − x_{l−1})",
		"stable rank ‖Δ‖²_F / ‖Δ‖²_2 (unitless)", series...)
	p.Y.Min = 0
	return p, nil
}

// HeldOutSpeedFigure plots the mean speed (degrees) of the held-out images with the boundaries
// of the other half for SummaryK; nil when there was no split.
func HeldOutSpeedFigure(r *DynamicsResult) (*plot.Plot, error) {
	if len(r.SpeedHeldOut.Groups) == 0 {
		return nil, nil
	}
	var series []figures.Series
	top := 0.0
	for _, g := range r.SpeedHeldOut.Groups {
		s := figures.Series{Label: dynGroupName(g.Scope) + " (held-out images)"}
		for i, st := range g.Stats {
			if allFinite(st.Mean) {
				s.X, s.Y = append(s.X, float64(g.Layers[i]+1)), append(s.Y, st.Mean*radToDeg)
				top = math.Max(top, st.Mean*radToDeg)
			}
		}
		series = append(series, s)
	}
	for i, b := range r.SummaryTestBoundaries {
		s := figures.Series{X: []float64{float64(b) + 0.5, float64(b) + 0.5}, Y: []float64{0, top}}
		if i == 0 {
			s.Label = fmt.Sprintf("max-cut boundary of the other images (k=%d)", r.SummaryK)
		}
		series = append(series, s)
	}
	p := figures.Lines("Angular speed, boundaries chosen on other images", "block l (the step from layer l−1 to layer l)",
		"angular speed: angle between x_{l−1} and x_l (degrees)", series...)
	p.Y.Min = 0
	return p, nil
}
