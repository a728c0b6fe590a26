package figures

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Series is one curve of a line plot: points (X[i], Y[i]) and, optionally, an error Err[i] drawn
// as a bar from Y-Err to Y+Err (e.g. the standard deviation over seeds).
type Series struct {
	Label string
	X, Y  []float64
	Err   []float64 // nil, or one non-negative value per point.
}

// Lines returns a line plot of the series, each with its own colour, dash pattern and marker,
// a legend when any series has a label, and error bars where Err is given. Both axis labels are
// required. It panics on malformed series (unequal lengths, NaN or infinite values, negative
// errors), naming the series and point: these are bugs in the caller, not conditions to handle.
func Lines(title, xlabel, ylabel string, series ...Series) *plot.Plot {
	p := newPlot(title, xlabel, ylabel)
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if err := s.check(); err != nil {
			panic(fmt.Sprintf("figures.Lines(%q): series %d (%q): %v", title, i, s.Label, err))
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			panic(fmt.Sprintf("figures.Lines(%q): series %d (%q): %v", title, i, s.Label, err))
		}
		col := plotutil.Color(i)
		line.Color, line.Dashes, line.Width = col, plotutil.Dashes(i), vg.Points(1.5)
		points.Color, points.Shape, points.Radius = col, plotutil.Shape(i), vg.Points(2.5)
		p.Add(line, points)
		if s.Err != nil {
			bars, err := plotter.NewYErrorBars(withErrors{xys, symmetric(s.Err)})
			if err != nil {
				panic(fmt.Sprintf("figures.Lines(%q): series %d (%q): %v", title, i, s.Label, err))
			}
			bars.Color, bars.Width = col, vg.Points(1)
			p.Add(bars)
		}
		if s.Label != "" {
			p.Legend.Add(s.Label, line, points)
		}
	}
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
