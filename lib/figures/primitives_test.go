package figures

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func TestIntervalValidation(t *testing.T) {
	x, y := []float64{0, 1}, []float64{1, 2}
	for _, tc := range []struct {
		desc string
		f    func()
		want string // "" = must not panic
	}{
		{"valid Lo/Hi", func() { Lines("t", "x", "y", Series{X: x, Y: y, Lo: []float64{0.5, 2}, Hi: []float64{1, 3}}) }, ""},
		{"valid band", func() { Lines("t", "x", "y", Series{X: x, Y: y, Err: []float64{0.1, 0.2}, Band: true}) }, ""},
		{"Lo only", func() { Lines("t", "x", "y", Series{Label: "s", X: x, Y: y, Lo: []float64{0, 1}}) }, "together"},
		{"Lo above Y", func() { Lines("t", "x", "y", Series{X: x, Y: y, Lo: []float64{0, 2.5}, Hi: []float64{2, 3}}) }, "point 1 is 2, outside its interval [2.5, 3]"},
		{"Hi below Y", func() { Lines("t", "x", "y", Series{X: x, Y: y, Lo: []float64{0, 1}, Hi: []float64{0.9, 3}}) }, "point 0"},
		{"NaN bound", func() { Lines("t", "x", "y", Series{X: x, Y: y, Lo: []float64{0, math.NaN()}, Hi: []float64{2, 3}}) }, "not finite"},
		{"bound count", func() { Lines("t", "x", "y", Series{X: x, Y: y, Lo: []float64{0}, Hi: []float64{2}}) }, "1 lower and 1 upper bounds for 2 points"},
		{"Err and Lo/Hi", func() {
			Lines("t", "x", "y", Series{X: x, Y: y, Err: []float64{1, 1}, Lo: []float64{0, 1}, Hi: []float64{2, 3}})
		}, "use one"},
		{"band without interval", func() { Lines("t", "x", "y", Series{X: x, Y: y, Band: true}) }, "no interval"},
		{"bar Lo above value", func() {
			Bars("t", "x", "y", []string{"a"}, BarGroup{Label: "g", Values: []float64{1}, Lo: []float64{1.5}, Hi: []float64{2}})
		}, `"g"): value 0 is 1, outside`},
		{"bar Hi only", func() { Bars("t", "x", "y", []string{"a"}, BarGroup{Values: []float64{1}, Hi: []float64{2}}) }, "together"},
		{"valid bars", func() {
			Bars("t", "x", "y", []string{"a", "b"}, BarGroup{Values: []float64{1, 2}, Lo: []float64{1, 0}, Hi: []float64{1, 4}})
		}, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				switch {
				case tc.want == "" && r != nil:
					t.Errorf("unexpected panic %v", r)
				case tc.want != "" && !strings.Contains(msg, tc.want):
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// TestIntervalRanges: the axes cover the interval bounds, and the offsets are the bounds' distances.
func TestIntervalRanges(t *testing.T) {
	s := Series{X: []float64{0, 1, 2}, Y: []float64{1, 2, 3}, Lo: []float64{0.5, 0.2, 3}, Hi: []float64{1.2, 2, 4.5}}
	for _, band := range []bool{false, true} {
		s.Band = band
		p := Lines("t", "x", "y", s)
		if math.Abs(p.Y.Min-0.2) > 1e-12 || p.Y.Max != 4.5 {
			t.Errorf("band=%v: y range [%v, %v], want [0.2, 4.5]", band, p.Y.Min, p.Y.Max)
		}
	}
	for i, e := range s.yErrors() {
		if e.Low != s.Y[i]-s.Lo[i] || e.High != s.Hi[i]-s.Y[i] {
			t.Errorf("point %d: offsets %+v for Y %v in [%v, %v]", i, e, s.Y[i], s.Lo[i], s.Hi[i])
		}
	}
	b := &barSet{group: BarGroup{Values: []float64{3, -1}, Lo: []float64{2, -2.5}, Hi: []float64{5, -0.5}}, count: 1}
	if _, _, ymin, ymax := b.DataRange(); ymin != -2.5 || ymax != 5 {
		t.Errorf("bar DataRange y [%v, %v], want [-2.5, 5]", ymin, ymax)
	}
}

// TestIntervalPixels reads back a band, the gap of a points-only series and a bar's whisker.
func TestIntervalPixels(t *testing.T) {
	w, h := vg.Length(400), vg.Length(300)
	x := []float64{0, 1, 2}
	band := Series{X: x, Y: []float64{0, 0, 0}, Lo: []float64{-1, -1, -1}, Hi: []float64{1, 2, 1}, Band: true}
	pts := Series{X: x, Y: []float64{3, 3, -3}, PointsOnly: true}
	line := Series{X: x, Y: []float64{-2, -2, -2}}
	p := Lines("t", "x", "y", line, band, pts) // the first dash pattern is solid
	img, dc := renderPNG(t, p, w, h)
	data := p.DataCanvas(dc)
	trX, trY := p.Transforms(&data)
	inBand := pixelAt(img, trX(0.5), trY(0.7))
	if inBand.R == 255 && inBand.G == 255 && inBand.B == 255 || near(inBand, plotutil.Color(1), 30) {
		t.Errorf("inside the band: %v, want a translucent tint of %v", inBand, plotutil.Color(1))
	}
	if got := pixelAt(img, trX(0.5), trY(1.8)); got.R != 255 || got.G != 255 || got.B != 255 {
		t.Errorf("above the band's upper bound: %v, want white", got)
	}
	if got := pixelAt(img, trX(0.3), trY(3)); near(got, plotutil.Color(2), 60) {
		t.Errorf("between two points of a PointsOnly series: %v, want no line of %v", got, plotutil.Color(2))
	}
	if !nearAround(img, trX(0.3), trY(-2), plotutil.Color(0)) {
		t.Errorf("between two points of a line: no pixel of its colour %v", plotutil.Color(0))
	}

	bp := Bars("b", "x", "y", []string{"a", "b"}, BarGroup{Values: []float64{2, 8}, Lo: []float64{1, 8}, Hi: []float64{4, 8}})
	img, dc = renderPNG(t, bp, w, h)
	data = bp.DataCanvas(dc)
	trX, trY = bp.Transforms(&data)
	xc := (&barSet{count: 1}).center(0)
	if got := pixelAt(img, trX(xc), trY(3.5)); got.R > 120 || got.G > 120 || got.B > 120 {
		t.Errorf("whisker between the value 2 and Hi 4: %v, want black", got)
	}
	if got := pixelAt(img, trX(xc), trY(4.5)); got.R != 255 {
		t.Errorf("above the whisker: %v, want white", got)
	}
}

// near reports whether colour a is within tol of c in every channel.
func near(a color.RGBA, c color.Color, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint8, y uint32) bool { return abs(int(x)-int(y>>8)) <= tol }
	return d(a.R, r) && d(a.G, g) && d(a.B, b)
}

func abs(x int) int { return max(x, -x) }

// nearAround reports whether a pixel within 2 points above or below (x, y) has about colour c.
func nearAround(img image.Image, x, y vg.Length, c color.Color) bool {
	for dy := vg.Length(-2); dy <= 2; dy++ {
		if near(pixelAt(img, x, y+dy), c, 12) {
			return true
		}
	}
	return false
}

func TestYRange(t *testing.T) {
	mk := func(y, e []float64) *plot.Plot {
		return Lines("t", "x", "cos", Series{X: []float64{0, 1, 2}[:len(y)], Y: y, Err: e})
	}
	for _, tc := range []struct {
		desc           string
		p              *plot.Plot
		cosine         bool
		lo, hi         float64 // for WithYRange
		wantLo, wantHi float64
		wantErr        string
	}{
		{"cosine clamps std bars past 1", mk([]float64{0.5, 0.9, 0.95}, []float64{0.1, 0.3, 0.45}), true, 0, 0, 0.4, 1, ""},
		{"cosine clamps below -1", mk([]float64{-0.9, 0}, []float64{0.5, 0}), true, 0, 0, -1, 0, ""},
		{"cosine keeps a range inside", mk([]float64{0.2, 0.3}, nil), true, 0, 0, 0.2, 0.3, ""},
		{"cosine widens a constant 1", mk([]float64{1, 1}, nil), true, 0, 0, 0.9, 1, ""},
		{"cosine of data outside", mk([]float64{2, 3}, nil), true, 0, 0, 0, 0, "outside [-1, 1]"},
		{"fixed range", mk([]float64{0.5, 3}, nil), false, 0, 1, 0, 1, ""},
		{"empty range", mk([]float64{0.5}, nil), false, 1, 1, 0, 0, "lo < hi"},
		{"NaN range", mk([]float64{0.5}, nil), false, math.NaN(), 1, 0, 0, "finite"},
		{"nil plot", nil, false, 0, 1, 0, 0, "nil plot"},
		{"nil plot cosine", nil, true, 0, 0, 0, 0, "nil plot"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var err error
			if tc.cosine {
				err = CosineAxis(tc.p)
			} else {
				err = WithYRange(tc.p, tc.lo, tc.hi)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(tc.p.Y.Min-tc.wantLo) > 1e-12 || math.Abs(tc.p.Y.Max-tc.wantHi) > 1e-12 {
				t.Errorf("y range [%v, %v], want [%v, %v]", tc.p.Y.Min, tc.p.Y.Max, tc.wantLo, tc.wantHi)
			}
		})
	}
}

func pt(x, y float64) vg.Point { return vg.Point{X: vg.Length(x), Y: vg.Length(y)} }

func TestBestCorner(t *testing.T) {
	area := vg.Rectangle{Min: pt(0, 0), Max: pt(100, 100)}
	size := pt(30, 20)
	dots := func(ps ...vg.Point) []canvasShape {
		var out []canvasShape
		for _, p := range ps {
			out = append(out, canvasShape{pts: []vg.Point{p}})
		}
		return out
	}
	var quarter []vg.Point // a grid filling the top-right quarter
	for x := 55.0; x <= 100; x += 5 {
		for y := 55.0; y <= 100; y += 5 {
			quarter = append(quarter, pt(x, y))
		}
	}
	for _, tc := range []struct {
		desc     string
		shapes   []canvasShape
		want     corner
		wantHits int
	}{
		{"no data: top right", nil, topRight, 0},
		{"top-right quarter full", dots(quarter...), topLeft, 0},
		{"only bottom left free", append(dots(quarter...), dots(pt(5, 95), pt(95, 5))...), bottomLeft, 0},
		{"every corner taken: the fewest", dots(pt(95, 95), pt(90, 90), pt(5, 95), pt(95, 5), pt(5, 5), pt(10, 10), pt(8, 8)), topLeft, 1},
		{"a diagonal line crosses two corners", []canvasShape{{pts: []vg.Point{pt(0, 0), pt(100, 100)}}}, topLeft, 0},
		{"a polygon over everything", []canvasShape{{pts: []vg.Point{pt(-1, -1), pt(101, -1), pt(101, 101), pt(-1, 101)}, filled: true}}, topRight, 1},
		{"a bar under the top-right corner only", []canvasShape{{pts: []vg.Point{pt(80, 0), pt(95, 0), pt(95, 90), pt(80, 90)}, filled: true}}, topLeft, 0},
		{"a segment through without a vertex inside", []canvasShape{{pts: []vg.Point{pt(60, 95), pt(100, 95)}}, {pts: []vg.Point{pt(0, 95), pt(40, 95)}}}, bottomRight, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, hits := bestCorner(area, size, 2, tc.shapes)
			if got != tc.want || hits != tc.wantHits {
				t.Errorf("bestCorner = %v with %d hits, want %v with %d", got, hits, tc.want, tc.wantHits)
			}
		})
	}
}

// TestSegmentHitsRect checks the clipping test against dense sampling of random segments.
func TestSegmentHitsRect(t *testing.T) {
	r := vg.Rectangle{Min: pt(10, 20), Max: pt(30, 35)}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 1000 {
		a, b := pt(rng.Float64()*50, rng.Float64()*50), pt(rng.Float64()*50, rng.Float64()*50)
		if k%10 == 0 {
			b.X = a.X // vertical
		}
		if k%10 == 1 {
			b.Y = a.Y // horizontal
		}
		// Sample the segment (steps under 0.004); the closest sample's distance to r is 0 if the
		// segment enters r by more than a step. Closer than 0.01 without entering is too close
		// to call, and skipped.
		closest := math.Inf(1)
		for i := 0; i <= 20000; i++ {
			f := float64(i) / 20000
			x, y := float64(a.X)+f*float64(b.X-a.X), float64(a.Y)+f*float64(b.Y-a.Y)
			dx := max(float64(r.Min.X)-x, 0, x-float64(r.Max.X))
			dy := max(float64(r.Min.Y)-y, 0, y-float64(r.Max.Y))
			closest = min(closest, math.Hypot(dx, dy))
		}
		if closest > 0 && closest < 0.01 {
			continue
		}
		want := closest == 0
		if got := segmentHitsRect(a, b, r); got != want {
			t.Errorf("segment %v-%v: hits %v, sampling says %v", a, b, got, want)
		}
	}
}

// diffBox is the bounding box, in canvas points (y up), of the pixels where a and b differ, and
// whether there are any.
func diffBox(a, b image.Image) (vg.Rectangle, bool) {
	bd := a.Bounds()
	minX, minY, maxX, maxY := bd.Max.X, bd.Max.Y, -1, -1
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
			}
		}
	}
	if maxX < 0 {
		return vg.Rectangle{}, false
	}
	hgt := bd.Dy()
	return vg.Rectangle{Min: pt(float64(minX), float64(hgt-1-maxY)), Max: pt(float64(maxX+1), float64(hgt-maxY+(maxY-minY)))}, true
}

