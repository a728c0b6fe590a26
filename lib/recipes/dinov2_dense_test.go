package recipes

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testimage"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/probes"
)

// miniADE20k writes an ADEChallengeData2016-layout copy: 24×32 images split at a random column
// into a reddish region (class 1) and a bluish one (class 2), the top two rows unlabelled (0).
func miniADE20k(t *testing.T, nTrain, nVal int) string {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, split := range []struct {
		name, prefix string
		n            int
	}{{"training", "ADE_train_", nTrain}, {"validation", "ADE_val_", nVal}} {
		for i := range split.n {
			name := fmt.Sprintf("%s%08d", split.prefix, i+1)
			img := image.NewRGBA(image.Rect(0, 0, 32, 24))
			ann := image.NewGray(image.Rect(0, 0, 32, 24))
			cut := 8 + rng.IntN(16)
			for y := range 24 {
				for x := range 32 {
					c, l := color.RGBA{200, 40, 30, 255}, uint8(1)
					if x >= cut {
						c, l = color.RGBA{20, 60, 210, 255}, 2
					}
					if y < 2 {
						l = 0
					}
					img.Set(x, y, c)
					ann.SetGray(x, y, color.Gray{Y: l})
				}
			}
			testimage.Write(t, filepath.Join(root, "images", split.name, name+".jpg"), img, 95)
			testimage.Write(t, filepath.Join(root, "annotations", split.name, name+".png"), ann, 95)
		}
	}
	return root
}

