package figures

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// corner is a corner of a plot's data area, where a legend may go.
type corner int

// The corners, in the order of preference when several are equally free.
const (
	topRight corner = iota
	topLeft
	bottomRight
	bottomLeft
)

func (c corner) String() string {
	return [...]string{"top right", "top left", "bottom right", "bottom left"}[c]
}

// top and left say where the corner is, as plot.Legend's Top and Left fields do.
func (c corner) top() bool  { return c == topRight || c == topLeft }
func (c corner) left() bool { return c == topLeft || c == bottomLeft }

// legendMargin is the room kept between a legend and the data beside it: a marker's radius and a
// line's width, plus the descent of the legend's last line.
const legendMargin = 4 * vg.Millimeter / 2

// legendPlacer is a plotter, added last by Lines and Bars, that moves the plot's legend at draw
// time into the corner of the data area that covers the fewest of the plot's data ("ink":
// markers, lines, error bars, bands, bars), so the corner depends on the canvas the plot is
// drawn on. If the caller has moved the legend (changed p.Legend.Top or Left from what the
// placer last set), it leaves it there.
type legendPlacer struct {
	ink       []inkShape
	top, left bool // what the placer last set
	manual    bool
}

// inkShape is data in data coordinates: one point, a polyline, or a filled polygon.
type inkShape struct {
	pts    []plotter.XY
	filled bool
}

func newLegendPlacer(p *plot.Plot) *legendPlacer {
	return &legendPlacer{top: p.Legend.Top, left: p.Legend.Left}
}

func (lp *legendPlacer) addPolyline(pts ...plotter.XY) {
	lp.ink = append(lp.ink, inkShape{pts: append([]plotter.XY(nil), pts...)})
}

func (lp *legendPlacer) addPolygon(pts []plotter.XY) {
	lp.ink = append(lp.ink, inkShape{pts: append([]plotter.XY(nil), pts...), filled: true})
}

// Plot implements plot.Plotter: it draws nothing, it chooses the legend's corner.
func (lp *legendPlacer) Plot(c draw.Canvas, p *plot.Plot) {
	if lp.manual || p.Legend.Top != lp.top || p.Legend.Left != lp.left {
		lp.manual = true
		return
	}
	size := p.Legend.Rectangle(c).Size()
	if size.X <= 0 || size.Y <= 0 {
		return
	}
	trX, trY := p.Transforms(&c)
	shapes := make([]canvasShape, len(lp.ink))
	for i, s := range lp.ink {
		pts := make([]vg.Point, len(s.pts))
		for j, xy := range s.pts {
			pts[j] = vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		}
		shapes[i] = canvasShape{pts: pts, filled: s.filled}
	}
	k, _ := bestCorner(c.Rectangle, size, legendMargin, shapes)
	lp.top, lp.left = k.top(), k.left()
	p.Legend.Top, p.Legend.Left = lp.top, lp.left
}

// canvasShape is an inkShape on the canvas.
type canvasShape struct {
	pts    []vg.Point
	filled bool
}

// cornerRect is where a legend of the given size goes in corner k of area, grown by margin on
// the sides facing the data. (plot.Plot draws the legend in the area inside the axes, which
// contains the data area, so the real legend covers no more of the data area than this.)
func cornerRect(area vg.Rectangle, size vg.Point, margin vg.Length, k corner) vg.Rectangle {
	w, h := size.X+margin, size.Y+margin
	r := area
	if k.left() {
		r.Max.X = area.Min.X + w
	} else {
		r.Min.X = area.Max.X - w
	}
	if k.top() {
		r.Min.Y = area.Max.Y - h
	} else {
		r.Max.Y = area.Min.Y + h
	}
	return r
}

// bestCorner returns the corner of area where a legend of the given size covers the fewest
// shapes (counting a point once, a polyline once per segment it crosses, a polygon once), and
// that count; ties go to the earlier corner in topRight, topLeft, bottomRight, bottomLeft.
func bestCorner(area vg.Rectangle, size vg.Point, margin vg.Length, shapes []canvasShape) (corner, int) {
	best, bestHits := topRight, -1
	for k := topRight; k <= bottomLeft; k++ {
		r := cornerRect(area, size, margin, k)
		hits := 0
		for _, s := range shapes {
			hits += s.hits(r)
		}
		if bestHits < 0 || hits < bestHits {
			best, bestHits = k, hits
		}
	}
	return best, bestHits
}

// hits counts how much of s lies in r: 1 for a point or a polygon that overlaps r, and for a
// polyline the number of its segments that touch r.
func (s canvasShape) hits(r vg.Rectangle) int {
	switch {
	case len(s.pts) == 0:
		return 0
	case len(s.pts) == 1:
		if inRect(s.pts[0], r) {
			return 1
		}
		return 0
	case s.filled:
		for i := range s.pts {
			if segmentHitsRect(s.pts[i], s.pts[(i+1)%len(s.pts)], r) {
				return 1
			}
		}
		if inPolygon(r.Min, s.pts) { // r lies wholly inside the polygon
			return 1
		}
		return 0
	}
	n := 0
	for i := 1; i < len(s.pts); i++ {
		if segmentHitsRect(s.pts[i-1], s.pts[i], r) {
			n++
		}
	}
	return n
}

func inRect(p vg.Point, r vg.Rectangle) bool {
	return p.X >= r.Min.X && p.X <= r.Max.X && p.Y >= r.Min.Y && p.Y <= r.Max.Y
}

// segmentHitsRect reports whether segment ab touches rectangle r (Liang–Barsky clipping).
func segmentHitsRect(a, b vg.Point, r vg.Rectangle) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	for _, e := range [4][2]float64{
		{-dx, float64(a.X - r.Min.X)}, {dx, float64(r.Max.X - a.X)},
		{-dy, float64(a.Y - r.Min.Y)}, {dy, float64(r.Max.Y - a.Y)},
	} {
		pk, qk := e[0], e[1]
		if pk == 0 {
			if qk < 0 {
				return false // parallel to this edge and outside it
			}
			continue
		}
		t := qk / pk
		if pk < 0 {
			t0 = max(t0, t)
		} else {
			t1 = min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

// inPolygon reports whether p lies inside polygon poly (even–odd rule).
func inPolygon(p vg.Point, poly []vg.Point) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// LegendRight puts p's legend outside its data area, to the right, at the top: the data area
// (and the x axis) shrink to make room, so the legend covers nothing. Use it where the data
// leave no corner free. It undoes the automatic corner of Lines and Bars, and any Top/Left.
func LegendRight(p *plot.Plot) {
	if p == nil {
		return
	}
	p.Add(legendReserve{})
}

// legendReserve reserves room right of the data area for the legend (through its glyph box) and
// puts the legend there when the plot is drawn.
type legendReserve struct{}

// legendGap is the space between the data area and a legend outside it.
const legendGap = 3 * vg.Millimeter

// Plot implements plot.Plotter: the legend is drawn at the right edge of the area inside the
// axes, which the glyph box has kept clear of data.
func (legendReserve) Plot(_ draw.Canvas, p *plot.Plot) {
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.XOffs, p.Legend.YOffs = 0, 0
}

// GlyphBoxes implements plot.GlyphBoxer: a box the size of the legend beside the data area's
// top-right corner.
func (legendReserve) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	size := p.Legend.Rectangle(draw.Canvas{}).Size()
	if size.X <= 0 {
		return nil
	}
	return []plot.GlyphBox{{X: 1, Y: 1, Rectangle: vg.Rectangle{
		Min: vg.Point{X: legendGap, Y: -size.Y}, Max: vg.Point{X: legendGap + size.X, Y: 0}}}}
}