// TestLegendAvoidsData: with data filling the top-right corner (and a line along the diagonal),
// the legend's pixels (those that differ from the same plot without labels) cover no data point.
func TestLegendAvoidsData(t *testing.T) {
	var gx, gy []float64
	for x := 6.0; x <= 10; x += 0.5 {
		for y := 6.0; y <= 10; y += 0.5 {
			gx, gy = append(gx, x), append(gy, y)
		}
	}
	diag := []float64{0, 2, 4, 6, 8, 10}
	build := func(labels bool) *plot.Plot {
		a, b := Series{X: gx, Y: gy, PointsOnly: true}, Series{X: diag, Y: diag}
		if labels {
			a.Label, b.Label = "dense runs in the corner", "diagonal"
		}
		return Lines("legend", "x", "y", a, b)
	}
	w, h := vg.Length(360), vg.Length(260)
	with, dc := renderPNG(t, build(true), w, h)
	without, _ := renderPNG(t, build(false), w, h)
	box, ok := diffBox(with, without)
	if !ok {
		t.Fatal("the legend drew nothing")
	}
	p := build(false)
	data := p.DataCanvas(dc)
	trX, trY := p.Transforms(&data)
	for _, s := range [][2][]float64{{gx, gy}, {diag, diag}} {
		for i := range s[0] {
			if q := pt(float64(trX(s[0][i])), float64(trY(s[1][i]))); inRect(q, box) {
				t.Errorf("the legend %v covers the data point (%v, %v) at %v", box, s[0][i], s[1][i], q)
			}
		}
	}
	// It went to the top left, the first free corner.
	if mid := box.Min.X + box.Size().X/2; mid > w/2 || box.Min.Y < h/2 {
		t.Errorf("legend at %v, want it in the top-left quarter", box)
	}

	// A legend the caller moved stays where it was put.
	moved := build(true)
	moved.Legend.Top, moved.Legend.Left = false, false
	renderPNG(t, moved, w, h)
	if moved.Legend.Top || moved.Legend.Left {
		t.Errorf("the placer moved a legend the caller had put at the bottom right")
	}
}

