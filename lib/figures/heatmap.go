package figures

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapOptions configures Heatmap.
type HeatmapOptions struct {
	// Title of the plot.
	Title string
	// OneBased labels the rows and columns 1..n (row 0 is layer 1, as for a matrix that skips the
	// embedding); otherwise they are labelled 0..n−1.
	OneBased bool
	// Boundaries are phase boundaries, each the number of rows before it: a boundary b is drawn
	// as a dashed red line between rows b−1 and b (0-based), in both directions. These are the
	// thresholds of a contiguous partition, e.g. [7, 10] for phases 1-7 8-10 11-12
	// (phases.Partition.Thresholds). Each must be in 1..n−1.
	Boundaries []int
	// Min and Max fix the colour range; when both are zero it is the range of the off-diagonal
	// entries (diagonal values outside it are clamped). SharedRange gives one range for several
	// matrices, so that tiles of a Panel share a colour scale.
	Min, Max float64
	// ColorMap maps values to colours; nil means moreland.Kindlmann (dark = low, light = high;
	// perceptually uniform, no red, so boundaries stand out).
	ColorMap palette.ColorMap
	// ColorBarLabel is written above the colour bar (e.g. "1 − cos"); optional.
	ColorBarLabel string
	// HideColorBar leaves the colour bar out but keeps its room, so that the matrix has the same
	// size and place as in a heat map with a bar: in a Panel of heat maps on one scale
	// (SharedRange), show the bar on the last tile only.
	HideColorBar bool
}

// Heatmap draws a square layer-by-layer matrix m as a heat map: row i at the top, column j from
// the left, both axes labelled "layer", a colour bar to the right of the matrix (drawn inside the
// same plot), and dashed red lines at opts.Boundaries. NaN entries are grey. It returns an error
// for an empty or non-square matrix, an empty colour range, or a boundary out of range.
func Heatmap(m [][]float64, opts HeatmapOptions) (*plot.Plot, error) {
	n := len(m)
	if n == 0 {
		return nil, fmt.Errorf("figures.Heatmap(%q): empty matrix", opts.Title)
	}
	for i, row := range m {
		if len(row) != n {
			return nil, fmt.Errorf("figures.Heatmap(%q): matrix is not square: %d rows but row %d has %d values",
				opts.Title, n, i, len(row))
		}
	}
	lo, hi := opts.Min, opts.Max
	if lo == 0 && hi == 0 {
		lo, hi = valueRange(m)
	}
	if !(hi > lo) { // also catches NaN
		if lo == hi && !math.IsNaN(lo) && !math.IsInf(lo, 0) { // constant matrix: widen the range
			lo, hi = lo-0.5, hi+0.5
		} else {
			return nil, fmt.Errorf("figures.Heatmap(%q): empty colour range [%v, %v]", opts.Title, lo, hi)
		}
	}
	for _, b := range opts.Boundaries {
		if b < 1 || b > n-1 {
			return nil, fmt.Errorf("figures.Heatmap(%q): boundary %d outside 1..%d", opts.Title, b, n-1)
		}
	}
	cmap := opts.ColorMap
	if cmap == nil {
		cmap = moreland.Kindlmann()
	}
	cmap.SetMin(lo)
	cmap.SetMax(hi)

	offset := 0.0
	if opts.OneBased {
		offset = 1
	}
	p := plot.New()
	p.Title.Text = opts.Title
	p.X.Label.Text, p.Y.Label.Text = "layer", "layer"
	p.Y.Scale = plot.InvertedScale{Normalizer: p.Y.Scale} // row 0 at the top, as a matrix reads

	hm := plotter.NewHeatMap(gridOf{m: m, offset: offset}, cmap.Palette(256))
	hm.Min, hm.Max = lo, hi
	hm.NaN = color.Gray{Y: 160}
	hm.Underflow, hm.Overflow = mustAt(cmap, lo), mustAt(cmap, hi)
	p.Add(hm)

	first, last := offset-0.5, offset+float64(n)-0.5
	for _, b := range opts.Boundaries {
		at := offset + float64(b) - 0.5
		for _, xys := range []plotter.XYs{{{X: at, Y: first}, {X: at, Y: last}}, {{X: first, Y: at}, {X: last, Y: at}}} {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("figures.Heatmap(%q): %w", opts.Title, err)
			}
			l.Color = color.RGBA{R: 220, A: 255}
			l.Width = vg.Points(1.5)
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
		}
	}

	bar := &heatmapColorBar{cmap: cmap, x0: last + 0.04*float64(n), width: max(0.06*float64(n), 0.3),
		y0: first, y1: last, label: opts.ColorBarLabel, hidden: opts.HideColorBar}
	p.Add(bar)

	ticks := layerTicks(n, offset)
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, ticks
	p.X.Min, p.X.Max = first, bar.x0+bar.width
	p.Y.Min, p.Y.Max = first, last
	p.X.Padding, p.Y.Padding = 0, 0
	return p, nil
}

