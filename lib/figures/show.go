package figures

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot/vg"
)

// Show saves fig like Save and, when running inside a GoNB notebook, displays the PNG in the
// cell's output (so the executed notebook and its HTML export carry the figure) with one line
// saying where the files went (see DirFor: not always figures/). Outside a notebook it only saves.
func Show(fig Figure, name string, w, h vg.Length, prov Provenance) ([]string, error) {
	paths, r, err := save(fig, name, w, h, prov)
	if err != nil {
		return paths, err
	}
	if gonbui.IsNotebook {
		gonbui.DisplayPNG(r.png)
		fmt.Println(exportedLine(name, paths, r.kept))
	}
	return paths, nil
}

// exportedLine is "exported NAME (png, svg, pdf, json) to DIR/", or "NAME unchanged in DIR/
// (…)" when save kept the files already there, DIR relative to the repository root when it is
// inside it.
func exportedLine(name string, paths []string, kept bool) string {
	if len(paths) == 0 {
		return "exported " + name
	}
	dir := filepath.Dir(paths[0])
	if root, err := notebook.RepoRoot(); err == nil {
		if rel, err := filepath.Rel(root, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			dir = rel
		}
	}
	var kinds []string
	for _, p := range paths {
		kinds = append(kinds, strings.TrimPrefix(filepath.Ext(p), "."))
	}
	if kept {
		return fmt.Sprintf("%s unchanged in %s/ (%s; same drawing and provenance, files kept)", name, dir, strings.Join(kinds, ", "))
	}
	return fmt.Sprintf("exported %s (%s) to %s/", name, strings.Join(kinds, ", "), dir)
}
