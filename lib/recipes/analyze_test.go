package recipes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/internal/testimage"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/phases"
)

// analyzeFixture writes a tiny DINOv2 checkpoint of depth blocks and an image folder holding
// good RGB images, a grey PNG, the Pillow-written CMYK JPEG of lib/data, a corrupt file and an
// image smaller than a patch. It returns the model folder, the image folder and the files that
// must be used.
func analyzeFixture(t *testing.T, depth int) (model, images string, good []string) {
	t.Helper()
	dir := t.TempDir()
	model = filepath.Join(dir, "tiny")
	c := dinov2.TinyHFConfig(1, false)
	c.NumHiddenLayers = depth
	if err := dinov2.Generate(model, c, 7); err != nil {
		t.Fatal(err)
	}
	images = filepath.Join(dir, "images")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 7 {
		img := image.NewNRGBA(image.Rect(0, 0, 18+i, 20))
		for j := range img.Pix {
			img.Pix[j] = uint8(rng.IntN(256))
		}
		for j := 3; j < len(img.Pix); j += 4 {
			img.Pix[j] = 255
		}
		p := filepath.Join(images, fmt.Sprintf("sub/rgb%d.png", i))
		testimage.Write(t, p, img, 0)
		good = append(good, p)
	}
	grey := image.NewGray(image.Rect(0, 0, 24, 24))
	for j := range grey.Pix {
		grey.Pix[j] = uint8(j * 7)
	}
	testimage.Write(t, filepath.Join(images, "grey.png"), grey, 0)
	cmyk, err := os.ReadFile(filepath.Join("..", "data", "testdata", "cmyk.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(images, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cmyk.jpg", cmyk)
	write("corrupt.jpg", []byte("\xff\xd8\xff\xe0 not really a JPEG"))
	testimage.Write(t, filepath.Join(images, "tiny.png"), image.NewNRGBA(image.Rect(0, 0, 3, 3)), 0)
	good = append(good, filepath.Join(images, "cmyk.jpg"), filepath.Join(images, "grey.png"))
	return model, images, good
}

// TestAnalyzeStreamsAndResumes: the streamed, batched matrix equals one computed from every
// usable image in one pass (independently decoded, one forward pass, the running-sum
// accumulator), bad files are skipped with one warning each, the outputs are written, and a
// second run reuses the saved work and gives the same numbers.
func TestAnalyzeStreamsAndResumes(t *testing.T) {
	b := pipelineBackend(t) // pure Go: tiny graphs; XLA runs Analyze in notebook 04's smoke run
	modelDir, images, good := analyzeFixture(t, 5)
	am, err := LoadAnalyzeModel(modelDir, dinov2.HubOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	var progress bytes.Buffer
	opts := AnalyzeOptions{Images: images, Out: out, Batch: 3, Ks: []int{1, 2, 3}, Bootstrap: 12, NullReplicates: 9, Seed: 2, Progress: &progress}
	res, err := Analyze(b, am, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Used != len(good) || len(res.Skipped) != 2 || res.Listed != len(good)+2 {
		t.Fatalf("used %d, skipped %v of %d; want %d used, corrupt.jpg and tiny.png skipped", res.Used, res.Skipped, res.Listed, len(good))
	}
	for _, name := range []string{"corrupt.jpg", "tiny.png"} {
		if n := strings.Count(progress.String(), "warning: skipped image "+filepath.Join(images, name)); n != 1 {
			t.Errorf("%d warnings naming %s in:\n%s", n, name, progress.String())
		}
	}

	// Reference: every usable image, in ListImages order, through one forward pass.
	var ordered []string
	listed, _ := dinov2.ListImages(images)
	for _, p := range listed {
		for _, g := range good {
			if p == g {
				ordered = append(ordered, p)
			}
		}
	}
	n := am.Prep.OutputSize()
	pix := make([]float32, len(ordered)*n)
	for i, p := range ordered {
		rgb, h, w, err := data.ReadImageRGB(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := am.Prep.ApplyHWC(pix[i*n:(i+1)*n], rgb, h, w); err != nil {
			t.Fatal(err)
		}
	}
	states, err := dinov2.Extract(b, am.Model, pix, len(ordered), am.Prep.Crop, am.Prep.Crop, 64)
	if err != nil {
		t.Fatal(err)
	}
	acc := phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: res.Layout})
	for i := range states.Images {
		if err := acc.Add(states.Image(i)); err != nil {
			t.Fatal(err)
		}
	}
	want := acc.Matrix()
	if len(res.Similarity) != 5 {
		t.Fatalf("%d rows, want 5 blocks", len(res.Similarity))
	}
	for i := range want {
		for j := range want {
			if d := math.Abs(res.Similarity[i][j] - want[i][j]); d > 1e-5 {
				t.Fatalf("W[%d][%d] = %g, one-pass reference %g", i, j, res.Similarity[i][j], want[i][j])
			}
		}
	}
	if len(res.Phases) != 3 || res.Phases[1].Stability == nil || res.Phases[1].Stability.Replicates != 12 || res.Phases[1].Null == nil {
		t.Fatalf("phases %+v: want K=1,2,3 with stability and the null", res.Phases)
	}
	for _, f := range []string{"report.md", "result.json", "provenance.json", "figures/analyze_similarity.png", "figures/analyze_stability.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	report, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, s := range []string{"| 2 | " + res.Phases[1].Contiguous.String(), "corrupt.jpg", "figures/analyze_similarity.png"} {
		if !strings.Contains(string(report), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}

	// A second run computes nothing new.
	progress.Reset()
	again, err := Analyze(b, am, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(progress.String(), ", done") || strings.Count(progress.String(), "reused from chunk-") != 4 {
		t.Errorf("second run did not reuse the four batches of 3 of the 11 files:\n%s", progress.String())
	}
	j1, _ := json.Marshal([]any{res.Similarity, res.Phases})
	j2, _ := json.Marshal([]any{again.Similarity, again.Phases})
	if !bytes.Equal(j1, j2) {
		t.Error("second run gave other numbers")
	}
}

func TestAnalyzeNoUsableImages(t *testing.T) {
	modelDir, _, _ := analyzeFixture(t, 3)
	am, err := LoadAnalyzeModel(modelDir, dinov2.HubOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	images := t.TempDir()
	if err := os.WriteFile(filepath.Join(images, "a.png"), []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(pipelineBackend(t), am, AnalyzeOptions{Images: images, Out: filepath.Join(t.TempDir(), "out"), Ks: []int{2}})
	if err == nil || !strings.Contains(err.Error(), "none of the 1 image files") || !strings.Contains(err.Error(), "a.png") {
		t.Errorf("err %v, want one saying no image could be used, naming a.png", err)
	}
}

func TestAnalyzeFamilyOf(t *testing.T) {
	dir := t.TempDir()
	folder := func(name, config string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if config != "" {
			if err := os.WriteFile(filepath.Join(p, "config.json"), []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	for _, tc := range []struct {
		name, ref, want, wantErr string
	}{
		{"dinov2 folder", folder("a", `{"model_type": "dinov2"}`), "dinov2", ""},
		{"registers folder", folder("b", `{"model_type": "dinov2_with_registers"}`), "dinov2", ""},
		{"no model_type", folder("c", `{"hidden_size": 8}`), "dinov2", ""},
		{"HF ViT folder", folder("d", `{"model_type": "vit"}`), "vit", ""},
		{"DeiT folder", folder("g", `{"model_type": "deit"}`), "vit", ""},
		{"Swin folder", folder("h", `{"model_type": "swin"}`), "", `model_type "swin" is not supported; supported families: dinov2`},
		{"no config", folder("e", ""), "", "has no readable config.json"},
		{"bad JSON", folder("f", `{`), "", "not valid JSON"},
		{"dinov2 hub id", "facebook/dinov2-small", "dinov2", ""},
		{"ViT hub id", "google/vit-base-patch16-224", "vit", ""},
		{"other hub id", "microsoft/swin-tiny-patch4-window7-224", "", "supported families: dinov2: DINOv2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := AnalyzeFamilyOf(tc.ref)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || f.Name != tc.want {
				t.Fatalf("%q, %v; want %q", f.Name, err, tc.want)
			}
		})
	}
}

func TestAnalyzePreprocessor(t *testing.T) {
	for _, tc := range []struct{ imageSize, patch, resize, crop int }{
		{518, 14, 256, 224}, // DINOv2: trained at 518, evaluated at 224
		{224, 16, 256, 224},
		{16, 4, 18, 16}, // the tiny checkpoint: its own size
		{30, 4, 32, 28}, // rounded down to the patch
		{3, 4, 5, 4},    // never below one patch
	} {
		p := AnalyzePreprocessor(tc.imageSize, tc.patch)
		if p.Resize != tc.resize || p.Crop != tc.crop || p.Crop%tc.patch != 0 || p.Resize < p.Crop {
			t.Errorf("AnalyzePreprocessor(%d, %d) = resize %d crop %d, want %d %d", tc.imageSize, tc.patch, p.Resize, p.Crop, tc.resize, tc.crop)
		}
	}
}

func TestCheckAnalyzeOptions(t *testing.T) {
	ok := AnalyzeOptions{Images: "i", Out: "o", Ks: []int{2}}
	for _, tc := range []struct {
		mod     func(*AnalyzeOptions)
		depth   int
		wantErr string
	}{
		{func(*AnalyzeOptions) {}, 12, ""},
		{func(o *AnalyzeOptions) { o.Ks = []int{1, 11} }, 12, ""},
		{func(o *AnalyzeOptions) { o.Ks = []int{12} }, 12, "at most 11 for a model of 12 blocks"},
		{func(o *AnalyzeOptions) { o.Ks = []int{0} }, 12, "must be >= 1"},
		{func(o *AnalyzeOptions) { o.Ks = nil }, 12, "no numbers of phases"},
		{func(o *AnalyzeOptions) { o.Images = "" }, 12, "no image folder"},
		{func(o *AnalyzeOptions) { o.Bootstrap = -1 }, 12, "bootstrap replicates -1"},
		{func(o *AnalyzeOptions) { o.NullReplicates = -2 }, 12, "null replicates -2"},
		{func(o *AnalyzeOptions) { o.MaxImages = -1 }, 12, "max images -1"},
	} {
		o := ok
		tc.mod(&o)
		err := CheckAnalyzeOptions(o)
		if err == nil {
			err = CheckKs(o.Ks, tc.depth)
		}
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: err %v, want %q", o, err, tc.wantErr)
		}
	}
}

// ExampleAnalyzeFamilyOf: a hub id or folder is matched to a family without downloading
// anything; another model gets the list of supported families.
func ExampleAnalyzeFamilyOf() {
	f, err := AnalyzeFamilyOf("facebook/dinov2-with-registers-small")
	fmt.Println(f.Name, err)
	_, err = AnalyzeFamilyOf("openai/clip-vit-base-patch32")
	fmt.Println(err != nil && strings.Contains(err.Error(), "supported families: dinov2"))
	p := AnalyzePreprocessor(518, 14)
	fmt.Println(p.Resize, p.Crop)
	// Output:
	// dinov2 <nil>
	// true
	// 256 224
}

func TestExportImages(t *testing.T) {
	ds := syntheticSplits().Test
	dir := filepath.Join(t.TempDir(), "images")
	if _, err := ExportImages(ds, 5, dir); err != nil {
		t.Fatal(err)
	}
	paths, err := dinov2.ListImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 5 {
		t.Fatalf("%d images written, want 5", len(paths))
	}
	first := ""
	for _, p := range paths {
		if strings.HasSuffix(p, "00000.png") {
			first = p
		}
	}
	pix, h, w, err := data.ReadImageRGB(first, 1)
	if err != nil || h != ds.H || w != ds.W || len(pix) != h*w*3 {
		t.Fatalf("read back %d×%d (%d bytes), %v; want %d×%d", h, w, len(pix), err, ds.H, ds.W)
	}
	for i := range pix {
		if pix[i] != ds.Pixels[i] && ds.C == 3 {
			t.Fatalf("pixel byte %d: %d, want %d", i, pix[i], ds.Pixels[i])
		}
	}
	if _, err := ExportImages(nil, 5, dir); err == nil {
		t.Error("no error for no data set")
	}
}

func TestImageDynamicsKnownAngles(t *testing.T) {
	layout := hidden.Layout{NumPatches: 1}
	s := hidden.NewStates(3, layout.NumTokens(), 2)
	rad := math.Pi / 6
	for tok := range layout.NumTokens() {
		copy(s.Token(0, tok), []float32{1, 0})
		copy(s.Token(1, tok), []float32{float32(math.Cos(rad)), float32(math.Sin(rad))})
		copy(s.Token(2, tok), []float32{0, 3}) // norm does not matter
	}
	gamma, speed, err := dynamics.ImageMeans(s, layout, analyzeScopes)
	if err != nil {
		t.Fatal(err)
	}
	for g := range analyzeGroups {
		for l, want := range []float64{0, 0.5, 1} {
			if math.Abs(gamma[g][l]-want) > 1e-6 {
				t.Errorf("%s γ_%d = %v, want %v", analyzeGroups[g], l, gamma[g][l], want)
			}
		}
		for l, want := range []float64{30, 60} {
			if math.Abs(speed[g][l]-want) > 1e-4 {
				t.Errorf("%s speed %d→%d = %v°, want %v°", analyzeGroups[g], l, l+1, speed[g][l], want)
			}
		}
	}
	d, err := summariseDynamics([][][]float64{gamma, gamma}, [][][]float64{speed, speed}, 1)
	if err != nil || math.Abs(d.Speed[1][1].Value-60) > 1e-4 || d.Speed[1][1].CI.Width() > 1e-9 {
		t.Errorf("summary of two identical images: %+v, %v", d, err)
	}
	if _, err := summariseDynamics(nil, nil, 1); err == nil {
		t.Error("no error for no images")
	}
}