// SharedRange is the range [lo, hi] of the finite off-diagonal entries of all the matrices (all
// entries of a 1×1 matrix), as Heatmap would take for each alone: pass it as HeatmapOptions.Min
// and Max to draw several heat maps on one colour scale. Without any finite entry it is NaN, NaN
// (which Heatmap rejects as an empty colour range).
func SharedRange(matrices ...[][]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, m := range matrices {
		l, h := valueRange(m)
		lo, hi = min(lo, l), max(hi, h)
	}
	if lo > hi {
		return math.NaN(), math.NaN()
	}
	return lo, hi
}

// valueRange is the range of the finite off-diagonal entries (all entries for a 1×1 matrix).
func valueRange(m [][]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, row := range m {
		for j, v := range row {
			if (i == j && len(m) > 1) || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

func mustAt(c palette.ColorMap, v float64) color.Color {
	col, err := c.At(v)
	if err != nil {
		return color.Gray{Y: 160}
	}
	return col
}

// layerTicks labels every layer for small n, else every k-th, and only within the matrix (so
// no tick falls under the colour bar).
func layerTicks(n int, offset float64) plot.ConstantTicks {
	step := 1
	for n/step > 16 {
		step++
	}
	var ticks []plot.Tick
	for i := 0; i < n; i++ {
		label := ""
		if i%step == 0 {
			label = fmt.Sprint(i + int(offset))
		}
		ticks = append(ticks, plot.Tick{Value: float64(i) + offset, Label: label})
	}
	return ticks
}

// gridOf adapts a square matrix to plotter.GridXYZ: column c, row r is m[r][c].
type gridOf struct {
	m      [][]float64
	offset float64
}

func (g gridOf) Dims() (c, r int)   { return len(g.m), len(g.m) }
func (g gridOf) Z(c, r int) float64 { return g.m[r][c] }
func (g gridOf) X(c int) float64    { return float64(c) + g.offset }
func (g gridOf) Y(r int) float64    { return float64(r) + g.offset }

// heatmapColorBar draws a vertical colour bar in data coordinates [x0, x0+width] × [y0, y1] with
// tick labels to its right; the high end is at the top of the plot.
type heatmapColorBar struct {
	cmap          palette.ColorMap
	x0, width     float64
	y0, y1        float64
	label         string
	hidden        bool
	labelsCache   []plot.Tick
	labelsCached  bool
	labelsPadding vg.Length
}

const colorBarSteps = 128

func (b *heatmapColorBar) ticks() []plot.Tick {
	if !b.labelsCached {
		for _, t := range (plot.DefaultTicks{}).Ticks(b.cmap.Min(), b.cmap.Max()) {
			if t.Label != "" {
				b.labelsCache = append(b.labelsCache, t)
			}
		}
		b.labelsCached, b.labelsPadding = true, vg.Points(3)
	}
	return b.labelsCache
}

// valueY maps a colour value to the bar's data y coordinate (top of the plot = maximum).
func (b *heatmapColorBar) valueY(v float64) float64 {
	f := (v - b.cmap.Min()) / (b.cmap.Max() - b.cmap.Min())
	return b.y1 - f*(b.y1-b.y0) // the Y axis is inverted: y0 (the smallest) is drawn at the top
}

// Plot implements plot.Plotter.
func (b *heatmapColorBar) Plot(c draw.Canvas, p *plot.Plot) {
	if b.hidden {
		return
	}
	trX, trY := p.Transforms(&c)
	xl, xr := trX(b.x0), trX(b.x0+b.width)
	lo, hi := b.cmap.Min(), b.cmap.Max()
	for k := range colorBarSteps {
		v0 := lo + (hi-lo)*float64(k)/colorBarSteps
		v1 := lo + (hi-lo)*min(float64(k)+1.5, colorBarSteps)/colorBarSteps // overlap: no seams
		ya, yb := trY(b.valueY(v0)), trY(b.valueY(v1))
		var pa vg.Path
		pa.Move(vg.Point{X: xl, Y: ya})
		pa.Line(vg.Point{X: xr, Y: ya})
		pa.Line(vg.Point{X: xr, Y: yb})
		pa.Line(vg.Point{X: xl, Y: yb})
		pa.Close()
		c.SetColor(mustAt(b.cmap, lo+(hi-lo)*(float64(k)+0.5)/colorBarSteps))
		c.Fill(pa)
	}
	sty := p.Y.Tick.Label // read when drawn, so that Math applies to the bar's labels too
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	for _, t := range b.ticks() {
		y := trY(b.valueY(t.Value))
		c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}, xr, y, xr+b.labelsPadding, y)
		c.FillText(sty, vg.Point{X: xr + 2*b.labelsPadding, Y: y}, t.Label)
	}
	if b.label != "" {
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
		c.FillText(sty, vg.Point{X: (xl + xr) / 2, Y: trY(b.y0) + b.labelsPadding}, b.label)
	}
}

// DataRange implements plot.DataRanger.
func (b *heatmapColorBar) DataRange() (xmin, xmax, ymin, ymax float64) {
	return b.x0, b.x0 + b.width, b.y0, b.y1
}

// GlyphBoxes reserves room for the tick labels right of the bar and the label above it.
func (b *heatmapColorBar) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	sty := p.Y.Tick.Label
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	xn := p.X.Norm(b.x0 + b.width)
	var boxes []plot.GlyphBox
	for _, t := range b.ticks() {
		r := sty.Rectangle(t.Label)
		r.Min.X += 2 * b.labelsPadding
		r.Max.X += 2 * b.labelsPadding
		boxes = append(boxes, plot.GlyphBox{X: xn, Y: p.Y.Norm(b.valueY(t.Value)), Rectangle: r})
	}
	if b.label != "" {
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
		r := sty.Rectangle(b.label)
		r.Min.Y += b.labelsPadding
		r.Max.Y += b.labelsPadding
		boxes = append(boxes, plot.GlyphBox{X: p.X.Norm(b.x0 + b.width/2), Y: p.Y.Norm(b.y0), Rectangle: r})
	}
	return boxes
}