// miniNYUv2 writes a Kaggle-layout copy (CSVs in data/, paths relative to the root): train depth
// as 8-bit PNGs (0..10 m), test depth as 16-bit PNGs (mm), depth growing from top to bottom
// with a scene-dependent offset, brightness falling with depth, a few missing (0) pixels.
// It returns the data/ folder (what $BLOCKREC_NYUV2 names).
func miniNYUv2(t *testing.T, nTrain, nTest int) string {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var trainCSV, testCSV strings.Builder
	for i := range nTrain + nTest {
		img := image.NewRGBA(image.Rect(0, 0, 32, 24))
		offset := 1 + 3*rng.Float64()
		d8 := image.NewGray(image.Rect(0, 0, 32, 24))
		d16 := image.NewGray16(image.Rect(0, 0, 32, 24))
		for y := range 24 {
			for x := range 32 {
				m := offset + 4*float64(y)/23 // metres
				v := uint8(255 - 20*m)
				img.Set(x, y, color.RGBA{v, v / 2, 255 - v, 255})
				if (x+y)%7 == 0 {
					m = 0 // no measurement
				}
				d8.SetGray(x, y, color.Gray{Y: uint8(math.Round(m / 10 * 255))})
				d16.SetGray16(x, y, color.Gray16{Y: uint16(math.Round(m * 1000))})
			}
		}
		if i < nTrain {
			rgb, dep := fmt.Sprintf("data/nyu2_train/scene_%d/%d.jpg", i%2, i), fmt.Sprintf("data/nyu2_train/scene_%d/%d.png", i%2, i)
			testimage.Write(t, filepath.Join(root, rgb), img, 95)
			testimage.Write(t, filepath.Join(root, dep), d8, 95)
			fmt.Fprintf(&trainCSV, "%s,%s\n", rgb, dep)
		} else {
			rgb, dep := fmt.Sprintf("data/nyu2_test/%05d_colors.png", i), fmt.Sprintf("data/nyu2_test/%05d_depth.png", i)
			testimage.Write(t, filepath.Join(root, rgb), img, 95)
			testimage.Write(t, filepath.Join(root, dep), d16, 95)
			fmt.Fprintf(&testCSV, "%s,%s\n", rgb, dep)
		}
	}
	for name, content := range map[string]string{"nyu2_train.csv": trainCSV.String(), "nyu2_test.csv": testCSV.String()} {
		if err := os.WriteFile(filepath.Join(root, "data", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "data")
}

// TestDINOv2DenseProbes runs the DINOv2 experiment with miniature ADE20k and NYUv2 copies: every
// model (teacher, Raptor K=2, 3) gets a filled row per task with a value in range; a rerun reads
// the same rows from disk; without the folders the rows say "not run".
func TestDINOv2DenseProbes(t *testing.T) {
	b := backend.MustNew()
	t.Setenv(ADE20kEnv, "")
	t.Setenv(NYUv2Env, "")
	t.Setenv("BLOCKREC_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	opts := microDINOv2(t)
	opts.ADE20kDir, opts.NYUv2Dir = miniADE20k(t, 6, 4), miniNYUv2(t, 6, 4)
	var log strings.Builder
	res, err := RunDINOv2(b, opts, &log)
	if err != nil {
		t.Fatal(err)
	}
	models := []string{"teacher", "Raptor K=2", "Raptor K=3"}
	if len(res.Dense) != 2*len(models) {
		t.Fatalf("%d dense rows, want %d: %+v", len(res.Dense), 2*len(models), res.Dense)
	}
	for i, row := range res.Dense {
		task, model := []string{ADE20kTask, NYUv2Task}[i/len(models)], models[i%len(models)]
		if row.Task != task || row.Model != model || !row.Run {
			t.Errorf("row %d = %+v, want %s / %s, run", i, row, model, task)
			continue
		}
		switch {
		case math.IsNaN(row.Value) || math.IsInf(row.Value, 0):
			t.Errorf("%s %s: value %v", model, task, row.Value)
		case task == ADE20kTask && (row.Value < 0 || row.Value > 1):
			t.Errorf("%s: mIoU %v outside [0, 1]", model, row.Value)
		case task == NYUv2Task && (row.Value <= 0 || row.Value > 10):
			t.Errorf("%s: RMSE %v m outside (0, 10]", model, row.Value)
		}
		if model != "teacher" && !strings.Contains(row.Comment, "teacher's probe") {
			t.Errorf("%s %s: comment %q does not give the teacher's probe", model, task, row.Comment)
		}
	}
	// The miniature's classes are a colour split at a random column: predicting one class
	// everywhere scores about 0.25, so above 0.5 the per-patch predictions land on the right pixels.
	if v := res.Dense[0].Value; v <= 0.5 {
		t.Errorf("teacher mIoU %.3f on the two-colour miniature: the patch grid does not map onto the pixels", v)
	}
	for _, want := range []string{ADE20kTask, NYUv2Task, "6 train / 4 val", "6 train / 4 test"} {
		if !strings.Contains(res.DenseNote, want) {
			t.Errorf("dense note %q lacks %q", res.DenseNote, want)
		}
	}
	if strings.Contains(res.ProbeTable(), "| not run") {
		t.Errorf("probe table still says not run:\n%s", res.ProbeTable())
	}
	t.Logf("dense rows: %+v\nlog:\n%s", res.Dense, log.String())

	again, err := RunDINOv2(b, opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(res.Dense)
	j2, _ := json.Marshal(again.Dense)
	if string(j1) != string(j2) {
		t.Errorf("rerun gave other dense rows:\n%s\n%s", j1, j2)
	}

	opts.ADE20kDir, opts.NYUv2Dir = "", ""
	unset, err := RunDINOv2(b, opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(unset.Dense) != 2*len(models) {
		t.Fatalf("%d rows without data, want %d", len(unset.Dense), 2*len(models))
	}
	for _, row := range unset.Dense {
		if row.Run || !strings.Contains(row.Comment, "not run") {
			t.Errorf("without data: row %+v, want not run", row)
		}
	}

	// A folder that is not ADE20k fails by name.
	opts.ADE20kDir = t.TempDir()
	if _, err := RunDINOv2(b, opts, io.Discard); err == nil || !strings.Contains(err.Error(), opts.ADE20kDir) {
		t.Errorf("empty ADE20k folder: err = %v, want it named", err)
	}
}

// TestDensePatchFeatures checks the teacher's patch tokens against lib/dinov2's extractor (its
// final-LayerNormed output), and the plain-Go final LayerNorm (used on Raptor's rollout) against
// the graph's.
func TestDensePatchFeatures(t *testing.T) {
	b := backend.MustNew()
	dir := t.TempDir()
	cfg := TinyDINOv2Config()
	cfg.NumHiddenLayers = 3
	if err := dinov2.Generate(dir, cfg, 9); err != nil {
		t.Fatal(err)
	}
	m, err := dinov2.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	if err := m.Install(ctx.In(dinov2.Scope)); err != nil {
		t.Fatal(err)
	}
	norm, err := newFinalNorm(m)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Config().ImageSize
	d, err := newDenseRun(b, &TrainedViT{Model: m.ViT, Ctx: ctx.In(dinov2.Scope)}, norm, s, data.ImageNetStats,
		DINOv2Plan{}, nil, dir, DenseOptions{Batch: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := probes.ADE20kPairs(miniADE20k(t, 0, 5), "validation")
	if err != nil {
		t.Fatal(err)
	}
	images, err := d.loadImages(imagePaths(pairs))
	if err != nil {
		t.Fatal(err)
	}
	feats, err := d.patchFeatures(images, len(pairs))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := dinov2.NewExtractor(b, m, 2)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := ex.Extract(images, len(pairs), s, s)
	if err != nil {
		t.Fatal(err)
	}
	layout := acts.Layout
	from, to := layout.Patches()
	tok, dim, layers := layout.NumTokens(), acts.Hidden.Dim, acts.Hidden.Layers
	if len(feats) != 1 || len(feats[0]) != len(pairs)*(to-from)*dim {
		t.Fatalf("%d models, %d values; want 1 and %d", len(feats), len(feats[0]), len(pairs)*(to-from)*dim)
	}
	for i := range pairs {
		want := acts.Normed[(i*tok+from)*dim : (i*tok+to)*dim]
		goNormed := norm.normTokens(acts.Hidden.Image(i).Layer(layers - 1))[from*dim : to*dim]
		got := feats[0][i*(to-from)*dim : (i+1)*(to-from)*dim]
		for k := range want {
			if math.Abs(float64(got[k]-want[k])) > 1e-4 || math.Abs(float64(goNormed[k]-want[k])) > 1e-3 {
				t.Fatalf("image %d value %d: dense %g, Go LayerNorm %g, extractor %g", i, k, got[k], goNormed[k], want[k])
			}
		}
	}
}

// TestNearestResize compares with a direct float computation of the source pixel.
func TestNearestResize(t *testing.T) {
	for _, c := range []struct{ h, w, nh, nw int }{{2, 3, 4, 6}, {5, 7, 3, 2}, {4, 4, 4, 4}, {1, 5, 3, 1}, {480, 640, 16, 16}} {
		src := make([]int, c.h*c.w)
		for i := range src {
			src[i] = i
		}
		got := nearestResize(src, c.h, c.w, c.nh, c.nw)
		for y := range c.nh {
			for x := range c.nw {
				sy := int(math.Floor((float64(y) + 0.5) * float64(c.h) / float64(c.nh)))
				sx := int(math.Floor((float64(x) + 0.5) * float64(c.w) / float64(c.nw)))
				if got[y*c.nw+x] != src[sy*c.w+sx] {
					t.Fatalf("%+v: pixel (%d, %d) = %d, want source (%d, %d)", c, y, x, got[y*c.nw+x], sy, sx)
				}
			}
		}
	}
}

// TestCapPairs keeps evenly spaced pairs, all of them when the cap is large or unset.
func TestCapPairs(t *testing.T) {
	p := make([]probes.Pair, 10)
	for i := range p {
		p[i].Image = fmt.Sprint(i)
	}
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0123456789"}, {20, "0123456789"}, {5, "02468"}, {3, "036"}, {1, "0"}} {
		var got strings.Builder
		for _, q := range capPairs(p, c.n) {
			got.WriteString(q.Image)
		}
		if got.String() != c.want {
			t.Errorf("cap %d: %s, want %s", c.n, got.String(), c.want)
		}
	}
}

// BenchmarkDenseSegmentationProbe is one epoch of the ADE20k probe at ViT-B/14 sizes (768
// features, 150 classes) on 1024 patch rows (4 images at 224 px), to size the real runs.
func BenchmarkDenseSegmentationProbe(b *testing.B) {
	const rows, dim = 1024, 768
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, rows*dim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, rows)
	for i := range labels {
		labels[i] = int32(rng.IntN(ADE20kClasses))
	}
	for b.Loop() {
		if _, err := probes.TrainSoftmax(x, rows, dim, labels, ADE20kClasses, probes.TrainOptions{Epochs: 1, BatchSize: 256, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