// TestLegendRight: the data area shrinks and the legend lies right of it.
func TestLegendRight(t *testing.T) {
	build := func(label string, textColor color.Color) *plot.Plot {
		p := Lines("t", "x", "y", Series{Label: label, X: []float64{0, 1}, Y: []float64{0, 1}})
		LegendRight(p)
		p.Legend.TextStyle.Color = textColor
		return p
	}
	w, h := vg.Length(360), vg.Length(260)
	inside := Lines("t", "x", "y", Series{Label: "a label", X: []float64{0, 1}, Y: []float64{0, 1}})
	_, dc := renderPNG(t, inside, w, h)
	black, red := build("a label", color.Black), build("a label", color.RGBA{R: 255, A: 255})
	imgBlack, _ := renderPNG(t, black, w, h)
	imgRed, _ := renderPNG(t, red, w, h)
	area, full := black.DataCanvas(dc), inside.DataCanvas(dc)
	if area.Max.X >= full.Max.X-20 {
		t.Errorf("data area ends at %v with the legend outside, %v inside: not shrunk", area.Max.X, full.Max.X)
	}
	if u := build("", color.Black).DataCanvas(dc); u.Max.X != full.Max.X {
		t.Errorf("an empty legend took room: %v vs %v", u.Max.X, full.Max.X)
	}
	box, ok := diffBox(imgBlack, imgRed) // the legend's text
	if !ok || box.Min.X < area.Max.X {
		t.Errorf("legend text at %v (%v) is not right of the data area (ends at %v)", box, ok, area.Max.X)
	}
}

