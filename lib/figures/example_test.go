package figures_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/blockrec/blockrec/lib/figures"
)

// Save a line plot with error bars and its provenance; in a notebook, figures.Show also displays it.
func ExampleSave() {
	dir, _ := os.MkdirTemp("", "figures")
	defer os.RemoveAll(dir)
	os.Setenv(figures.DirEnv, dir)
	defer os.Unsetenv(figures.DirEnv)

	p := figures.Lines("Similarity to the last layer", "layer", "cosine similarity",
		figures.Series{Label: "mean over 3 seeds", X: []float64{1, 2, 3}, Y: []float64{0.2, 0.5, 1}, Err: []float64{0.05, 0.04, 0}})
	paths, err := figures.Save(p, "example_similarity", figures.Width, figures.Height,
		figures.Provenance{Dataset: "synthetic", Model: "none", Backend: "none"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// example_similarity.png
	// example_similarity.svg
	// example_similarity.pdf
	// example_similarity.json
}

// A cosine with a 95% interval as a band, single runs as points, math in the labels, and an
// axis kept within [−1, 1] although the interval reaches past 1.
func ExampleCosineAxis() {
	x := []float64{1, 2, 3, 4}
	p := figures.Lines(`Coherence of the updates $\Delta_\ell$`, `block $\ell$`, `$\cos(\Delta_i, \bar{\Delta})$`,
		figures.Series{Label: "mean, 95% CI", X: x, Y: []float64{0.55, 0.7, 0.8, 0.9},
			Lo: []float64{0.4, 0.6, 0.7, 0.75}, Hi: []float64{0.7, 0.8, 0.95, 1.1}, Band: true},
		figures.Series{Label: "seed 1", X: x, Y: []float64{0.5, 0.72, 0.85, 0.97}, PointsOnly: true})
	if err := figures.CosineAxis(p); err != nil {
		fmt.Println(err)
		return
	}
	figures.Math(p)
	fmt.Printf("y axis [%.2f, %.2f]\n", p.Y.Min, p.Y.Max)
	fmt.Println(figures.CheckMath(`$x_{\ell-1}$`), figures.CheckMath(`$\foo$`) != nil)
	// Output:
	// y axis [0.40, 1.00]
	// <nil> true
}

// Two dissimilarity matrices on one colour scale, with one colour bar.
func ExampleHeatmapPanel() {
	a := [][]float64{{0, 0.2, 0.8}, {0.2, 0, 0.7}, {0.8, 0.7, 0}}
	b := [][]float64{{0, 0.1, 0.4}, {0.1, 0, 0.3}, {0.4, 0.3, 0}}
	lo, hi := figures.SharedRange(a, b)
	fig, _, err := figures.HeatmapPanel(2, []figures.HeatmapTile{{M: a, Title: "p = 0"}, {M: b, Title: "p = 0.3"}},
		figures.HeatmapOptions{OneBased: true, ColorBarLabel: "Σ(1 − cos)"})
	fmt.Println(lo, hi, fig != nil, err)
	// Output:
	// 0.1 0.8 true <nil>
}
