package recipes

import (
	"bytes"
	"fmt"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/vit"
)

// randomSubject returns an untrained ViT (random weights, created by a first forward pass) on
// 16×16 images: patch 4, 2 registers, LayerScale, so every token group is present.
func randomSubject(t *testing.T, b backends.Backend, ds *data.Dataset) DynamicsSubject {
	t.Helper()
	cfg := vit.Config{ImageSize: 16, PatchSize: 4, Channels: 3, Dim: 16, Depth: 5, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS, LayerScaleInit: 0.5, Registers: 2, NumClasses: ds.NumClasses}
	m, err := vit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	s := DynamicsSubject{Name: "random ViT", Version: "seed 3", Model: m, Ctx: ctx.In("vit")}
	if _, err := extractStates(b, s, ds, 1); err != nil { // creates the variables
		t.Fatal(err)
	}
	return s
}

// tinyDINOv2 generates and loads a tiny random DINOv2 checkpoint (SwiGLU, LayerScale, 1 register).
func tinyDINOv2(t *testing.T) DynamicsSubject {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dinov2-tiny")
	if err := dinov2.Generate(dir, dinov2.TinyHFConfig(1, true), 7); err != nil {
		t.Fatal(err)
	}
	prep := data.Preprocessor{Resize: 16, Crop: 16, Filter: data.Bicubic, Stats: data.ImageNetStats}
	s, err := LoadDINOv2Subject(dir, dinov2.HubOptions{Offline: true}, prep)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// extractStates runs the subject's full forward pass over the first n images of ds.
func extractStates(b backends.Backend, s DynamicsSubject, ds *data.Dataset, n int) ([]*hidden.States, error) {
	h, w := s.imageSize(ds)
	imgs, err := s.images(ds, seqRange(0, n))
	if err != nil {
		return nil, err
	}
	ex, err := vit.NewExtractor(b, s.Ctx, s.Model, n, nil)
	if err != nil {
		return nil, err
	}
	var out []*hidden.States
	err = ex.Run(imgs, n, h, w, func(eb *vit.ExtractedBatch) error {
		for i := 0; i < eb.States.Images; i++ {
			out = append(out, eb.States.Image(i))
		}
		return nil
	})
	return out, err
}

func seqRange(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// byClass returns ds with its images sorted by class (as some image folders are).
func byClass(ds *data.Dataset) *data.Dataset {
	var idx []int
	for c := 0; c < ds.NumClasses; c++ {
		for i, l := range ds.Labels {
			if int(l) == c {
				idx = append(idx, i)
			}
		}
	}
	return ds.Select(idx)
}

// maxRelDiff is max |a−b| / max |b|.
func maxRelDiff(a, b []float32) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// TestRunFromReproducesForward continues the forward pass from every layer's own unperturbed
// state and checks that it lands on the model's final state, for our ViT and for DINOv2.
func TestRunFromReproducesForward(t *testing.T) {
	b := backend.MustNew()
	ds := data.Synthetic(8, 16, 4, 5)
	for _, tc := range []struct {
		name    string
		subject func() DynamicsSubject
	}{
		{"random ViT", func() DynamicsSubject { return randomSubject(t, b, ds) }},
		{"tiny DINOv2", func() DynamicsSubject { return tinyDINOv2(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.subject()
			states, err := extractStates(b, s, ds, 2)
			if err != nil {
				t.Fatal(err)
			}
			h, w := s.imageSize(ds)
			run := s.RunFrom(b, h, w)
			L := s.Model.Config.Depth
			for i, st := range states {
				for l := 0; l <= L; l++ {
					final, err := run(l, st.Layer(l))
					if err != nil {
						t.Fatal(err)
					}
					if d := maxRelDiff(final, st.Layer(L)); d > 1e-4 {
						t.Errorf("image %d, run from layer %d: final state differs by %.2g (relative), want ≤ 1e-4", i, l, d)
					}
				}
				// Starting layer matters: the layer-0 state run from layer 1 skips block 1.
				wrong, err := run(1, st.Layer(0))
				if err != nil {
					t.Fatal(err)
				}
				if d := maxRelDiff(wrong, st.Layer(L)); d < 1e-3 {
					t.Errorf("image %d: skipping block 1 changed the final state by only %.2g", i, d)
				}
			}
			if _, err := run(0, make([]float32, 3)); err == nil || !strings.Contains(err.Error(), "want") {
				t.Errorf("a state of the wrong size: err = %v", err)
			}
		})
	}
}

func TestRunPathReproducesForward(t *testing.T) {
	b := backend.MustNew()
	ds := data.Synthetic(8, 16, 4, 5)
	s := randomSubject(t, b, ds)
	states, err := extractStates(b, s, ds, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, w := s.imageSize(ds)
	path := s.RunPath(b, h, w)
	L := s.Model.Config.Depth
	st := states[0]
	n := st.Tokens * st.Dim
	for _, l := range []int{0, 1, L - 1, L} {
		p, err := path(l, st.Layer(l))
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != (L-l)*n {
			t.Fatalf("path from layer %d: %d values, want %d layers × %d", l, len(p), L-l, n)
		}
		for m := l + 1; m <= L; m++ {
			if d := maxRelDiff(p[(m-l-1)*n:(m-l)*n], st.Layer(m)); d > 1e-4 {
				t.Errorf("path from layer %d: layer %d differs by %.2g (relative)", l, m, d)
			}
		}
	}
}

// checkRigour checks the held-out speed split, the angular self-correction, the centred rank and
// the S-shape test of a result over `images` images, and that every rigour figure draws.
func checkRigour(t *testing.T, r *DynamicsResult, images int) {
	t.Helper()
	if r.SpeedHeldOut.Images != images/2 || r.Speed.Images != images {
		t.Errorf("held-out speed over %d images (all: %d), want %d of %d", r.SpeedHeldOut.Images, r.Speed.Images, images/2, images)
	}
	if !strings.Contains(r.SpeedTestNote, fmt.Sprintf("%d images", (images+1)/2)) || !strings.Contains(r.SpeedTestNote, fmt.Sprintf("other %d", images/2)) {
		t.Errorf("speed test note %q does not give the split", r.SpeedTestNote)
	}
	if len(r.SplitPhases) != len(r.Phases) {
		t.Fatalf("%d split phase sets, want %d", len(r.SplitPhases), len(r.Phases))
	}
	for _, st := range r.SpeedTests {
		for _, p := range r.SplitPhases {
			if p.K == st.K && fmt.Sprint(p.Thresholds) != fmt.Sprint(st.Test.Boundaries) {
				t.Errorf("k=%d %v: tested boundaries %v, want the held-out split's %v", st.K, st.Scope, st.Test.Boundaries, p.Thresholds)
			}
		}
	}
	for _, sb := range r.Summary.SpeedBoundaries {
		if fmt.Sprint(sb.Test.Boundaries) != fmt.Sprint(r.SummaryTestBoundaries) {
			t.Errorf("summary speed test of %v uses %v, want the split boundaries %v", sb.Scope, sb.Test.Boundaries, r.SummaryTestBoundaries)
		}
	}
	L := r.FinalLayer
	for _, res := range []dynamics.SelfCorrectionResult{r.SelfCorrectionCLS, r.SelfCorrectionPatches} {
		cs, ok := res.ContractionOf(res.Perturbed)
		if !ok || len(cs.Blocks) != L {
			t.Errorf("%v perturbed: contraction for %d blocks, want %d", res.Perturbed, len(cs.Blocks), L)
			continue
		}
		for i, iv := range cs.Ratio {
			if iv.N != res.Images || !(iv.Mean > 0) || iv.Lo > iv.Mean || iv.Hi < iv.Mean {
				t.Errorf("%v perturbed, block %d: contraction %+v", res.Perturbed, cs.Blocks[i], iv)
			}
		}
		ps, _ := res.PathOf(res.Perturbed)
		ang, _ := res.Ang(res.Perturbed)
		for i := range ps.Perturb {
			// the path's last point is the final layer: the same angle as Angle (token mean)
			if got, want := ps.Mean[i][len(ps.Mean[i])-1], ang.Stats[i].Mean; math.Abs(got-want) > 1e-3*(1+want) {
				t.Errorf("%v perturbed at %d: final path angle %v, final angle %v", res.Perturbed, ps.Perturb[i], got, want)
			}
		}
	}
	if sc := r.Summary.SelfCorrection; sc == nil || sc.PatchAngular == nil || sc.CLSAngular == nil {
		t.Errorf("summary lacks the angular self-correction: %+v", sc)
	}
	if len(r.Updates.CenteredStableRank) != len(r.Updates.StableRank) {
		t.Errorf("%d centred stable-rank series, want %d", len(r.Updates.CenteredStableRank), len(r.Updates.StableRank))
	}
	if sr := r.Summary.StableRank; sr == nil || math.IsNaN(sr.CenteredLate) {
		t.Errorf("summary lacks the centred stable rank: %+v", sr)
	}
	for _, c := range r.Summary.Convergence {
		if (L+1 >= 7) != (c.Shape != nil) {
			t.Errorf("%v: shape test %v for %d layers", c.Scope, c.Shape, L+1)
		}
	}
	figs, err := r.DynamicsFigures()
	if err != nil {
		t.Fatal(err)
	}
	want := 6 // shape, 2 angular deviations, contraction, centred rank, held-out speed
	if L+1 < 7 {
		want-- // no shape test
	}
	if len(figs) != want {
		t.Errorf("%d rigour figures, want %d", len(figs), want)
	}
	for _, f := range figs {
		if f.Caption == "" {
			t.Errorf("figure %s has no caption", f.Name)
		}
		c := vgimg.New(f.W, f.H)
		f.Figure.Draw(draw.New(c))
	}
}

// TestDynamicsEndToEnd runs every analysis on a random ViT and checks the shapes of what comes
// out, the caching, and the JSON round trip.
func TestDynamicsEndToEnd(t *testing.T) {
	b := backend.MustNew()
	ds := byClass(data.Synthetic(24, 16, 4, 5))
	s := randomSubject(t, b, ds)
	cfg := DynamicsConfig{Images: 12, SelfCorrectionImages: 3, TrajectoryImages: 5, Epsilon: 0.1,
		Ks: []int{2, 3}, SummaryK: 3, Permutations: 200, TopK: 4, BatchSize: 5, Seed: 2}
	path := filepath.Join(t.TempDir(), "dyn.json")
	var log bytes.Buffer
	r, err := CachedDynamics(b, path, s, ds, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	L := s.Model.Config.Depth
	layout := s.Model.Layout(16, 16)
	if r.FinalLayer != L || r.Layout != layout {
		t.Fatalf("final layer %d, layout %+v; want %d, %+v", r.FinalLayer, r.Layout, L, layout)
	}
	checkLens := func(what string, series []dynamics.Series, groups, n int) {
		t.Helper()
		if len(series) != groups {
			t.Errorf("%s: %d series, want %d", what, len(series), groups)
		}
		for _, g := range series {
			if len(g.Layers) != n || len(g.Stats) != n {
				t.Errorf("%s %v: %d layers, %d stats; want %d", what, g.Scope, len(g.Layers), len(g.Stats), n)
			}
		}
	}
	checkLens("convergence", r.Convergence.Groups, 3, L+1)
	checkLens("speed", r.Speed.Groups, 3, L)
	checkLens("self-correction (CLS)", r.SelfCorrectionCLS.RelL2, 3, L+1)
	checkLens("self-correction (patches)", r.SelfCorrectionPatches.Angle, 3, L+1)
	checkLens("stable rank", r.Updates.StableRank, 3, L) // all tokens, registers, patches
	checkLens("patch coherence", r.Updates.PairwiseCoherence, 3, L)
	if r.Convergence.Images != 12 || r.SelfCorrectionCLS.Images != 3 {
		t.Errorf("images: convergence %d, self-correction %d; want 12, 3", r.Convergence.Images, r.SelfCorrectionCLS.Images)
	}
	for _, sv := range r.Updates.SingularValues {
		if len(sv.Mean) != L || len(sv.Mean[0]) != 4 {
			t.Errorf("singular values of %v: %d×%d, want %d×4", sv.Scope, len(sv.Mean), len(sv.Mean[0]), L)
		}
	}
	if len(r.Similarity) != L {
		t.Errorf("similarity has %d rows, want %d (blocks 1..L)", len(r.Similarity), L)
	}
	for _, p := range r.Phases {
		if len(p.Thresholds) != p.K-1 {
			t.Errorf("k=%d: %d thresholds", p.K, len(p.Thresholds))
		}
	}
	if len(r.SpeedTests) != 2*3 {
		t.Errorf("%d speed boundary tests, want 2 ks × 3 groups", len(r.SpeedTests))
	}
	for _, tr := range []dynamics.TrajectoryResult{r.TrajectoriesCLS, r.TrajectoriesMeanPatch} {
		if len(tr.Trajectories) != 5 {
			t.Fatalf("%v: %d trajectories, want 5", tr.Kind, len(tr.Trajectories))
		}
		for i, p := range tr.Trajectories {
			if len(p.X) != L+1 || len(p.Y) != L+1 {
				t.Errorf("%v trajectory %d: %d points, want %d", tr.Kind, i, len(p.X), L+1)
			}
		}
	}
	// The data set is sorted by class; the traced images must still be a sample of several classes.
	classes := map[int]bool{}
	for _, p := range r.TrajectoriesCLS.Trajectories {
		classes[p.Label] = true
	}
	if len(classes) < 2 {
		t.Errorf("the 5 traced images are all of one class: images are not streamed in random order")
	}
	sm := r.Summary
	if len(sm.Convergence) != 3 || len(sm.SpeedBoundaries) != 3 || sm.StableRank == nil || sm.Coherence == nil || sm.SelfCorrection == nil {
		t.Errorf("summary is missing claims: %+v", sm)
	}
	// A perturbation at the final layer runs nothing: the perturbed group ends exactly ε away.
	for _, tc := range []struct {
		res   dynamics.SelfCorrectionResult
		scope dynamics.Scope
	}{{r.SelfCorrectionCLS, dynamics.ScopeCLS}, {r.SelfCorrectionPatches, dynamics.ScopePatches}} {
		rel, _ := tc.res.Rel(tc.scope)
		if got := rel.Stats[L].Mean; math.Abs(got-0.1) > 1e-5 {
			t.Errorf("%v perturbed at layer L: deviation %v, want ε = 0.1", tc.scope, got)
		}
	}
	checkRigour(t, r, 12)
	if !strings.Contains(log.String(), "12/12 images") {
		t.Errorf("progress log lacks the final count:\n%s", log.String())
	}

	// The second call reads the cache; a different config recomputes.
	log.Reset()
	again, err := CachedDynamics(b, path, s, ds, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 || again.Finished != r.Finished {
		t.Errorf("the cached result was not reused (log %q)", log.String())
	}
	first, _ := os.ReadFile(path)
	path2 := filepath.Join(t.TempDir(), "again.json")
	if err := WriteDynamics(path2, again); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path2)
	if !bytes.Equal(first, second) {
		t.Errorf("reading and rewriting the cache changed it")
	}
	cfg.Epsilon = 0.2
	log.Reset()
	other, err := CachedDynamics(b, path, s, ds, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "recomputing") || other.SelfCorrectionCLS.Epsilon != 0.2 {
		t.Errorf("a changed config did not recompute (log %q)", log.String())
	}
}

// TestDynamicsOfIdentityBlocks zeroes every LayerScale, so each block is the identity: tokens
// never move, γ = 1, speed 0, updates vanish, and a perturbation at any layer arrives unchanged.
func TestDynamicsOfIdentityBlocks(t *testing.T) {
	b := backend.MustNew()
	ds := data.Synthetic(8, 16, 4, 5)
	s := randomSubject(t, b, ds)
	weights, err := s.Model.Config.Weights(s.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range weights {
		if strings.HasSuffix(name, "/gamma") {
			weights[name] = tensors.FromShape(w.Shape())
		}
	}
	if err := s.Model.Config.SetWeights(s.Ctx, weights); err != nil {
		t.Fatal(err)
	}
	cfg := DynamicsConfig{Images: 4, SelfCorrectionImages: 2, TrajectoryImages: 2, Epsilon: 0.05,
		Ks: []int{2}, SummaryK: 2, Permutations: 50, TopK: 2, BatchSize: 4, Seed: 1}
	r, err := RunDynamics(b, s, ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range r.Convergence.Groups {
		for i, st := range g.Stats {
			if math.Abs(st.Mean-1) > 1e-6 {
				t.Errorf("γ of %v at layer %d = %v, want 1", g.Scope, i, st.Mean)
			}
		}
	}
	for _, g := range r.Speed.Groups {
		for i, st := range g.Stats {
			if st.Mean > 1e-3 {
				t.Errorf("speed of %v at step %d = %v rad, want 0", g.Scope, i, st.Mean)
			}
		}
	}
	for _, g := range r.Updates.StableRank {
		for i, st := range g.Stats {
			if st.Mean != 0 {
				t.Errorf("stable rank of %v at step %d = %v, want 0 (no update)", g.Scope, i, st.Mean)
			}
		}
	}
	for _, tc := range []struct {
		res   dynamics.SelfCorrectionResult
		scope dynamics.Scope
	}{{r.SelfCorrectionCLS, dynamics.ScopeCLS}, {r.SelfCorrectionPatches, dynamics.ScopePatches}} {
		for _, g := range tc.res.RelL2 {
			want := 0.0
			if g.Scope == tc.scope {
				want = 0.05
			}
			for i, st := range g.Stats {
				if math.Abs(st.Mean-want) > 1e-5 {
					t.Errorf("%v perturbed at layer %d: %v deviates by %v, want %v", tc.scope, g.Layers[i], g.Scope, st.Mean, want)
				}
			}
		}
	}
	// Coherence of zero updates is NaN; it must survive the JSON cache.
	if p, _ := r.Updates.Pairwise(dynamics.ScopePatches); !math.IsNaN(p.Stats[0].Mean) {
		t.Fatalf("coherence of zero updates = %v, expected NaN (the test relies on it)", p.Stats[0].Mean)
	}
	path := filepath.Join(t.TempDir(), "identity.json")
	if err := WriteDynamics(path, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadDynamics(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := back.Updates.Pairwise(dynamics.ScopePatches); !math.IsNaN(p.Stats[0].Mean) {
		t.Errorf("NaN coherence read back as %v", p.Stats[0].Mean)
	}
	if p, _ := r.Updates.Pairwise(dynamics.ScopePatches); !math.IsNaN(p.Stats[0].Mean) {
		t.Errorf("writing the cache changed the result in memory: %v", p.Stats[0].Mean)
	}
}

// TestDynamicsOnDINOv2 runs the whole analysis through the DINOv2 loading path on a generated
// tiny checkpoint (3 blocks, 1 register, preprocessing to 16 px).
func TestDynamicsOnDINOv2(t *testing.T) {
	b := backend.MustNew()
	s := tinyDINOv2(t)
	ds := data.Synthetic(10, 24, 3, 9) // 24 px images, resized and cropped to 16 px
	cfg := DynamicsConfig{Images: 6, SelfCorrectionImages: 2, TrajectoryImages: 3, Epsilon: 0.1,
		Ks: []int{2}, SummaryK: 2, Permutations: 100, TopK: 3, BatchSize: 4, Seed: 1}
	r, err := RunDynamics(b, s, ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.FinalLayer != 3 || r.Layout != (hidden.Layout{NumRegisters: 1, NumPatches: 16}) {
		t.Fatalf("final layer %d, layout %+v", r.FinalLayer, r.Layout)
	}
	if len(r.Convergence.Groups) != 3 || len(r.Speed.Groups[0].Stats) != 3 || len(r.TrajectoriesCLS.Trajectories) != 3 {
		t.Errorf("unexpected result shape: %d convergence groups, %d speed steps, %d trajectories",
			len(r.Convergence.Groups), len(r.Speed.Groups[0].Stats), len(r.TrajectoriesCLS.Trajectories))
	}
	if r.Summary.SelfCorrection == nil || !strings.HasPrefix(r.Key.Subject, "DINOv2 ") {
		t.Errorf("summary %+v, subject %q", r.Summary.SelfCorrection, r.Key.Subject)
	}
	if _, err := LoadDINOv2Subject(filepath.Join(t.TempDir(), "missing"), dinov2.HubOptions{Offline: true}, data.DINOv2Preprocessor()); err == nil {
		t.Errorf("loading a missing folder did not fail")
	}
}

// ExampleRunDynamics analyses a tiny random DINOv2 checkpoint (written in the Hugging Face
// layout, as the real DINOv2-giant would be found in a cache) on synthetic images.
func ExampleRunDynamics() {
	dir, err := os.MkdirTemp("", "dinov2-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := dinov2.Generate(dir, dinov2.TinyHFConfig(0, false), 1); err != nil {
		panic(err)
	}
	prep := data.Preprocessor{Resize: 16, Crop: 16, Filter: data.Bicubic, Stats: data.ImageNetStats}
	subject, err := LoadDINOv2Subject(dir, dinov2.HubOptions{Offline: true}, prep)
	if err != nil {
		panic(err)
	}
	cfg := DynamicsConfig{Images: 4, SelfCorrectionImages: 2, TrajectoryImages: 4, Epsilon: 0.1, Ks: []int{2},
		SummaryK: 2, Permutations: 100, TopK: 4, BatchSize: 4, Seed: 1}
	r, err := RunDynamics(backend.MustNew(), subject, data.Synthetic(8, 16, 2, 1), cfg, nil)
	if err != nil {
		panic(err)
	}
	cls, _ := r.Convergence.Group(dynamics.ScopeCLS)
	rel, _ := r.SelfCorrectionPatches.Rel(dynamics.ScopePatches)
	fmt.Printf("hidden layers 0..%d, %d patches\n", r.FinalLayer, r.Layout.NumPatches)
	fmt.Printf("γ of CLS at the last layer: %.3f\n", cls.Stats[r.FinalLayer].Mean)
	fmt.Printf("patches perturbed at layers %v; at the last one they end ε = %.3f away\n", rel.Layers, rel.Stats[r.FinalLayer].Mean)
	fmt.Printf("%d phase boundary for k=2; %d traced CLS paths\n", len(r.Boundaries(2)), len(r.TrajectoriesCLS.Trajectories))
	// Output:
	// hidden layers 0..3, 16 patches
	// γ of CLS at the last layer: 1.000
	// patches perturbed at layers [0 1 2 3]; at the last one they end ε = 0.100 away
	// 1 phase boundary for k=2; 4 traced CLS paths
}

// TestConvergenceShapeFigure draws the shape figure of a hand-made logistic γ curve over 13
// layers (the small test models have too few layers for the shape test) and keeps the cosine
// axis within [−1, 1].
func TestConvergenceShapeFigure(t *testing.T) {
	for _, c := range []struct {
		name   string
		gamma  func(l float64) float64
		sShape bool
	}{
		{"logistic", func(l float64) float64 { return -0.9 + 1.9/(1+math.Exp(-(l-6)/1.5)) }, true},
		{"linear", func(l float64) float64 { return -0.5 + 1.5*l/12 }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := dynamics.Series{Scope: dynamics.ScopeCLS}
			for l := 0; l <= 12; l++ {
				g.Layers = append(g.Layers, l)
				g.Stats = append(g.Stats, dynamics.Stat{N: 1, Mean: c.gamma(float64(l))})
			}
			r := &DynamicsResult{FinalLayer: 12, Convergence: dynamics.ConvergenceResult{Images: 1, Groups: []dynamics.Series{g}}}
			var err error
			if r.Summary, err = dynamics.Summarize(dynamics.SummaryInput{Convergence: &r.Convergence}); err != nil {
				t.Fatal(err)
			}
			if got := r.Summary.Convergence[0].SShaped; got != c.sShape {
				t.Errorf("SShaped = %v, want %v", got, c.sShape)
			}
			p, err := ConvergenceShapeFigure(r)
			if err != nil || p == nil {
				t.Fatalf("figure %v, err %v", p, err)
			}
			if p.Y.Min < -1 || p.Y.Max > 1 {
				t.Errorf("cosine axis [%v, %v] leaves [−1, 1]", p.Y.Min, p.Y.Max)
			}
			p.Draw(draw.New(vgimg.New(figures.Width, figures.Height)))
		})
	}
}
