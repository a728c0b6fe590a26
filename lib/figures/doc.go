// Package figures draws numbers and saves them as publication figures with their provenance.
//
// Every figure is written by Save (or Show, which also displays it inside a GoNB notebook) as
// <dir>/<name>.png, .svg and .pdf, plus a sidecar <name>.json recording what it was made from
// (data set, scale, model, backend, date, free notes; no absolute paths of the machine). The
// directory is $BLOCKREC_FIGURES_DIR (a relative one from the repository root), else <repo>/figures, except at smoke scale, where it is
// <repo>/build/figures-smoke so that tests and CI never overwrite real figures, and except that
// <repo>/figures only takes a figure replacing one made from the same data set at the same scale
// (or a new figure of a notebook all of whose figures there share both): any other goes to
// <repo>/build/figures-<scale>-<data set>/ (see DirFor). The scale is the
// figure's own (Provenance.Scale), filled from BLOCKREC_SCALE only when empty.
//
// Plots are gonum.org/v1/plot plots. Lines and Bars build the common kinds; Heatmap draws a
// layer-by-layer matrix; Panel tiles several plots into one figure with aligned axes. The
// primitives a paper figure needs:
//
//   - Intervals: Series and BarGroup take a symmetric Err (e.g. ± std) or the absolute bounds
//     Lo, Hi of an asymmetric interval (e.g. a 95% CI), drawn as error bars or whiskers, or as a
//     translucent band (Series.Band). Series.PointsOnly draws markers without a line.
//   - Axes: WithYRange fixes the y range, CosineAxis keeps a cosine's axis within [−1, 1]; both
//     clamp the axis, not the data.
//   - Legends off the data: Lines and Bars put the legend, when drawn, in the corner of the data
//     area that covers the fewest data (markers, lines, error bars, bands, bars: the first free
//     one of top right, top left, bottom right, bottom left); where no corner is free,
//     LegendRight puts it outside, right of a shrunk data area. A legend the caller moves
//     (p.Legend.Top, Left) stays there. Plotters added after Lines or Bars are not looked at.
//   - Math: Math(plots...) typesets `$…$` in titles, labels, ticks and legends (`$a_0$`,
//     `$x_{\ell-1}$`, `$\|\Delta\|^2_F$`) in all three formats; CheckMath checks a label.
//   - One colour scale: SharedRange gives one range for several matrices (HeatmapOptions.Min,
//     Max), HideColorBar keeps a bar's room without drawing it, and HeatmapPanel does both: a
//     panel of heat maps on one scale with one colour bar.
//
// The package knows no model and trains nothing: it only draws what it is given.
package figures
