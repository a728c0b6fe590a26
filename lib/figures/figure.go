package figures

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is anything that draws itself on a canvas; a *plot.Plot is one.
type Figure interface {
	Draw(draw.Canvas)
}

// Default sizes: one plot, and one panel tile.
const (
	Width  = 16 * vg.Centimeter
	Height = 10 * vg.Centimeter
	// TileWidth and TileHeight are a good size for one tile of a Panel: a panel of c columns and
	// r rows is about c*TileWidth by r*TileHeight.
	TileWidth  = 10 * vg.Centimeter
	TileHeight = 8 * vg.Centimeter
)

// panel is a grid of plots, drawn with aligned data areas.
type panel struct {
	cols  int
	plots []*plot.Plot
}

// Panel tiles plots into a grid of cols columns, filled row by row (the last row may be partly
// empty); plot.Align lines up the data areas so axes match across tiles. cols < 1 means one row.
func Panel(cols int, plots ...*plot.Plot) Figure {
	if cols < 1 || cols > len(plots) {
		cols = max(len(plots), 1)
	}
	return &panel{cols: cols, plots: plots}
}

// Draw implements Figure.
func (pn *panel) Draw(c draw.Canvas) {
	if len(pn.plots) == 0 {
		return
	}
	rows := (len(pn.plots) + pn.cols - 1) / pn.cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, pn.cols)
		for k := range pn.cols {
			if i := r*pn.cols + k; i < len(pn.plots) {
				grid[r][k] = pn.plots[i]
			}
		}
	}
	pad := vg.Length(4 * vg.Millimeter)
	tiles := draw.Tiles{Rows: rows, Cols: pn.cols, PadX: pad, PadY: pad,
		PadTop: pad / 2, PadBottom: pad / 2, PadLeft: pad / 2, PadRight: pad / 2}
	canvases := plot.Align(grid, tiles, c)
	for r := range grid {
		for k, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][k])
			}
		}
	}
}
