package figures

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blockrec/blockrec/lib/notebook"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// testDir points the figures directory at a fresh temporary folder, at smoke scale.
func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	t.Setenv(notebook.ScaleEnv, "smoke")
	return dir
}

func twoLines() *plot.Plot {
	return Lines("depth", "layer", "similarity",
		Series{Label: "CLS", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0.8, 0.7, 0.65}, Err: []float64{0, 0.05, 0.1, 0.05}},
		Series{Label: "patches", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0.9, 0.85, 0.8}})
}

func TestSaveWritesFilesAndProvenance(t *testing.T) {
	dir := testDir(t)
	prov := Provenance{Dataset: "synthetic", Model: "none", Backend: "test", Notes: "n",
		Extra: map[string]any{"seeds": 3, "lr": 0.001}}
	w, h := 12*vg.Centimeter, 8*vg.Centimeter
	before := time.Now().UTC().Add(-time.Second)
	paths, err := Save(twoLines(), "test_fig-1", w, h, prov)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ext := range []string{".png", ".svg", ".pdf", ".json"} {
		want = append(want, filepath.Join(dir, "test_fig-1"+ext))
	}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Fatalf("Save returned %q, want %q", paths, want)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	img, err := png.Decode(bytes.NewReader(read(paths[0])))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	wantW, wantH := int(math.Round(w.Points()*PNGDPI/72)), int(math.Round(h.Points()*PNGDPI/72))
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Errorf("PNG is %dx%d pixels, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	if svg := string(read(paths[1])); !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, "<svg") || !strings.HasSuffix(strings.TrimSpace(svg), "</svg>") {
		t.Errorf("SVG lacks its header or closing tag: %.60q...", svg)
	}
	if pdf := read(paths[2]); !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[len(pdf)-32:], []byte("%%EOF")) {
		t.Errorf("PDF lacks %%PDF- header or %%%%EOF trailer")
	}

	var got map[string]any
	if err := json.Unmarshal(read(paths[3]), &got); err != nil {
		t.Fatalf("sidecar is not JSON: %v", err)
	}
	for key, want := range map[string]any{"name": "test_fig-1", "dataset": "synthetic", "model": "none",
		"backend": "test", "notes": "n", "scale": "smoke", "width_cm": 12.0, "height_cm": 8.0} {
		if v, ok := got[key].(float64); ok {
			if math.Abs(v-want.(float64)) > 1e-9 {
				t.Errorf("sidecar %s = %v, want %v", key, v, want)
			}
		} else if got[key] != want {
			t.Errorf("sidecar %s = %v, want %v", key, got[key], want)
		}
	}
	if extra, _ := got["extra"].(map[string]any); extra["seeds"] != 3.0 || extra["lr"] != 0.001 {
		t.Errorf("sidecar extra = %v", got["extra"])
	}
	if files, _ := got["files"].([]any); len(files) != 3 || files[0] != "test_fig-1.png" {
		t.Errorf("sidecar files = %v", got["files"])
	}
	date, err := time.Parse(time.RFC3339, got["date"].(string))
	if err != nil || date.Before(before) || date.After(time.Now().Add(time.Second)) {
		t.Errorf("sidecar date %v (%v) is not the time of saving", got["date"], err)
	}

	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("figures dir holds %d entries, want 4", len(entries))
	}
}

func TestSaveRejects(t *testing.T) {
	noLabel := Lines("t", "", "y", Series{X: []float64{0, 1}, Y: []float64{0, 1}})
	for _, tc := range []struct {
		desc, name string
		fig        Figure
		prov       Provenance
		wantErr    string
	}{
		{"empty name", "", twoLines(), Provenance{}, "name"},
		{"upper case", "Fig1", twoLines(), Provenance{}, "name"},
		{"path", "../fig", twoLines(), Provenance{}, "name"},
		{"extension", "fig.png", twoLines(), Provenance{}, "name"},
		{"space", "my fig", twoLines(), Provenance{}, "name"},
		{"leading dash", "-fig", twoLines(), Provenance{}, "name"},
		{"unlabelled axis", "fig", noLabel, Provenance{}, "label both axes"},
		{"unlabelled tile", "fig", Panel(2, twoLines(), noLabel), Provenance{}, "plot 1"},
		{"nil figure", "fig", nil, Provenance{}, "nil"},
		{"extra not JSON", "fig", twoLines(), Provenance{Extra: map[string]any{"x": math.NaN()}}, "JSON"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dir := testDir(t)
			_, err := Save(tc.fig, tc.name, Width, Height, tc.prov)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Save: error %v, want one containing %q", err, tc.wantErr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a rejected Save wrote %d files", len(entries))
			}
		})
	}
}

