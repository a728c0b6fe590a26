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
