package recipes

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/phases"
)

// AnalyzeFamily is one model family Analyze can load: how a checkpoint folder's config.json
// (model_type) or a hub id is recognised, and how it is loaded.
type AnalyzeFamily struct {
	Name        string
	About       string   // one line for error messages and the command's help
	ModelTypes  []string // config.json model_type values of the family
	HubPrefixes []string // hub ids starting with one of these belong to the family
	Load        func(ref string, hub dinov2.HubOptions) (*dinov2.Model, error)
}

// AnalyzeFamilies are the families Analyze supports. A new family (loaded by lib/dinov2 into the
// same lib/vit model) plugs in with one more entry here.
var AnalyzeFamilies = []AnalyzeFamily{{
	Name:        "dinov2",
	About:       "DINOv2 and DINOv2 with registers (config.json model_type dinov2 or dinov2_with_registers; hub ids facebook/dinov2-*)",
	ModelTypes:  []string{dinov2.ModelTypeDinov2, dinov2.ModelTypeWithRegisters},
	HubPrefixes: []string{"facebook/dinov2-"},
	Load:        dinov2.Load,
}, {
	Name:        "vit",
	About:       "the HF ViT family: ViT (google/vit-*), DINO ViT (facebook/dino-vit*) and DeiT (facebook/deit-*, its distillation token kept as a register) (model_type vit or deit)",
	ModelTypes:  []string{dinov2.ModelTypeViT, dinov2.ModelTypeDeiT},
	HubPrefixes: []string{"google/vit-", "facebook/dino-vit", "facebook/deit-"},
	Load:        dinov2.Load,
}}

// SupportedFamilies lists AnalyzeFamilies for an error message.
func SupportedFamilies() string {
	var parts []string
	for _, f := range AnalyzeFamilies {
		parts = append(parts, f.Name+": "+f.About)
	}
	return strings.Join(parts, "; ")
}

