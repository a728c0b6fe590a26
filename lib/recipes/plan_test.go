package recipes

import (
	"slices"
	"testing"

	"github.com/blockrec/blockrec/lib/notebook"
)

// TestCIFARPlansAreConsistent checks every scale's plan: each teacher spec carries its own SD
// rate and the plan's augmentation choice, the baseline teacher is one of the sweep, and the K
// compared with random phases are among the K fitted.
func TestCIFARPlansAreConsistent(t *testing.T) {
	for _, tc := range []struct {
		level   notebook.Level
		augment bool
	}{{notebook.Smoke, true}, {notebook.CPU, false}, {notebook.Paper, true}} {
		t.Run(string(tc.level), func(t *testing.T) {
			p := CIFARPlanFor(tc.level)
			for _, sd := range p.SDRates {
				spec := p.TeacherSpec(sd)
				if spec.Model.DropPath != sd || spec.Augment != tc.augment || spec.Epochs != p.Epochs || spec.BatchSize != p.BatchSize {
					t.Errorf("sd %g: spec %+v does not follow the plan (augment want %v)", sd, spec, tc.augment)
				}
			}
			if !slices.Contains(p.SDRates, p.BaselineSD()) {
				t.Errorf("baseline SD %g not in the sweep %v", p.BaselineSD(), p.SDRates)
			}
			for _, k := range p.BaselineKs {
				if !slices.Contains(p.Ks, k) {
					t.Errorf("baseline K=%d not among the fitted K %v", k, p.Ks)
				}
			}
		})
	}
}