func TestDir(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+notebook.ModulePath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(notebook.RootEnv, root)
	t.Setenv(DirEnv, "")
	for scale, want := range map[string]string{
		"smoke": filepath.Join(root, "build", "figures-smoke"),
		"cpu":   filepath.Join(root, "figures"),
		"paper": filepath.Join(root, "figures"),
	} {
		t.Setenv(notebook.ScaleEnv, scale)
		if got, err := Dir(); err != nil || got != want {
			t.Errorf("Dir() at %s = %q, %v; want %q", scale, got, err, want)
		}
	}
	t.Setenv(DirEnv, filepath.Join(root, "elsewhere"))
	if got, _ := Dir(); got != filepath.Join(root, "elsewhere") {
		t.Errorf("Dir() with %s set = %q", DirEnv, got)
	}
}

func TestShowOutsideNotebookSaves(t *testing.T) {
	dir := testDir(t)
	if _, err := Show(twoLines(), "shown", Width, Height, Provenance{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "shown.png")); err != nil {
		t.Error(err)
	}
}

// renderPNG draws fig at 72 dpi (1 pixel per point) and decodes it.
func renderPNG(t *testing.T, fig Figure, w, h vg.Length) (image.Image, draw.Canvas) {
	t.Helper()
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(72))
	dc := draw.New(c)
	fig.Draw(dc)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img, dc
}

// pixelAt returns the colour at canvas point (x, y) in points (y up) of a 72 dpi image.
func pixelAt(img image.Image, x, y vg.Length) color.RGBA {
	r, g, b, a := img.At(int(x), img.Bounds().Dy()-1-int(y)).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

func sameColor(a color.RGBA, c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return a.R == uint8(r>>8) && a.G == uint8(g>>8) && a.B == uint8(b>>8)
}

// TestBarsPlacement checks, by reading pixels back, that each group's bar sits in its own part of
// each category's slot and reaches its value, and that the y range covers the error bars.
func TestBarsPlacement(t *testing.T) {
	values := [][]float64{{3, 1}, {2, 4}}
	p := Bars("b", "dataset", "accuracy", []string{"A", "B"},
		BarGroup{Label: "g0", Values: values[0], Err: []float64{0.5, 0.5}},
		BarGroup{Label: "g1", Values: values[1]})
	w, h := vg.Length(400), vg.Length(300)
	img, dc := renderPNG(t, p, w, h)
	data := p.DataCanvas(dc)
	trX, trY := p.Transforms(&data)
	for g := range 2 {
		b := &barSet{index: g, count: 2}
		for i, v := range values[g] {
			x := b.center(i) + 0.35*b.width() // off-centre: the error bar runs down the middle.
			if got := pixelAt(img, trX(x), trY(0.75*v)); !sameColor(got, plotutil.Color(g)) {
				t.Errorf("group %d category %d: pixel inside the bar is %v, want %v", g, i, got, plotutil.Color(g))
			}
			if got := pixelAt(img, trX(x), trY(v)+3); sameColor(got, plotutil.Color(g)) {
				t.Errorf("group %d category %d: bar extends above its value %v", g, i, v)
			}
		}
	}
	if p.Y.Max < 4 || p.Y.Min > 0 {
		t.Errorf("y range [%v, %v] does not cover [0, 4]", p.Y.Min, p.Y.Max)
	}
	if _, _, _, ymax := (&barSet{group: BarGroup{Values: []float64{3}, Err: []float64{0.5}}}).DataRange(); ymax != 3.5 {
		t.Errorf("DataRange ymax = %v, want 3.5 (value + error)", ymax)
	}
}

func TestBarCenters(t *testing.T) {
	for _, tc := range []struct {
		index, count, category int
		want                   float64
	}{
		{0, 1, 0, 0}, {0, 1, 2, 2},
		{0, 2, 0, -0.2}, {1, 2, 0, 0.2},
		{0, 4, 1, 0.7}, {3, 4, 1, 1.3},
	} {
		b := &barSet{index: tc.index, count: tc.count}
		if got := b.center(tc.category); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("bar %d of %d in category %d: centre %v, want %v", tc.index, tc.count, tc.category, got, tc.want)
		}
	}
}

