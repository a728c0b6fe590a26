package recipes

import (
	"slices"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/notebook"
)

// TestCIFARPlansAreConsistent checks every scale's plan: each teacher spec carries its own SD
// rate and the plan's augmentation choice, the baseline teacher is one of the sweep, and the K
// compared with random phases are among the K fitted.
func TestCIFARPlansAreConsistent(t *testing.T) {
	for _, tc := range []struct {
		level   notebook.Level
		augment bool
	}{{notebook.Smoke, true}, {notebook.CPU, true}, {notebook.Paper, true}} {
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
			for _, sd := range p.baselineSDs() {
				if !slices.Contains(p.SDRates, sd) {
					t.Errorf("baseline rate %g not in the sweep %v", sd, p.SDRates)
				}
				// Without a short recipe of their own, the baselines are compared with the main fits.
				for _, k := range p.BaselineKs {
					if p.BaselineSteps == 0 && !slices.Contains(p.raptorKs(sd), k) {
						t.Errorf("baseline K=%d at p=%g has no max-cut fit to compare with", k, sd)
					}
				}
			}
			for _, k := range p.RaptorOtherKs {
				if !slices.Contains(p.Ks, k) {
					t.Errorf("RaptorOtherKs K=%d not among %v", k, p.Ks)
				}
			}
			if p.AblationK > 0 && !slices.Contains(p.raptorKs(p.SDRates[0]), p.AblationK) {
				t.Errorf("ablation K=%d is not fit on the first rate (its last row is that fit)", p.AblationK)
			}
		})
	}
}

// TestCIFARPlanSizedTo: every scale's plan fits the data set it is given (the cpu plan takes the
// whole training and test splits, 500 probe and 2,048 Raptor images), the cuts are listed, and a data set
// too small to train on is one error line that says how to get data.
func TestCIFARPlanSizedTo(t *testing.T) {
	splits := func(train, test int) *data.Splits {
		return &data.Splits{Train: data.Synthetic(train, 8, 10, 1), Test: data.Synthetic(test, 8, 10, 2)}
	}
	for _, tc := range []struct {
		name        string
		level       notebook.Level
		train, test int
		cuts        int    // entries in Sized
		err         string // "" when it fits
	}{
		{"smoke fits as designed", notebook.Smoke, 600, 300, 0, ""},
		{"cpu on the synthetic fallback", notebook.CPU, 10000, 2000, 0, ""},
		{"cpu on a small test split", notebook.CPU, 30000, 300, 1, ""},
		{"cpu on a tiny set", notebook.CPU, 100, 50, 2, ""},
		{"paper takes the whole split", notebook.Paper, 1000, 100, 2, ""},
		{"less than one batch", notebook.CPU, 63, 50, 0, "at least 64"},
		{"no test images", notebook.Smoke, 600, 0, 0, "0 test images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := CIFARPlanFor(tc.level)
			got, err := plan.SizedTo(splits(tc.train, tc.test))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), data.FashionMNISTPackage) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line containing %q and the package to install", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Sized) != tc.cuts {
				t.Errorf("cuts %q, want %d", got.Sized, tc.cuts)
			}
			for _, n := range []struct {
				what      string
				got, want int
			}{
				{"train", got.TrainImages, min(plan.TrainImages, tc.train)},
				{"test", got.TestImages, min(plan.TestImages, tc.test)},
				{"probe", got.ProbeImages, min(plan.ProbeImages, tc.test)},
				{"raptor", got.RaptorTrainImages, min(plan.RaptorTrainImages, tc.train)},
			} {
				if n.got != n.want {
					t.Errorf("%s images %d, want %d", n.what, n.got, n.want)
				}
			}
			if err := got.TeacherSpec(0).fits(splits(tc.train, tc.test)); err != nil {
				t.Errorf("the sized teacher spec does not fit: %v", err)
			}
		})
	}
}
