package figures

import (
	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot/vg"
)

// Show saves fig like Save and, when running inside a GoNB notebook, displays the PNG in the
// cell's output (so the executed notebook and its HTML export carry the figure). Outside a
// notebook it only saves.
func Show(fig Figure, name string, w, h vg.Length, prov Provenance) ([]string, error) {
	paths, r, err := save(fig, name, w, h, prov)
	if err != nil {
		return paths, err
	}
	if gonbui.IsNotebook {
		gonbui.DisplayPNG(r.png)
	}
	return paths, nil
}