// mathLabels are labels of the project's figures.
var mathLabels = []string{`$a_0$`, `$x_{\ell-1}$`, `$\|\Delta\|^2_F$`, `copy $a_0$ to every layer`, `$\gamma_\ell$`,
	`$\cos(\Delta_i^{(k)}, \bar{\Delta})$`, `$\Sigma(1 - \cos)$`, `$R^2$ vs $\text{teacher}$`, `costs \$5`}

func TestMathRenders(t *testing.T) {
	dir := testDir(t)
	for i, label := range append(mathLabels, "plain: accuracy (%)", "two\nlines $x^2$") {
		if err := CheckMath(label); err != nil {
			t.Errorf("CheckMath(%q): %v", label, err)
		}
		p := Lines(label, label, label, Series{Label: label, X: []float64{0, 1}, Y: []float64{0, 1}})
		Math(p)
		paths, err := Save(p, "math"+string(rune('a'+i)), 12*vg.Centimeter, 8*vg.Centimeter, Provenance{})
		if err != nil {
			t.Errorf("%q: %v", label, err)
			continue
		}
		for _, path := range paths[:3] {
			if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
				t.Errorf("%q: %s: %v %v", label, path, st, err)
			}
		}
	}
	_ = dir
}

func TestMathRejects(t *testing.T) {
	testDir(t)
	for _, label := range []string{`$\foo$`, `$a_{0$`, `$a`, `$a}$`, `$x^$`, `$\$`} {
		if err := CheckMath(label); err == nil {
			t.Errorf("CheckMath(%q) = nil, want an error", label)
		}
		p := Lines("t", label, "y", Series{X: []float64{0, 1}, Y: []float64{0, 1}})
		Math(p)
		if _, err := Save(p, "bad", Width, Height, Provenance{}); err == nil || !strings.Contains(err.Error(), "figures: text") {
			t.Errorf("Save with label %q: %v, want an error naming the text", label, err)
		}
	}
}