// TestPanelTiles checks that a 2-column panel draws a plot in each half of the canvas.
func TestPanelTiles(t *testing.T) {
	w, h := vg.Length(600), vg.Length(200)
	img, _ := renderPNG(t, Panel(2, twoLines(), twoLines()), w, h)
	dark := func(x0, x1 int) int {
		n := 0
		for y := 0; y < img.Bounds().Dy(); y++ {
			for x := x0; x < x1; x++ {
				if r, g, b, _ := img.At(x, y).RGBA(); r+g+b < 3*0x8000 {
					n++
				}
			}
		}
		return n
	}
	left, right := dark(0, 300), dark(300, 600)
	if left < 500 || right < 500 {
		t.Errorf("dark pixels: left half %d, right half %d; want a plot drawn in each", left, right)
	}
}

func TestMalformedInputPanics(t *testing.T) {
	for _, tc := range []struct {
		desc string
		f    func()
		want string
	}{
		{"unequal lengths", func() { Lines("t", "x", "y", Series{Label: "s", X: []float64{1, 2}, Y: []float64{1}}) }, `"s"`},
		{"NaN", func() { Lines("t", "x", "y", Series{X: []float64{1}, Y: []float64{math.NaN()}}) }, "not finite"},
		{"negative error", func() { Lines("t", "x", "y", Series{X: []float64{1}, Y: []float64{1}, Err: []float64{-1}}) }, ">= 0"},
		{"error count", func() { Lines("t", "x", "y", Series{X: []float64{1}, Y: []float64{1}, Err: []float64{1, 2}}) }, "errors"},
		{"no points", func() { Lines("t", "x", "y", Series{}) }, "no points"},
		{"bar count", func() { Bars("t", "x", "y", []string{"a", "b"}, BarGroup{Label: "g", Values: []float64{1}}) }, `"g"`},
		{"bar Inf", func() { Bars("t", "x", "y", []string{"a"}, BarGroup{Values: []float64{math.Inf(1)}}) }, "not finite"},
		{"no categories", func() { Bars("t", "x", "y", nil) }, "no categories"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tc.want) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// fakeRepo makes a temporary repository root, points the package at it and returns it.
func fakeRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+notebook.ModulePath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(notebook.RootEnv, root)
	t.Setenv(DirEnv, "")
	return root
}

// TestDirForKeepsCommittedFigures: a figure goes where its own scale says, and a committed figure
// made from another data set or at another scale is never replaced.
func TestDirForKeepsCommittedFigures(t *testing.T) {
	root := fakeRepo(t)
	t.Setenv(notebook.ScaleEnv, "cpu")
	const standIn = "CIFAR-10 (Krizhevsky 2009), lossy JPEG re-encoding"
	committed := Provenance{Dataset: standIn, Scale: "cpu"}
	if got, err := DirFor("01_fig", committed); err != nil || got != filepath.Join(root, "build", "figures-cpu-cifar-10") {
		t.Fatalf("into an empty figures/, DirFor = %q, %v; want build/figures-cpu-cifar-10", got, err)
	}
	t.Setenv(DirEnv, filepath.Join(root, "figures")) // commit the first figure on purpose
	if _, err := Save(twoLines(), "01_fig", Width, Height, committed); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DirEnv, "")
	before, _ := os.ReadFile(filepath.Join(root, "figures", "01_fig.png"))
	if len(before) == 0 {
		t.Fatal("the first cpu figure was not written to figures/")
	}
	for _, c := range []struct {
		name, fig string
		prov      Provenance
		want      string // relative to root
	}{
		{"same data and scale rewrites", "01_fig", committed, "figures"},
		{"other data set", "01_fig", Provenance{Dataset: "Fashion-MNIST (Xiao et al. 2017), padded", Scale: "cpu"}, "build/figures-cpu-fashion-mnist"},
		{"other scale", "01_fig", Provenance{Dataset: standIn, Scale: "paper"}, "build/figures-paper-cifar-10"},
		{"smoke by its own scale, whatever BLOCKREC_SCALE says", "01_fig", Provenance{Dataset: standIn, Scale: "smoke"}, "build/figures-smoke"},
		{"a new figure of a notebook with committed figures of the same data", "01_new", Provenance{Dataset: standIn + ", test split, 500 images", Scale: "cpu"}, "figures"},
		{"a new figure of that notebook from other data", "01_new", Provenance{Dataset: "synthetic coloured-blob images: x", Scale: "cpu"}, "build/figures-cpu-synthetic-coloured-blob-images"},
		{"a new figure of that notebook at another scale", "01_new", Provenance{Dataset: standIn, Scale: "paper"}, "build/figures-paper-cifar-10"},
		{"a notebook with no committed figures", "02_new", Provenance{Dataset: standIn, Scale: "cpu"}, "build/figures-cpu-cifar-10"},
		{"a name without a notebook prefix", "new", Provenance{Dataset: standIn, Scale: "cpu"}, "build/figures-cpu-cifar-10"},
		{"the same data with details of the images used", "01_fig", Provenance{Dataset: standIn + ", test split, 500 images", Scale: "cpu"}, "figures"},
		{"another data set with the same name (official CIFAR-10)", "01_fig", Provenance{Dataset: "CIFAR-10 (Krizhevsky 2009), official binary release", Scale: "cpu"}, "build/figures-cpu-cifar-10"},
		{"a new figure from that other data set", "01_new", Provenance{Dataset: "CIFAR-10 (Krizhevsky 2009), official binary release", Scale: "cpu"}, "build/figures-cpu-cifar-10"},
		{"a data set whose name only starts like the committed one", "01_new", Provenance{Dataset: standIn + " and more", Scale: "cpu"}, "build/figures-cpu-cifar-10"},
		{"an empty data set", "01_new", Provenance{Scale: "cpu"}, "build/figures-cpu-unnamed-data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DirFor(c.fig, c.prov)
			if err != nil || got != filepath.Join(root, c.want) {
				t.Fatalf("DirFor = %q, %v; want %q", got, err, filepath.Join(root, c.want))
			}
		})
	}
	// Saving from other data leaves the committed files as they were.
	paths, err := Save(twoLines(), "01_fig", Width, Height, Provenance{Dataset: "Fashion-MNIST (Xiao)", Scale: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(root, "figures", "01_fig.png")); !bytes.Equal(before, after) || !strings.Contains(paths[0], "figures-cpu-fashion-mnist") {
		t.Errorf("a Fashion-MNIST figure replaced the committed one (written to %v)", paths)
	}
	// A sidecar that cannot be read sends the figure away; one bad sidecar of a notebook stops
	// new figures of that notebook too.
	fig := filepath.Join(root, "figures")
	for _, c := range []struct{ name, file, content, fig string }{
		{"a corrupt sidecar of that figure", "01_fig.json", "{not json", "01_fig"},
		{"a corrupt sidecar of another figure of the notebook", "01_bad.json", "{not json", "01_new"},
		{"a sidecar without a name", "01_bad.json", `{"dataset": "` + standIn + `", "scale": "cpu"}`, "01_new"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.ReadFile(filepath.Join(fig, c.file))
			t.Cleanup(func() {
				if before == nil {
					os.Remove(filepath.Join(fig, c.file))
				} else {
					os.WriteFile(filepath.Join(fig, c.file), before, 0o644)
				}
			})
			if err := os.WriteFile(filepath.Join(fig, c.file), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, err := DirFor(c.fig, committed); err != nil || got != filepath.Join(root, "build", "figures-cpu-cifar-10") {
				t.Errorf("DirFor = %q, %v; want build/figures-cpu-cifar-10", got, err)
			}
		})
	}
	if got, _ := DirFor("01_new", committed); got != fig {
		t.Errorf("after the clean-ups, a new 01 figure goes to %q, want figures/", got)
	}
	for _, set := range []string{filepath.Join(root, "figures"), "figures"} { // relative: from the repository root
		t.Setenv(DirEnv, set)
		if got, _ := DirFor("01_fig", Provenance{Dataset: "Fashion-MNIST", Scale: "cpu"}); got != fig {
			t.Errorf("with %s=%s, DirFor = %q, want %q", DirEnv, set, got, fig)
		}
	}
}