// AnalyzeFamilyOf finds the family of ref, a checkpoint folder (by its config.json's
// model_type) or a hub id (by its prefix), without downloading anything. The error for an
// unsupported model lists the supported families.
func AnalyzeFamilyOf(ref string) (AnalyzeFamily, error) {
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		raw, err := os.ReadFile(filepath.Join(ref, "config.json"))
		if err != nil {
			return AnalyzeFamily{}, fmt.Errorf("model folder %s has no readable config.json (%v); supported families: %s", ref, err, SupportedFamilies())
		}
		var cfg struct {
			ModelType string `json:"model_type"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return AnalyzeFamily{}, fmt.Errorf("model folder %s: config.json is not valid JSON: %v", ref, err)
		}
		mt := cfg.ModelType
		if mt == "" {
			mt = dinov2.ModelTypeDinov2 // HF's own default for a Dinov2Config without model_type
		}
		for _, f := range AnalyzeFamilies {
			if slices.Contains(f.ModelTypes, mt) {
				return f, nil
			}
		}
		return AnalyzeFamily{}, fmt.Errorf("model folder %s: model_type %q is not supported; supported families: %s", ref, mt, SupportedFamilies())
	}
	for _, f := range AnalyzeFamilies {
		for _, p := range f.HubPrefixes {
			if strings.HasPrefix(ref, p) {
				return f, nil
			}
		}
	}
	return AnalyzeFamily{}, fmt.Errorf("model %q is neither a checkpoint folder nor a hub id of a supported family; supported families: %s", ref, SupportedFamilies())
}

// AnalyzeModel is a loaded model with what Analyze needs to know about it.
type AnalyzeModel struct {
	Family AnalyzeFamily
	Model  *dinov2.Model
	Prep   data.Preprocessor
}

// LoadAnalyzeModel finds ref's family (AnalyzeFamilyOf) and loads it.
func LoadAnalyzeModel(ref string, hub dinov2.HubOptions) (*AnalyzeModel, error) {
	fam, err := AnalyzeFamilyOf(ref)
	if err != nil {
		return nil, err
	}
	m, err := fam.Load(ref, hub)
	if err != nil {
		return nil, err
	}
	prep := AnalyzePreprocessor(m.Config().ImageSize, m.Config().PatchSize)
	if m.HasPreprocess {
		prep = m.Preprocess // the model's own (preprocessor_config.json, timm's pretrained_cfg)
	}
	return &AnalyzeModel{Family: fam, Model: m, Prep: prep}, nil
}

// AnalyzePreprocessor is the preprocessing Analyze uses, when the checkpoint does not carry its own,
// for a model trained at imageSize px with
// the given patch: DINOv2's evaluation transform, bicubic resize of the shorter side to 256 and
// a 224 centre crop, for models trained at 224 px or more; a model trained on smaller images
// gets its own size (rounded down to the patch), resized by the same 256/224 ratio.
// Normalisation is ImageNet's.
func AnalyzePreprocessor(imageSize, patch int) data.Preprocessor {
	crop := 224
	if imageSize < crop {
		crop = max(patch, imageSize/patch*patch)
	}
	return data.Preprocessor{Resize: (crop*256 + 112) / 224, Crop: crop, Filter: data.Bicubic, Stats: data.ImageNetStats}
}

// AnalyzeOptions configure Analyze.
type AnalyzeOptions struct {
	Images    string // folder of .jpg/.jpeg/.png images, searched recursively
	Out       string // output folder: report.md, figures/, provenance.json, work/ (resumable)
	Batch     int    // images per forward pass (memory is bounded by it); ≤ 0: 32
	MaxImages int    // at most this many files (the first by path); 0: all
	Ks        []int  // numbers of phases
	// Bootstrap replicates over images (boundary stability, block-index interval); 0 skips.
	Bootstrap int
	// NullReplicates of the warped-drift null test; 0 skips it.
	NullReplicates int
	Seed           uint64
	// Flags are recorded in provenance.json as given (the command line).
	Flags map[string]string
	// Progress receives progress and one warning line per skipped file (nil: discarded).
	Progress io.Writer
}

// SkippedFile is an image file Analyze left out, and why.
type SkippedFile struct {
	Path   string `json:"path"` // relative to the image folder
	Reason string `json:"reason"`
}

// AnalyzeResult is what Analyze found; it is also written to <out>/result.json.
type AnalyzeResult struct {
	Model       string           `json:"model"`
	Family      string           `json:"family"`
	ModelDesc   string           `json:"model_desc"`
	ImageSize   int              `json:"image_size"`
	Layout      hidden.Layout    `json:"layout"`
	Depth       int              `json:"depth"`
	ImagesDir   string           `json:"images_dir"`
	Listed      int              `json:"listed"` // image files considered (after MaxImages)
	Used        int              `json:"used"`
	Skipped     []SkippedFile    `json:"skipped,omitempty"`
	Backend     string           `json:"backend"`
	Similarity  [][]float64      `json:"similarity"`
	Phases      []PhaseReport    `json:"phases"`
	ExtractKey  string           `json:"extract_key"`
	Files       []string         `json:"files"` // written under Out, relative to it
	ImagesPerS  float64          `json:"images_per_second,omitempty"`
	Options     AnalyzeSettings  `json:"options"`
	NullNote    string           `json:"null_note,omitempty"` // why the null test did not run, if it did not
	Dynamics    *AnalyzeDynamics `json:"dynamics,omitempty"`
	CompletedAt time.Time        `json:"completed_at"`
}

// AnalyzeSettings are the options that decide the numbers.
type AnalyzeSettings struct {
	Batch          int    `json:"batch"`
	MaxImages      int    `json:"max_images"`
	Ks             []int  `json:"ks"`
	Bootstrap      int    `json:"bootstrap"`
	NullReplicates int    `json:"null_replicates"`
	Seed           uint64 `json:"seed"`
	Resize         int    `json:"resize"`
	Crop           int    `json:"crop"`
}

// CheckAnalyzeOptions validates the options that need no model; CheckKs the ks against a depth.
func CheckAnalyzeOptions(o AnalyzeOptions) error {
	switch {
	case o.Images == "":
		return errors.New("no image folder given")
	case o.Out == "":
		return errors.New("no output folder given")
	case o.MaxImages < 0:
		return fmt.Errorf("max images %d: must be >= 0 (0: all)", o.MaxImages)
	case o.Bootstrap < 0:
		return fmt.Errorf("bootstrap replicates %d: must be >= 0 (0: none)", o.Bootstrap)
	case o.NullReplicates < 0:
		return fmt.Errorf("null replicates %d: must be >= 0 (0: none)", o.NullReplicates)
	case len(o.Ks) == 0:
		return errors.New("no numbers of phases (ks) given")
	}
	for _, k := range o.Ks {
		if k < 1 {
			return fmt.Errorf("number of phases %d: must be >= 1", k)
		}
	}
	return nil
}

// CheckKs says whether every k fits a model of depth blocks: K = 1, or 2 ≤ K ≤ depth − 1.
func CheckKs(ks []int, depth int) error {
	for _, k := range ks {
		if k > 1 && k >= depth {
			return fmt.Errorf("number of phases %d: at most %d for a model of %d blocks (with K = blocks no phase holds two blocks, so there is no block structure to measure)", k, depth-1, depth)
		}
	}
	return nil
}

// minNullDepth is the fewest blocks phases.WarpedDriftNull works with.
const minNullDepth = 4

// chunk is the extraction of one batch of image files, saved under work/ so that a rerun
// resumes where the last one stopped.
type chunk struct {
	Start   int           `json:"start"`
	Paths   []string      `json:"paths"` // relative to the image folder
	Rows    int           `json:"rows"`
	Layout  hidden.Layout `json:"layout"`
	Upper   [][]float64   `json:"upper"` // per kept image: its matrix's upper triangle (phases.PerImage)
	Skipped []SkippedFile `json:"skipped,omitempty"`
	Seconds float64       `json:"seconds"`
	// Gamma and Speed are each kept image's dynamics ([image][group][layer], imageDynamics).
	Gamma [][][]float64 `json:"gamma"`
	Speed [][][]float64 `json:"speed"`
}

// Analyze runs the images of opts.Images through am in batches, computes the paper's CLS +
// mean-patch dissimilarity matrix (each image's own matrix kept, O(L²) numbers an image), the
// phases for each K with bootstrap stability and the warped-drift null (AnalysePhasesWith), and
// writes report.md, figures/, result.json and provenance.json to opts.Out, each file atomically.
// Each batch's matrices are saved under work/ as soon as they are computed, and the phases once
// found, so a second run with the same model, images and settings reuses them.
func Analyze(b backends.Backend, am *AnalyzeModel, opts AnalyzeOptions) (*AnalyzeResult, error) {
	if err := CheckAnalyzeOptions(opts); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	cfg := am.Model.Config()
	if err := CheckKs(opts.Ks, cfg.Depth); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	if opts.Batch <= 0 {
		opts.Batch = 32
	}
	paths, err := dinov2.ListImages(opts.Images)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if opts.MaxImages > 0 && len(paths) > opts.MaxImages {
		paths = paths[:opts.MaxImages]
	}
	rel := make([]string, len(paths))
	for i, p := range paths {
		if rel[i], err = filepath.Rel(opts.Images, p); err != nil {
			rel[i] = p
		}
	}
	key, err := extractKey(am, opts, paths, rel)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	work := filepath.Join(opts.Out, "work", "extract-"+key)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	res := &AnalyzeResult{Model: am.Model.Source, Family: am.Family.Name, ModelDesc: am.Model.String(), ImageSize: am.Prep.Crop,
		Layout: am.Model.Layout(am.Prep.Crop, am.Prep.Crop), Depth: cfg.Depth, ImagesDir: opts.Images, Listed: len(paths),
		Backend: backendName(b), ExtractKey: key,
		Options: AnalyzeSettings{Batch: opts.Batch, MaxImages: opts.MaxImages, Ks: opts.Ks, Bootstrap: opts.Bootstrap,
			NullReplicates: opts.NullReplicates, Seed: opts.Seed, Resize: am.Prep.Resize, Crop: am.Prep.Crop}}
	if b != nil {
		res.Backend = backend.Describe(b)
	}

	// 1. Per-image dissimilarity matrices, one chunk file per batch.
	per := &phases.PerImage{Rows: cfg.Depth}
	var gammas, speeds [][][]float64
	var ex *dinov2.Extractor
	var seconds float64
	var computed int
	batches := (len(paths) + opts.Batch - 1) / opts.Batch
	for bi := range batches {
		start, end := bi*opts.Batch, min((bi+1)*opts.Batch, len(paths))
		file := filepath.Join(work, fmt.Sprintf("chunk-%05d.json", bi))
		c, err := readChunk(file, start, rel[start:end])
		reused := err == nil
		if !reused {
			if ex == nil {
				if ex, err = dinov2.NewExtractor(b, am.Model, opts.Batch); err != nil {
					return nil, fmt.Errorf("analyze: %w", err)
				}
			}
			if c, err = extractChunk(ex, am, paths[start:end], rel[start:end], start, opts.Images); err != nil {
				return nil, fmt.Errorf("analyze: %w", err)
			}
			if err := writeJSONAtomic(file, c); err != nil {
				return nil, fmt.Errorf("analyze: %w", err)
			}
			seconds += c.Seconds
			computed += len(c.Upper)
		}
		for _, s := range c.Skipped {
			fmt.Fprintf(progress, "analyze: warning: skipped %s\n", s.Reason)
		}
		res.Skipped = append(res.Skipped, c.Skipped...)
		per.Upper = append(per.Upper, c.Upper...)
		gammas, speeds = append(gammas, c.Gamma...), append(speeds, c.Speed...)
		how := "done"
		if reused {
			how = "reused from " + filepath.Base(file)
		}
		fmt.Fprintf(progress, "analyze: batch %d/%d (images %d-%d of %d): %d used, %d skipped, %s\n",
			bi+1, batches, start+1, end, len(paths), len(c.Upper), len(c.Skipped), how)
	}
	res.Used = per.Images()
	if computed > 0 && seconds > 0 {
		res.ImagesPerS = float64(computed) / seconds
	}
	if res.Used == 0 {
		return nil, fmt.Errorf("analyze: none of the %d image files under %s could be used (all skipped; first: %s)",
			len(paths), opts.Images, res.Skipped[0].Reason)
	}
	res.Similarity = per.Mean(nil)
	if res.Dynamics, err = summariseDynamics(gammas, speeds, opts.Seed); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}

	// 2. Phases, stability and the drift null.
	pkey := shortHash(struct {
		Key                string
		Ks                 []int
		Boot, Null         int
		Seed               uint64
		Method, Definition string
	}{key, opts.Ks, opts.Bootstrap, opts.NullReplicates, opts.Seed, MethodBisection, "v1"})
	fmt.Fprintf(progress, "analyze: phases for K=%s (%d bootstrap replicates, %d null replicates)\n", joinInts(opts.Ks), opts.Bootstrap, opts.NullReplicates)
	nullReps := opts.NullReplicates
	if nullReps > 0 && cfg.Depth < minNullDepth {
		res.NullNote = fmt.Sprintf("the warped-drift null test needs at least %d blocks; this model has %d, so it was not run", minNullDepth, cfg.Depth)
		fmt.Fprintf(progress, "analyze: note: %s\n", res.NullNote)
		nullReps = 0
	}
	reports, err := cached(filepath.Join(opts.Out, "work", "phases-"+pkey+".json"), func() (*[]PhaseReport, error) {
		r, err := AnalysePhasesWith(res.Similarity, per, opts.Ks, PhaseOptions{Method: MethodBisection,
			NullReplicates: nullReps, BootstrapReplicates: opts.Bootstrap, Seed: opts.Seed})
		return &r, err
	})
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	res.Phases = *reports

	// 3. Figures, report, result and provenance.
	if err := writeAnalyzeOutputs(res, opts); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	return res, nil
}

// extractKey hashes everything that decides the per-image matrices: the model (its config and
// weights file), the preprocessing, the files (names, sizes, times) and the batch split.
func extractKey(am *AnalyzeModel, opts AnalyzeOptions, paths, rel []string) (string, error) {
	type file struct {
		Path  string
		Size  int64
		MTime int64
	}
	weights := file{Path: filepath.Join(am.Model.Dir, "model.safetensors")}
	if st, err := os.Stat(weights.Path); err == nil {
		weights.Size, weights.MTime = st.Size(), st.ModTime().UnixNano()
	}
	files := make([]file, len(paths))
	for i, p := range paths {
		files[i].Path = rel[i]
		if st, err := os.Stat(p); err == nil {
			files[i].Size, files[i].MTime = st.Size(), st.ModTime().UnixNano()
		}
	}
	return shortHash(struct {
		HF      dinov2.HFConfig
		Weights file
		Prep    data.Preprocessor
		Files   []file
		Batch   int
	}{am.Model.HF, weights, am.Prep, files, opts.Batch}), nil
}

func shortHash(v any) string {
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:6])
}

// readChunk reads a saved chunk and checks that it covers exactly the files rel from start.
func readChunk(path string, start int, rel []string) (*chunk, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c chunk
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if c.Start != start || !slices.Equal(c.Paths, rel) || len(c.Upper)+len(c.Skipped) != len(rel) || len(c.Gamma) != len(c.Upper) || len(c.Speed) != len(c.Upper) {
		return nil, fmt.Errorf("%s covers other files", path)
	}
	return &c, nil
}

// extractChunk preprocesses one batch of files (skipping the bad ones), runs it through the
// model and keeps each image's dissimilarity matrix.
func extractChunk(ex *dinov2.Extractor, am *AnalyzeModel, paths, rel []string, start int, root string) (*chunk, error) {
	began := time.Now()
	cfg := am.Model.Config()
	c := &chunk{Start: start, Paths: rel, Rows: cfg.Depth, Layout: am.Model.Layout(am.Prep.Crop, am.Prep.Crop), Upper: [][]float64{}}
	pix, kept, skipped := data.PreprocessFiles(paths, am.Prep, cfg.PatchSize, 0)
	for _, s := range skipped {
		r, err := filepath.Rel(root, s.Path)
		if err != nil {
			r = s.Path
		}
		c.Skipped = append(c.Skipped, SkippedFile{Path: r, Reason: strings.TrimPrefix(s.Err.Error(), "data: ")})
	}
	if len(kept) == 0 {
		return c, nil
	}
	acts, err := ex.Extract(pix, len(kept), am.Prep.Crop, am.Prep.Crop)
	if err != nil {
		return nil, err
	}
	acc := phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: acts.Layout})
	acc.KeepImages()
	for i := range acts.Hidden.Images {
		if err := acc.Add(acts.Hidden.Image(i)); err != nil {
			return nil, fmt.Errorf("image %s: %w", paths[kept[i]], err)
		}
	}
	c.Upper = acc.PerImage().Upper
	for i := range acts.Hidden.Images {
		g, sp, err := dynamics.ImageMeans(acts.Hidden.Image(i), acts.Layout, analyzeScopes)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", paths[kept[i]], err)
		}
		c.Gamma, c.Speed = append(c.Gamma, g), append(c.Speed, sp)
	}
	c.Seconds = time.Since(began).Seconds()
	return c, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// analyzeFigures are the report's figures: the similarity matrix with each K's boundaries, and
// how often each boundary is chosen over bootstrap replicates.
func analyzeFigures(r *AnalyzeResult) ([]NamedFigure, error) {
	maps, err := phaseTiles(r.Similarity, r.Phases)
	if err != nil {
		return nil, err
	}
	if len(maps) == 0 { // only K=1 asked: the bare matrix
		maps = append(maps, figures.HeatmapTile{M: r.Similarity, Title: "layer dissimilarity"})
	}
	var out []NamedFigure
	fig, _, err := figures.HeatmapPanel(len(maps), maps, figures.HeatmapOptions{OneBased: true, ColorBarLabel: "1 − cos"})
	if err != nil {
		return nil, err
	}
	out = append(out, NamedFigure{Name: "analyze_similarity", Figure: fig, W: vg.Length(len(maps)) * 9 * vg.Centimeter, H: 9 * vg.Centimeter,
		Caption: fmt.Sprintf("Layer-layer dissimilarity of blocks 1..%d (CLS + mean patch, 1 − cos, mean over %d images); dashed lines: optimal contiguous boundaries for each K.", r.Depth, r.Used)})

	var series []figures.Series
	for _, rep := range r.Phases {
		if rep.K < 2 || rep.Stability == nil || len(rep.Stability.BoundaryShare) == 0 {
			continue
		}
		s := figures.Series{Label: fmt.Sprintf("K=%d", rep.K)}
		for t, share := range rep.Stability.BoundaryShare {
			s.X, s.Y = append(s.X, float64(t+1)), append(s.Y, share)
		}
		series = append(series, s)
	}
	if len(series) > 0 {
		p := figures.Lines("Boundary stability", "boundary between blocks t and t+1", "share of bootstrap replicates", series...)
		if err := figures.WithYRange(p, 0, 1); err != nil {
			return nil, err
		}
		out = append(out, NamedFigure{Name: "analyze_stability", Figure: p, W: 14 * vg.Centimeter, H: 9 * vg.Centimeter,
			Caption: fmt.Sprintf("Share of %d bootstrap replicates (images resampled with replacement) whose optimal contiguous phases have a boundary between blocks t and t+1.", r.Options.Bootstrap)})
	}
	if f, ok := analyzeDynamicsFigure(r); ok {
		out = append(out, f)
	}
	return out, nil
}

// phaseTiles are the heat-map tiles of one dissimilarity matrix w, one per report with K ≥ 2,
// titled by its contiguous phases and with their boundaries drawn.
func phaseTiles(w [][]float64, reports []PhaseReport) ([]figures.HeatmapTile, error) {
	var tiles []figures.HeatmapTile
	for _, rep := range reports {
		if rep.K < 2 {
			continue
		}
		bounds, err := rep.Contiguous.Thresholds()
		if err != nil {
			return nil, err
		}
		tiles = append(tiles, figures.HeatmapTile{M: w, Title: fmt.Sprintf("K=%d: %s", rep.K, rep.Contiguous), Boundaries: bounds})
	}
	return tiles, nil
}

// writeAnalyzeOutputs writes the figures, report.md, result.json and provenance.json.
func writeAnalyzeOutputs(r *AnalyzeResult, opts AnalyzeOptions) error {
	figs, err := analyzeFigures(r)
	if err != nil {
		return err
	}
	figDir := filepath.Join(opts.Out, "figures")
	scale, err := notebook.LookupScale()
	if err != nil {
		scale = notebook.CPU
	}
	prov := figures.Provenance{Dataset: fmt.Sprintf("%s, %d images", opts.Images, r.Used), Model: r.ModelDesc, Backend: r.Backend,
		Scale: string(scale), Extra: map[string]any{"command": "blockrec analyze", "extract_key": r.ExtractKey}}
	r.Files = nil
	// figures.Save writes into $BLOCKREC_FIGURES_DIR when set: point it at the output folder
	// for the duration of the call (not safe alongside other goroutines saving figures).
	old, had := os.LookupEnv(figures.DirEnv)
	os.Setenv(figures.DirEnv, figDir)
	for _, f := range figs {
		p := prov
		p.Notes = f.Caption
		var paths []string
		if paths, err = figures.Save(f.Figure, f.Name, f.W, f.H, p); err != nil {
			break
		}
		for _, path := range paths {
			if rel, e := filepath.Rel(opts.Out, path); e == nil {
				r.Files = append(r.Files, rel)
			}
		}
	}
	if had {
		os.Setenv(figures.DirEnv, old)
	} else {
		os.Unsetenv(figures.DirEnv)
	}
	if err != nil {
		return err
	}
	r.Files = append(r.Files, "report.md", "result.json", "provenance.json")
	r.CompletedAt = time.Now().UTC().Truncate(time.Second)
	if err := figures.WriteAtomic(filepath.Join(opts.Out, "report.md"), []byte(analyzeReport(r, figs))); err != nil {
		return err
	}
	if err := writeJSONAtomic(filepath.Join(opts.Out, "result.json"), r); err != nil {
		return err
	}
	provenance := map[string]any{
		"command":  "blockrec analyze",
		"model":    map[string]any{"ref": r.Model, "family": r.Family, "description": r.ModelDesc},
		"images":   map[string]any{"dir": opts.Images, "listed": r.Listed, "used": r.Used, "skipped": r.Skipped},
		"backend":  r.Backend,
		"versions": notebook.Versions(),
		"flags":    opts.Flags,
		"settings": r.Options,
		"keys":     map[string]string{"extract": r.ExtractKey},
		"date":     r.CompletedAt,
	}
	return writeJSONAtomic(filepath.Join(opts.Out, "provenance.json"), provenance)
}

// analyzeReport is the one-page report.md.
func analyzeReport(r *AnalyzeResult, figs []NamedFigure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Block-recurrent analysis: %s\n\n", r.Model)
	fmt.Fprintf(&b, "- Model: %s (family %s).\n", r.ModelDesc, r.Family)
	fmt.Fprintf(&b, "- Images: %d of %d files under `%s` used, at %d px (shorter side resized to %d, centre crop; the checkpoint's own preprocessing when it has one, else bicubic and ImageNet's mean and std).",
		r.Used, r.Listed, r.ImagesDir, r.ImageSize, r.Options.Resize)
	if n := len(r.Skipped); n > 0 {
		fmt.Fprintf(&b, " %d skipped: ", n)
		for i, s := range r.Skipped {
			if i == 5 {
				fmt.Fprintf(&b, "… (all in provenance.json)")
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "`%s`", s.Path)
		}
		b.WriteString(".")
	}
	fmt.Fprintf(&b, "\n- Backend: %s.\n\n", r.Backend)
	b.WriteString("## Phases\n\n")
	b.WriteString("Dissimilarity: per image, 1 − cos between blocks for the CLS token plus the same for the mean patch token, averaged over images (0 = identical, at most 4). ")
	b.WriteString("Block index: mean within-phase over mean between-phase dissimilarity of the optimal contiguous split (lower = more block-like); the interval is the 95% bootstrap over images. ")
	b.WriteString("Stability: share of bootstrap replicates whose optimal split is exactly the one found, and the least-chosen of its boundaries. ")
	b.WriteString("Null: the warped-drift test (a smooth drift with a learned warp of depth, no blocks); \"blocks\" means the K−1 jumps explain significantly more than drift alone.\n\n")
	b.WriteString("| K | contiguous phases | released bisection | block index [95% CI] | stability (same, weakest boundary) | drift null |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, rep := range r.Phases {
		bis := "—"
		if rep.Bisection != nil {
			bis = rep.Bisection.String()
		}
		bi := "—"
		if rep.K > 1 {
			bi = fmt.Sprintf("%.3f", rep.BlockIndex)
			if rep.BlockIndexCI != nil {
				bi += fmt.Sprintf(" [%.3f, %.3f]", rep.BlockIndexCI.Lo, rep.BlockIndexCI.Hi)
			}
		}
		stab := "—"
		if s := rep.Stability; s != nil && rep.K > 1 {
			weakest := 1.0
			if th, err := rep.Contiguous.Thresholds(); err == nil {
				for _, t := range th {
					if t-1 < len(s.BoundaryShare) {
						weakest = min(weakest, s.BoundaryShare[t-1])
					}
				}
			}
			stab = fmt.Sprintf("%.0f%%, %.0f%% (%d replicates)", 100*s.SameShare, 100*weakest, s.Replicates)
		}
		null := "—"
		if n := rep.Null; n != nil {
			null = fmt.Sprintf("%s (p = %.3g, %d replicates)", n.Verdict, n.P, n.Replicates)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", rep.K, rep.Contiguous, bis, bi, stab, null)
	}
	if r.NullNote != "" {
		fmt.Fprintf(&b, "\nNote: %s.\n", r.NullNote)
	}
	b.WriteString("\n")
	b.WriteString(dynamicsReport(r.Dynamics))
	b.WriteString("## Figures\n\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "![%s](figures/%s.png)\n\n%s\n\n", f.Name, f.Name, f.Caption)
	}
	fmt.Fprintf(&b, "Numbers: `result.json`; provenance (model, images, backend, versions, flags): `provenance.json`. Made %s.\n", r.CompletedAt.Format(time.RFC3339))
	return b.String()
}

// ExportImages writes the first n images of ds as PNG files into dir (dir/<class>/<index>.png),
// for running Analyze on a data set that is not a folder; existing files are kept, so a rerun
// writes nothing. It returns dir.
func ExportImages(ds *data.Dataset, n int, dir string) (string, error) {
	if ds == nil || ds.Len() == 0 {
		return "", fmt.Errorf("export images: no images")
	}
	n = min(max(n, 1), ds.Len())
	for i := range n {
		class := fmt.Sprint(ds.Labels[i])
		if int(ds.Labels[i]) < len(ds.ClassNames) {
			class = slug(ds.ClassNames[ds.Labels[i]])
		}
		path := filepath.Join(dir, class, fmt.Sprintf("%05d.png", i))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		img := image.NewNRGBA(image.Rect(0, 0, ds.W, ds.H))
		px := ds.Pixels[i*ds.H*ds.W*ds.C : (i+1)*ds.H*ds.W*ds.C]
		for y := range ds.H {
			for x := range ds.W {
				o := (y*ds.W + x) * ds.C
				r, g, b := px[o], px[o], px[o]
				if ds.C >= 3 {
					g, b = px[o+1], px[o+2]
				}
				img.SetNRGBA(x, y, color.NRGBA{r, g, b, 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return "", fmt.Errorf("export images: %s: %w", path, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		if err := figures.WriteAtomic(path, buf.Bytes()); err != nil {
			return "", fmt.Errorf("export images: %w", err)
		}
	}
	return dir, nil
}