// TestMathLayout checks sizes and shifts of scripts, stacking, and plain text unchanged.
func TestMathLayout(t *testing.T) {
	h := MathHandler{Fonts: font.DefaultCache}
	fnt := font.From(plot.DefaultFont, 10)
	runs, _ := h.layout(`$x_i^2 + a_{\ell-1}$`, fnt)
	byText := map[string]run{}
	for _, r := range runs {
		byText[r.text] = r
	}
	i, two, ell := byText["i"], byText["2"], byText["ℓ−1"]
	if i.face.Font.Size != 7 || i.rise >= 0 || two.rise <= 0 || two.face.Font.Size != 7 || ell.rise != i.rise {
		t.Errorf("scripts: i %v rise %v, 2 %v rise %v, ℓ−1 rise %v", i.face.Font.Size, i.rise, two.face.Font.Size, two.rise, ell.rise)
	}
	if i.x != two.x {
		t.Errorf("x_i^2: sub at %v, sup at %v; want them stacked", i.x, two.x)
	}
	if x := byText["x"]; x.face.Font.Style == 0 || byText["2"].face.Font.Style != 0 {
		t.Errorf("x should be italic and 2 upright: %v %v", x.face.Font.Style, byText["2"].face.Font.Style)
	}
	// A plain text is boxed as text.Plain boxes it, and draws the same pixels.
	pw, ph, pd := text.Plain{Fonts: font.DefaultCache}.Box("accuracy (%)", fnt)
	if w, hh, d := h.Box("accuracy (%)", fnt); w != pw || hh != ph || d != pd {
		t.Errorf("plain Box %v %v %v, text.Plain %v %v %v", w, hh, d, pw, ph, pd)
	}
	a := twoLines()
	b := twoLines()
	Math(b)
	ia, _ := renderPNG(t, a, 300, 200)
	ib, _ := renderPNG(t, b, 300, 200)
	if _, differ := diffBox(ia, ib); differ {
		t.Error("Math changed the drawing of a plot without math")
	}
	// Math widens nothing it should not: the box of "$a_0$" is narrower than "a_0" in plain text.
	if w, _, _ := h.Box(`$a_0$`, fnt); w >= pw {
		t.Errorf("odd width %v", w)
	}
}

