package figures

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// depthMatrix is a 12-layer dissimilarity matrix with phases 1-7 8-10 11-12.
func heatmapDepthMatrix() [][]float64 {
	phase := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2}
	m := make([][]float64, 12)
	for i := range m {
		m[i] = make([]float64, 12)
		for j := range m[i] {
			if i != j {
				m[i][j] = 0.02*math.Abs(float64(i-j)) + 0.3*math.Abs(float64(phase[i]-phase[j]))
			}
		}
	}
	return m
}

func heatmapRenderPNG(t *testing.T, p *plot.Plot) image.Image {
	t.Helper()
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(12*vg.Centimeter, 10*vg.Centimeter), vgimg.UseDPI(96))}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// heatmapCountPixels counts pixels in the x-range [fromX, toX) of the image's width satisfying pred.
func heatmapCountPixels(img image.Image, fromX, toX float64, pred func(r, g, b uint32) bool) int {
	bnd := img.Bounds()
	n := 0
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X + int(fromX*float64(bnd.Dx())); x < bnd.Min.X+int(toX*float64(bnd.Dx())); x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if pred(r>>8, g>>8, b>>8) {
				n++
			}
		}
	}
	return n
}

func heatmapIsRed(r, g, b uint32) bool { return r > 180 && g < 60 && b < 60 }

func TestHeatmapRenders(t *testing.T) {
	m := heatmapDepthMatrix()
	plain, err := Heatmap(m, HeatmapOptions{Title: "no boundaries", OneBased: true})
	if err != nil {
		t.Fatal(err)
	}
	withB, err := Heatmap(m, HeatmapOptions{Title: "phases", OneBased: true, Boundaries: []int{7, 10}, ColorBarLabel: "1 − cos"})
	if err != nil {
		t.Fatal(err)
	}
	if withB.X.Label.Text != "layer" || withB.Y.Label.Text != "layer" || withB.Title.Text != "phases" {
		t.Errorf("labels %q %q %q", withB.X.Label.Text, withB.Y.Label.Text, withB.Title.Text)
	}
	a, b := heatmapRenderPNG(t, plain), heatmapRenderPNG(t, withB)
	redPlain, redB := heatmapCountPixels(a, 0, 1, heatmapIsRed), heatmapCountPixels(b, 0, 1, heatmapIsRed)
	if redB < redPlain+100 {
		t.Errorf("boundaries add only %d red pixels (%d -> %d)", redB-redPlain, redPlain, redB)
	}
	// The colour bar: a gradient of many distinct colours in the right fifth of the image.
	colours := map[[3]uint32]bool{}
	heatmapCountPixels(b, 0.8, 1, func(r, g, b uint32) bool { colours[[3]uint32{r, g, b}] = true; return false })
	if len(colours) < 30 {
		t.Errorf("only %d distinct colours right of the matrix: no colour bar?", len(colours))
	}
	// Ticks: 1-based labels.
	ticks := withB.X.Tick.Marker.Ticks(withB.X.Min, withB.X.Max)
	if ticks[0].Label != "1" || ticks[len(ticks)-1].Value != 12 {
		t.Errorf("ticks %v", ticks)
	}

	if dir := os.Getenv("BLOCKREC_HEATMAP_PNG_DIR"); dir != "" { // to look at the result by eye
		if err := withB.Save(12*vg.Centimeter, 10*vg.Centimeter, filepath.Join(dir, "heatmap.png")); err != nil {
			t.Fatal(err)
		}
	}
	// Saving by extension works for all three formats.
	for _, ext := range []string{"png", "svg", "pdf"} {
		path := filepath.Join(t.TempDir(), "h."+ext)
		if err := withB.Save(12*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() < 500 {
			t.Fatalf("%s: %v %v", ext, st, err)
		}
	}
}

func TestHeatmapLargeAndNaN(t *testing.T) {
	m := make([][]float64, 40)
	for i := range m {
		m[i] = make([]float64, 40)
		for j := range m[i] {
			m[i][j] = math.Abs(float64(i - j))
		}
	}
	m[3][5] = math.NaN()
	p, err := Heatmap(m, HeatmapOptions{Boundaries: []int{10, 20, 30}})
	if err != nil {
		t.Fatal(err)
	}
	heatmapRenderPNG(t, p)
	if ticks := p.X.Tick.Marker.Ticks(0, 40); ticks[0].Label != "0" {
		t.Errorf("0-based ticks start at %q", ticks[0].Label)
	}
	// A constant matrix still renders (its colour range is widened).
	p, err = Heatmap([][]float64{{0, 1}, {1, 0}}, HeatmapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	heatmapRenderPNG(t, p)
}

func TestHeatmapErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    [][]float64
		opts HeatmapOptions
		want string
	}{
		{"empty", nil, HeatmapOptions{}, "empty matrix"},
		{"ragged", [][]float64{{0, 1}, {1}}, HeatmapOptions{}, "not square"},
		{"rectangular", [][]float64{{0, 1, 2}, {1, 0, 3}}, HeatmapOptions{}, "not square"},
		{"boundary 0", [][]float64{{0, 1}, {1, 0}}, HeatmapOptions{Boundaries: []int{0}}, "boundary 0"},
		{"boundary n", [][]float64{{0, 1}, {1, 0}}, HeatmapOptions{Boundaries: []int{2}}, "boundary 2"},
		{"all NaN", [][]float64{{0, math.NaN()}, {math.NaN(), 0}}, HeatmapOptions{}, "colour range"},
		{"min > max", [][]float64{{0, 1}, {1, 0}}, HeatmapOptions{Min: 2, Max: 1}, "colour range"},
	} {
		_, err := Heatmap(tc.m, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