// TestSaveRecordsNoAbsolutePaths: provenance sidecars hold no absolute path of the machine.
func TestSaveRecordsNoAbsolutePaths(t *testing.T) {
	root := fakeRepo(t)
	t.Setenv(notebook.ScaleEnv, "smoke")
	result := filepath.Join(root, "data", "cache", "cpu", "r.json")
	_, err := Save(twoLines(), "abs", Width, Height, Provenance{Dataset: "d", Notes: "read " + result,
		Extra: map[string]any{"result": result, "elsewhere": "/opt/x/y.bin", "k": 3}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "build", "figures-smoke", "abs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc sidecar
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ field, got, want string }{
		{"extra.result", sc.Extra["result"].(string), "data/cache/cpu/r.json"},
		{"extra.elsewhere", sc.Extra["elsewhere"].(string), "y.bin"},
		{"notes", sc.Notes, "read data/cache/cpu/r.json"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if strings.Contains(string(raw), root) {
		t.Errorf("sidecar holds the repository's absolute path:\n%s", raw)
	}
}

// TestProvenanceHoldsNoMachinePaths: absolute paths of the machine inside any provenance text
// keep only their last element; paths under the repository become relative; ratios and units
// such as "img/s" or "1/2" are left alone.
func TestProvenanceHoldsNoMachinePaths(t *testing.T) {
	root, err := notebook.RepoRoot()
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct{ in, want string }{
		{`xla (xla:cpu - PJRT "cpu" plugin (/root/.local/lib/go-xla/pjrt_c_api_cpu_plugin.so) v0.115)`, `xla (xla:cpu - PJRT "cpu" plugin (pjrt_c_api_cpu_plugin.so) v0.115)`},
		{"/home/me/data/cifar-100-binary.tar.gz", "cifar-100-binary.tar.gz"},
		{"cache at " + filepath.Join(root, "data", "cache", "x.json"), "cache at data/cache/x.json"},
		{"260 img/s, 1/2 of the images, lr=3e-4", "260 img/s, 1/2 of the images, lr=3e-4"},
		{"dir=/tmp/run/a", "dir=a"},
	} {
		got := relativePaths(Provenance{Backend: c.in, Extra: map[string]any{"k": c.in}})
		if got.Backend != c.want || got.Extra["k"] != c.want {
			t.Errorf("%q → %q (extra %q), want %q", c.in, got.Backend, got.Extra["k"], c.want)
		}
	}
}

// TestExportedLineNamesTheFolder: the line under a figure in a notebook says where its files went,
// relative to the repository when inside it.
func TestExportedLineNamesTheFolder(t *testing.T) {
	root := fakeRepo(t)
	files := func(dir string) []string {
		var out []string
		for _, ext := range []string{".png", ".svg", ".pdf", ".json"} {
			out = append(out, filepath.Join(dir, "01_fig"+ext))
		}
		return out
	}
	for _, c := range []struct {
		name  string
		paths []string
		kept  bool
		want  string
	}{
		{"committed folder", files(filepath.Join(root, "figures")), false, "exported 01_fig (png, svg, pdf, json) to figures/"},
		{"per data set", files(filepath.Join(root, "build", "figures-cpu-fashion-mnist")), false, "exported 01_fig (png, svg, pdf, json) to build/figures-cpu-fashion-mnist/"},
		{"a folder named ..x inside the repository", files(filepath.Join(root, "..x")), false, "exported 01_fig (png, svg, pdf, json) to ..x/"},
		{"outside the repository", files("/elsewhere/out"), false, "exported 01_fig (png, svg, pdf, json) to /elsewhere/out/"},
		{"kept as it was", files(filepath.Join(root, "figures")), true, "01_fig unchanged in figures/ (png, svg, pdf, json; same drawing and provenance, files kept)"},
		{"nothing written", nil, false, "exported 01_fig"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := exportedLine("01_fig", c.paths, c.kept); got != c.want {
				t.Errorf("exportedLine = %q, want %q", got, c.want)
			}
		})
	}
}

// TestSaveKeepsAnUnchangedFigure: saving the same figure with the same provenance again leaves
// the files (and the recorded date) as they were; any change of provenance or drawing rewrites them.
func TestSaveKeepsAnUnchangedFigure(t *testing.T) {
	dir := testDir(t)
	prov := Provenance{Dataset: "d", Model: "m", Backend: "b", Scale: "cpu", Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if _, err := Save(twoLines(), "same", Width, Height, prov); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "same.json"))
	later := prov
	later.Date = prov.Date.Add(time.Hour)
	// Kept means every file is untouched, not only the sidecar.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, ext := range []string{".png", ".svg", ".pdf", ".json"} {
		if err := os.Chtimes(filepath.Join(dir, "same"+ext), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Save(twoLines(), "same", Width, Height, later); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".png", ".svg", ".pdf", ".json"} {
		if info, err := os.Stat(filepath.Join(dir, "same"+ext)); err != nil || !info.ModTime().Equal(old) {
			t.Errorf("same%s was rewritten though the figure did not change (%v)", ext, err)
		}
	}
	// A missing PDF is drawn again.
	if err := os.Remove(filepath.Join(dir, "same.pdf")); err != nil {
		t.Fatal(err)
	}
	if _, err := Save(twoLines(), "same", Width, Height, later); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, "same.pdf")); err != nil || info.Size() == 0 {
		t.Errorf("a deleted PDF was not written again: %v", err)
	}
	for _, c := range []struct {
		name    string
		fig     Figure
		prov    Provenance
		rewrite bool
	}{
		{"same figure, later date", twoLines(), later, false},
		{"other notes", twoLines(), Provenance{Dataset: "d", Model: "m", Backend: "b", Scale: "cpu", Notes: "new", Date: later.Date}, true},
		{"other drawing", Lines("another", "x (unit)", "y (unit)", Series{Label: "s", X: []float64{0, 1}, Y: []float64{1, 0}}), later, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "same.json"), first, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Save(twoLines(), "same", Width, Height, prov); err != nil { // back to the first drawing
				t.Fatal(err)
			}
			if _, err := Save(c.fig, "same", Width, Height, c.prov); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "same.json"))
			if rewritten := !bytes.Equal(got, first); rewritten != c.rewrite {
				t.Errorf("sidecar rewritten = %v, want %v:\n%s", rewritten, c.rewrite, got)
			}
		})
	}
}

// TestCommittedFiguresAreReplacedByTheirOwnRerun: each committed figure in <repo>/figures, saved
// again from its own provenance, goes back to figures/ (so a rerun on the same data refreshes
// it), and so does a new figure of its notebook from the same data.
func TestCommittedFiguresAreReplacedByTheirOwnRerun(t *testing.T) {
	t.Setenv(DirEnv, "")
	root, err := notebook.RepoRoot()
	if err != nil {
		t.Skip("not inside the repository:", err)
	}
	dir := filepath.Join(root, "figures")
	sidecars, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(sidecars) == 0 {
		t.Skip("no committed figures")
	}
	for _, path := range sidecars {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var old sidecar
		if err := json.Unmarshal(raw, &old); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		prefix, _, _ := strings.Cut(old.Name, "_")
		for _, name := range []string{old.Name, prefix + "_not_committed_yet"} {
			if got, err := DirFor(name, old.Provenance); err != nil || got != dir {
				t.Errorf("%s from the provenance of %s goes to %q (%v), want figures/", name, filepath.Base(path), got, err)
			}
		}
	}
}