func TestSharedRange(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		desc   string
		ms     [][][]float64
		lo, hi float64
	}{
		{"two matrices, diagonals ignored", [][][]float64{{{9, 0.2}, {0.5, 9}}, {{-9, 1.1}, {0.05, -9}}}, 0.05, 1.1},
		{"NaN and Inf ignored", [][][]float64{{{0, nan}, {math.Inf(1), 0}}, {{0, 0.3}, {0.4, 0}}}, 0.3, 0.4},
		{"1x1 uses its entry", [][][]float64{{{2}}, {{0, 3}, {4, 0}}}, 2, 4},
		{"nothing finite", [][][]float64{{{0, nan}, {nan, 0}}}, nan, nan},
		{"no matrices", nil, nan, nan},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			lo, hi := SharedRange(tc.ms...)
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if !same(lo, tc.lo) || !same(hi, tc.hi) {
				t.Errorf("SharedRange = [%v, %v], want [%v, %v]", lo, hi, tc.lo, tc.hi)
			}
			// Brute force: every finite off-diagonal entry lies in the range, and both ends occur.
			seenLo, seenHi := false, false
			for _, m := range tc.ms {
				for r, row := range m {
					for c, v := range row {
						if (r == c && len(m) > 1) || bad(v) {
							continue
						}
						if v < lo || v > hi {
							t.Errorf("entry %v outside [%v, %v]", v, lo, hi)
						}
						seenLo, seenHi = seenLo || v == lo, seenHi || v == hi
					}
				}
			}
			if !math.IsNaN(lo) && (!seenLo || !seenHi) {
				t.Errorf("range ends [%v, %v] are not entries", lo, hi)
			}
		})
	}
}

