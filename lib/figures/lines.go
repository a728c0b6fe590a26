package figures

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Series is one curve of a line plot: points (X[i], Y[i]) and, optionally, an interval around
// each point. Err[i] is a symmetric error drawn from Y-Err to Y+Err (e.g. the standard deviation
// over seeds); Lo[i] and Hi[i] are the absolute bounds of an asymmetric interval (e.g. a 95%
// bootstrap CI), with Lo[i] <= Y[i] <= Hi[i]. Give at most one of the two.
type Series struct {
	Label string
	X, Y  []float64
	Err   []float64 // nil, or one non-negative value per point.
	// Lo and Hi are nil, or both one value per point: the interval's absolute lower and upper
	// bounds.
	Lo, Hi []float64
	// Band draws the interval (Err or Lo/Hi) as a translucent band in the series' colour
	// instead of error bars; it needs an interval.
	Band bool
	// PointsOnly draws the markers without the connecting line (e.g. single runs as points).
	PointsOnly bool
}

// bandAlpha is the opacity of an interval band.
const bandAlpha = 0.22

// Lines returns a line plot of the series, each with its own colour, dash pattern and marker,
// error bars (or a band) where an interval is given, and a legend when any series has a label.
// The legend goes in the corner of the data area that covers the fewest data (see the package
// doc; LegendRight puts it outside). Both axis labels are required. It panics on malformed
// series (unequal lengths, NaN or infinite values, negative errors, bounds that do not enclose
// the point), naming the series and point: these are bugs in the caller, not conditions to
// handle.
func Lines(title, xlabel, ylabel string, series ...Series) *plot.Plot {
	p := newPlot(title, xlabel, ylabel)
	p.Add(plotter.NewGrid())
	placer := newLegendPlacer(p)
	fail := func(i int, s Series, err error) {
		panic(fmt.Sprintf("figures.Lines(%q): series %d (%q): %v", title, i, s.Label, err))
	}
	for i, s := range series {
		if err := s.check(); err != nil {
			fail(i, s, err)
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			fail(i, s, err)
		}
		col := plotutil.Color(i)
		line.Color, line.Dashes, line.Width = col, plotutil.Dashes(i), vg.Points(1.5)
		points.Color, points.Shape, points.Radius = col, plotutil.Shape(i), vg.Points(2.5)
		if errs := s.yErrors(); errs != nil {
			if s.Band {
				band, err := plotter.NewPolygon(bandRing(xys, errs))
				if err != nil {
					fail(i, s, err)
				}
				band.Color, band.LineStyle.Width = translucent(col, bandAlpha), 0
				p.Add(band)
				placer.addPolygon(band.XYs[0])
			} else {
				bars, err := plotter.NewYErrorBars(withErrors{xys, errs})
				if err != nil {
					fail(i, s, err)
				}
				bars.Color, bars.Width = col, vg.Points(1)
				p.Add(bars)
				for j, e := range errs {
					placer.addPolyline(plotter.XY{X: xys[j].X, Y: xys[j].Y - e.Low}, plotter.XY{X: xys[j].X, Y: xys[j].Y + e.High})
				}
			}
		}
		if s.PointsOnly {
			p.Add(points)
		} else {
			p.Add(line, points)
			placer.addPolyline(xys...)
		}
		for _, xy := range xys {
			placer.addPolyline(xy)
		}
		if s.Label != "" {
			if s.PointsOnly {
				p.Legend.Add(s.Label, points)
			} else {
				p.Legend.Add(s.Label, line, points)
			}
		}
	}
	p.Add(placer)
	return p
}

// newPlot returns a plot with a title, both axis labels and a legend at the top right.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	return p
}

// horizontalGrid returns grid lines across the y ticks only.
func horizontalGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

