package figures

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarGroup is one set of bars of a grouped bar chart: one value per category (e.g. one model's
// accuracy on each data set) and, optionally, an interval per value drawn as a whisker: either a
// symmetric error Err (± bars, e.g. a standard deviation) or the absolute bounds Lo and Hi of an
// asymmetric one (e.g. a 95% CI), with Lo[i] <= Values[i] <= Hi[i]. Give at most one of the two.
type BarGroup struct {
	Label  string
	Values []float64
	Err    []float64 // nil, or one non-negative value per category.
	Lo, Hi []float64 // nil, or both one bound per category.
}

// Bars returns a grouped bar chart: one slot per category along x, and in each slot one bar per
// group, side by side, with whiskers where an interval (Err or Lo/Hi) is given and a legend when
// any group has a label, in the corner that covers the fewest bars (room is added above the
// bars for it). Bars start at zero. Both axis labels are required. Like Lines, it panics on
// malformed groups, naming them.
func Bars(title, xlabel, ylabel string, categories []string, groups ...BarGroup) *plot.Plot {
	if len(categories) == 0 {
		panic(fmt.Sprintf("figures.Bars(%q): no categories", title))
	}
	p := newPlot(title, xlabel, ylabel)
	p.Add(horizontalGrid())
	placer := newLegendPlacer(p)
	for g, grp := range groups {
		if err := grp.check(len(categories)); err != nil {
			panic(fmt.Sprintf("figures.Bars(%q): group %d (%q): %v", title, g, grp.Label, err))
		}
		b := &barSet{group: grp, index: g, count: len(groups), color: plotutil.Color(g)}
		p.Add(b)
		b.ink(placer)
		if grp.Label != "" {
			p.Legend.Add(grp.Label, b)
		}
	}
	if hasLabel(groups) { // Headroom so that a top corner is free for the legend.
		p.Y.Max += 0.25 * (p.Y.Max - p.Y.Min)
	}
	p.Add(placer)
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
	return p
}

func (g BarGroup) check(n int) error {
	if len(g.Values) != n {
		return fmt.Errorf("%d values for %d categories", len(g.Values), n)
	}
	if g.Err != nil && len(g.Err) != n {
		return fmt.Errorf("%d errors for %d categories", len(g.Err), n)
	}
	for i, v := range g.Values {
		if bad(v) {
			return fmt.Errorf("value %d is %v: not finite", i, v)
		}
		if g.Err != nil && (bad(g.Err[i]) || g.Err[i] < 0) {
			return fmt.Errorf("error %d is %v: must be finite and >= 0", i, g.Err[i])
		}
	}
	return checkInterval(g.Values, g.Err, g.Lo, g.Hi, "value")
}

// interval is the whisker of bar i, [lo, hi], and whether it has one.
func (g BarGroup) interval(i int) (lo, hi float64, ok bool) {
	switch {
	case g.Err != nil:
		return g.Values[i] - g.Err[i], g.Values[i] + g.Err[i], g.Err[i] > 0
	case g.Lo != nil:
		return g.Lo[i], g.Hi[i], g.Hi[i] > g.Lo[i]
	}
	return g.Values[i], g.Values[i], false
}

// slotWidth is the fraction of a category's slot that its bars fill together.
const slotWidth = 0.8

// barSet draws the bars of one group: bar i is centred at x = i + offset, where the offset places
// the groups side by side within the slot.
type barSet struct {
	group        BarGroup
	index, count int
	color        color.Color
}

func (b *barSet) width() float64 { return slotWidth / float64(b.count) }

func (b *barSet) center(i int) float64 {
	return float64(i) - slotWidth/2 + (float64(b.index)+0.5)*b.width()
}

// Plot implements plot.Plotter.
func (b *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	outline := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	errStyle := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	for i, v := range b.group.Values {
		x0, x1 := trX(b.center(i)-b.width()/2), trX(b.center(i)+b.width()/2)
		y0, y1 := trY(0), trY(v)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(b.color, c.ClipPolygonXY(pts))
		c.StrokeLines(outline, c.ClipLinesXY(append(pts, pts[0]))...)
		if vlo, vhi, ok := b.group.interval(i); ok {
			xm := trX(b.center(i))
			lo, hi := trY(vlo), trY(vhi)
			capW := (x1 - x0) / 4
			c.StrokeLines(errStyle, c.ClipLinesXY(
				[]vg.Point{{X: xm, Y: lo}, {X: xm, Y: hi}},
				[]vg.Point{{X: xm - capW, Y: lo}, {X: xm + capW, Y: lo}},
				[]vg.Point{{X: xm - capW, Y: hi}, {X: xm + capW, Y: hi}})...)
		}
	}
}

// DataRange implements plot.DataRanger: all bars, their whiskers, and zero.
func (b *barSet) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(b.group.Values))-0.5
	ymin, ymax = 0, 0
	for i, v := range b.group.Values {
		lo, hi, _ := b.group.interval(i)
		ymin, ymax = math.Min(ymin, math.Min(v, lo)), math.Max(ymax, math.Max(v, hi))
	}
	return xmin, xmax, ymin, ymax
}

// ink hands the bars and whiskers to the legend placer.
func (b *barSet) ink(lp *legendPlacer) {
	for i, v := range b.group.Values {
		x0, x1 := b.center(i)-b.width()/2, b.center(i)+b.width()/2
		lp.addPolygon([]plotter.XY{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: v}, {X: x0, Y: v}})
		if lo, hi, ok := b.group.interval(i); ok {
			lp.addPolyline(plotter.XY{X: b.center(i), Y: lo}, plotter.XY{X: b.center(i), Y: hi})
		}
	}
}

// Thumbnail implements plot.Thumbnailer, for the legend.
func (b *barSet) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(b.color, pts)
}

func hasLabel(groups []BarGroup) bool {
	for _, g := range groups {
		if g.Label != "" {
			return true
		}
	}
	return false
}