// TestHeatmapPanel: one scale, one colour bar (last tile), matrices of equal size.
func TestHeatmapPanel(t *testing.T) {
	m1 := heatmapDepthMatrix()
	m2 := heatmapDepthMatrix()
	for i := range m2 {
		for j := range m2[i] {
			m2[i][j] *= 2
		}
	}
	fig, plots, err := HeatmapPanel(2, []HeatmapTile{{M: m1, Title: "p=0", Boundaries: []int{7}}, {M: m2, Title: "p=0.3", Boundaries: []int{7}}},
		HeatmapOptions{OneBased: true, ColorBarLabel: "Σ(1 − cos)"})
	if err != nil {
		t.Fatal(err)
	}
	renderPNG(t, fig, 600, 250)
	// One scale: equal values have equal colours across tiles (m1[0][2] = m2[0][1] = 0.04), and
	// the first tile is not on its own scale.
	var imgs [2]image.Image
	var cells [2]color.RGBA
	for k, cell := range [2][2]float64{{3, 1}, {2, 1}} { // (column, row), one-based
		img, dc := renderPNG(t, plots[k], 300, 250)
		data := plots[k].DataCanvas(dc)
		trX, trY := plots[k].Transforms(&data)
		imgs[k], cells[k] = img, pixelAt(img, trX(cell[0]), trY(cell[1]))
	}
	if cells[0] != cells[1] {
		t.Errorf("equal values drawn %v and %v: not one colour scale", cells[0], cells[1])
	}
	own, err := Heatmap(m1, HeatmapOptions{OneBased: true, ColorBarLabel: "Σ(1 − cos)", HideColorBar: true, Title: "p=0", Boundaries: []int{7}})
	if err != nil {
		t.Fatal(err)
	}
	ownImg, _ := renderPNG(t, own, 300, 250)
	if _, differ := diffBox(ownImg, imgs[0]); !differ {
		t.Error("the first tile is drawn on its own colour scale")
	}
	// Hiding the bar changes only pixels right of the matrix.
	lo, hi := SharedRange(m1, m2)
	shown, err := Heatmap(m1, HeatmapOptions{OneBased: true, ColorBarLabel: "Σ(1 − cos)", Title: "p=0", Boundaries: []int{7}, Min: lo, Max: hi})
	if err != nil {
		t.Fatal(err)
	}
	shownImg, sdc := renderPNG(t, shown, 300, 250)
	hiddenImg, _ := renderPNG(t, plots[0], 300, 250)
	data := shown.DataCanvas(sdc)
	trX, trY := shown.Transforms(&data)
	matrix := vg.Rectangle{Min: vg.Point{X: trX(0.5), Y: trY(12.5)}, Max: vg.Point{X: trX(12.5), Y: trY(0.5)}}
	if _, differ := diffBox(shownImg, hiddenImg); !differ {
		t.Error("hiding the colour bar changed nothing")
	}
	for y := matrix.Min.Y + 1; y < matrix.Max.Y-1; y++ {
		for x := matrix.Min.X + 1; x < matrix.Max.X-1; x++ {
			if a, b := pixelAt(shownImg, x, y), pixelAt(hiddenImg, x, y); a != b {
				t.Fatalf("hiding the bar changed the matrix at (%v, %v): %v -> %v", x, y, a, b)
			}
		}
	}
	c := draw.New(vgimg.New(300, 250))
	if da, db := plots[0].DataCanvas(c), plots[1].DataCanvas(c); da.Rectangle != db.Rectangle {
		t.Errorf("data areas differ: %v vs %v", da.Rectangle, db.Rectangle)
	}
	if _, _, err := HeatmapPanel(1, nil, HeatmapOptions{}); err == nil {
		t.Error("no tiles: no error")
	}
	if _, _, err := HeatmapPanel(1, []HeatmapTile{{M: m1}, {M: [][]float64{{0, 1}}}}, HeatmapOptions{}); err == nil || !strings.Contains(err.Error(), "tile 1") {
		t.Errorf("bad tile: %v", err)
	}
}