func (s Series) check() error {
	if len(s.X) != len(s.Y) {
		return fmt.Errorf("%d x values but %d y values", len(s.X), len(s.Y))
	}
	if len(s.X) == 0 {
		return fmt.Errorf("no points")
	}
	if s.Err != nil && len(s.Err) != len(s.Y) {
		return fmt.Errorf("%d errors for %d points", len(s.Err), len(s.Y))
	}
	if err := checkInterval(s.Y, s.Err, s.Lo, s.Hi, "point"); err != nil {
		return err
	}
	if s.Band && s.Err == nil && s.Lo == nil {
		return fmt.Errorf("Band is set but there is no interval (Err or Lo/Hi) to draw")
	}
	for j := range s.X {
		if bad(s.X[j]) || bad(s.Y[j]) {
			return fmt.Errorf("point %d is (%v, %v): not finite", j, s.X[j], s.Y[j])
		}
		if s.Err != nil && (bad(s.Err[j]) || s.Err[j] < 0) {
			return fmt.Errorf("point %d has error %v: must be finite and >= 0", j, s.Err[j])
		}
	}
	return nil
}

// checkInterval checks absolute bounds lo, hi around values y (both nil, or one finite pair per
// value enclosing it) and that they do not come with symmetric errors err too. what names one
// value in messages ("point", "value").
func checkInterval(y, err, lo, hi []float64, what string) error {
	if lo == nil && hi == nil {
		return nil
	}
	if lo == nil || hi == nil {
		return fmt.Errorf("Lo and Hi must be given together (Lo has %d values, Hi %d)", len(lo), len(hi))
	}
	if err != nil {
		return fmt.Errorf("both Err and Lo/Hi are given: use one")
	}
	if len(lo) != len(y) || len(hi) != len(y) {
		return fmt.Errorf("%d lower and %d upper bounds for %d %ss", len(lo), len(hi), len(y), what)
	}
	for j := range y {
		if bad(lo[j]) || bad(hi[j]) {
			return fmt.Errorf("%s %d has interval [%v, %v]: not finite", what, j, lo[j], hi[j])
		}
		if !(lo[j] <= y[j] && y[j] <= hi[j]) {
			return fmt.Errorf("%s %d is %v, outside its interval [%v, %v]: need Lo <= Y <= Hi", what, j, y[j], lo[j], hi[j])
		}
	}
	return nil
}

// yErrors is the series' interval as offsets below and above each point, or nil.
func (s Series) yErrors() plotter.YErrors {
	switch {
	case s.Err != nil:
		return symmetric(s.Err)
	case s.Lo != nil:
		out := make(plotter.YErrors, len(s.Y))
		for i, y := range s.Y {
			out[i].Low, out[i].High = y-s.Lo[i], s.Hi[i]-y
		}
		return out
	}
	return nil
}

// bandRing is the outline of an interval band: the upper bounds left to right, then the lower
// bounds right to left (points sorted by x, so that the band does not fold over itself).
func bandRing(xys plotter.XYs, errs plotter.YErrors) plotter.XYs {
	idx := make([]int, len(xys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xys[idx[a]].X < xys[idx[b]].X })
	ring := make(plotter.XYs, 0, 2*len(xys))
	for _, i := range idx {
		ring = append(ring, plotter.XY{X: xys[i].X, Y: xys[i].Y + errs[i].High})
	}
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		ring = append(ring, plotter.XY{X: xys[i].X, Y: xys[i].Y - errs[i].Low})
	}
	return ring
}

// translucent is c with opacity alpha.
func translucent(c color.Color, alpha float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: uint8(math.Round(255 * alpha))}
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// symmetric turns errors e into YErrors of ±e.
func symmetric(e []float64) plotter.YErrors {
	out := make(plotter.YErrors, len(e))
	for i, v := range e {
		out[i].Low, out[i].High = v, v
	}
	return out
}

// withErrors pairs points with their y errors, for plotter.NewYErrorBars.
type withErrors struct {
	plotter.XYs
	plotter.YErrors
}
