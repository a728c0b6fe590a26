// Package figures draws numbers and saves them as publication figures with their provenance.
//
// Every figure is written by Save (or Show, which also displays it inside a GoNB notebook) as
// <dir>/<name>.png, .svg and .pdf, plus a sidecar <name>.json recording what it was made from
// (data set, scale, model, backend, date, free notes; no absolute paths of the machine). The
// directory is $BLOCKREC_FIGURES_DIR, else <repo>/figures, except at smoke scale, where it is
// <repo>/build/figures-smoke so that tests and CI never overwrite real figures, and except that a
// figure in <repo>/figures made from another data set or at another scale is never replaced: the
// new one goes to <repo>/build/figures-<scale>-<data set>/ (see DirFor). The scale is the
// figure's own (Provenance.Scale), filled from BLOCKREC_SCALE only when empty.
//
// Plots are gonum.org/v1/plot plots. Lines and Bars build the common kinds (with mean ± std
// error bars); Panel tiles several plots into one figure with aligned axes. The package knows no
// model and trains nothing: it only draws what it is given.
package figures