// HeatmapTile is one matrix of a HeatmapPanel.
type HeatmapTile struct {
	M          [][]float64
	Title      string
	Boundaries []int // as HeatmapOptions.Boundaries
}

// HeatmapPanel draws the tiles as heat maps on one colour scale with one colour bar, on the last
// tile (the others keep its room, so that all matrices have the same size), in a Panel of cols
// columns. opts applies to every tile except Title and Boundaries, which come from each tile;
// unless opts fixes Min and Max, the scale is SharedRange of all the matrices. It returns the
// figure and the tiles' plots (to change them further, e.g. with Math), or the first tile's
// error.
func HeatmapPanel(cols int, tiles []HeatmapTile, opts HeatmapOptions) (Figure, []*plot.Plot, error) {
	if len(tiles) == 0 {
		return nil, nil, fmt.Errorf("figures.HeatmapPanel: no tiles")
	}
	if opts.Min == 0 && opts.Max == 0 {
		ms := make([][][]float64, len(tiles))
		for i, t := range tiles {
			ms[i] = t.M
		}
		opts.Min, opts.Max = SharedRange(ms...)
	}
	plots := make([]*plot.Plot, len(tiles))
	for i, t := range tiles {
		o := opts
		o.Title, o.Boundaries, o.HideColorBar = t.Title, t.Boundaries, i < len(tiles)-1
		p, err := Heatmap(t.M, o)
		if err != nil {
			return nil, nil, fmt.Errorf("figures.HeatmapPanel: tile %d: %w", i, err)
		}
		plots[i] = p
	}
	return Panel(cols, plots...), plots, nil
}
