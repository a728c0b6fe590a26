package recipes

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/figures"
)

// LabeledDynamics is one model's dynamics with what tells it apart in a comparison.
type LabeledDynamics struct {
	Label    string // e.g. "p=0.00 (best, 28.5 %)"
	SD       float64
	Accuracy float64
	Result   *DynamicsResult
}

// DynamicsTeachers returns the two CIFAR teachers notebook 03 analyses: the best (highest test
// accuracy among the first teachers of every rate) and a high-SD one (the highest rate; when that
// is the best, the lowest). Teachers not yet trained are trained, so the notebook runs on its own.
func (p CIFARPlan) DynamicsTeachers(b backends.Backend, splits *data.Splits, progress io.Writer) (best, other *TrainedViT, err error) {
	if len(p.SDRates) == 0 {
		return nil, nil, fmt.Errorf("dynamics: the plan has no SD rates")
	}
	var teachers []*TrainedViT
	for _, sd := range p.SDRates {
		t, err := p.Teacher(b, splits, sd, progress)
		if err != nil {
			return nil, nil, err
		}
		teachers = append(teachers, t)
	}
	best = teachers[0]
	for _, t := range teachers[1:] {
		if t.Result.TestAccuracy > best.Result.TestAccuracy {
			best = t
		}
	}
	sorted := append([]*TrainedViT(nil), teachers...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Model.Config.DropPath < sorted[j].Model.Config.DropPath })
	other = sorted[len(sorted)-1]
	if other == best {
		other = sorted[0]
	}
	return best, other, nil
}

// FigureDynamicsComparison draws, for each model, the direction convergence γ_l and the angular
// speed per block of the CLS and patch tokens (mean ± standard deviation over tokens and images).
func FigureDynamicsComparison(runs []LabeledDynamics) (NamedFigure, bool) {
	build := func(scope dynamics.Scope, speed bool) []figures.Series {
		var out []figures.Series
		for i, r := range runs {
			var s dynamics.Series
			var ok bool
			if speed {
				s, ok = r.Result.Speed.Group(scope)
			} else {
				s, ok = r.Result.Convergence.Group(scope)
			}
			if !ok {
				continue
			}
			f := figures.Series{Label: r.Label}
			dx, scale := 0.08*float64(i), 1.0 // offset so the bars do not overlap
			if speed {
				dx, scale = 1+0.08*float64(i), radToDeg // step l is block l+1
			}
			for j, st := range s.Stats {
				f.X, f.Y, f.Err = append(f.X, float64(s.Layers[j])+dx), append(f.Y, scale*st.Mean), append(f.Err, scale*st.Std)
			}
			out = append(out, f)
		}
		return out
	}
	cls, patches := build(dynamics.ScopeCLS, false), build(dynamics.ScopePatches, false)
	sCLS, sPatches := build(dynamics.ScopeCLS, true), build(dynamics.ScopePatches, true)
	if len(cls) == 0 || len(patches) == 0 || len(sCLS) == 0 || len(sPatches) == 0 {
		return NamedFigure{}, false
	}
	g1 := figures.Lines("Direction convergence, CLS token", "layer ℓ", `$\gamma_\ell = \cos(x_\ell, x_L)$`, cls...)
	g2 := figures.Lines("Direction convergence, patch tokens", "layer ℓ", `$\gamma_\ell = \cos(x_\ell, x_L)$`, patches...)
	s1 := figures.Lines("Angular speed, CLS token", "block ℓ", `angle between $x_{\ell-1}$ and $x_\ell$ (degrees)`, sCLS...)
	s2 := figures.Lines("Angular speed, patch tokens", "block ℓ", `angle between $x_{\ell-1}$ and $x_\ell$ (degrees)`, sPatches...)
	for _, p := range []*plot.Plot{g1, g2, s1, s2} {
		figures.Math(p)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Label)
	}
	return NamedFigure{Name: "03_compare_sd", W: 24 * vg.Centimeter, H: 18 * vg.Centimeter, Figure: figures.Panel(2, g1, g2, s1, s2),
		Caption: fmt.Sprintf("Direction convergence γ_ℓ (top) and angular speed per block (bottom) of the CLS (left) and patch tokens (right) for %s, on the same %d test images; bars: ± one standard deviation over tokens and images (a spread, not an interval of the mean).",
			strings.Join(names, " and "), runs[0].Result.Key.Config.Images)}, true
}

// DynamicsComparisonTable sets the claims of notebook 03 side by side for each model, from
// dynamics.Summarize (nothing typed by hand).
func DynamicsComparisonTable(runs []LabeledDynamics) string {
	var b strings.Builder
	b.WriteString("| measure |")
	for _, r := range runs {
		fmt.Fprintf(&b, " %s |", r.Label)
	}
	b.WriteString("\n|---|")
	for range runs {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	row := func(name string, cell func(s dynamics.Summary) string) {
		fmt.Fprintf(&b, "| %s |", name)
		for _, r := range runs {
			fmt.Fprintf(&b, " %s |", cell(r.Result.Summary))
		}
		b.WriteString("\n")
	}
	yes := func(v bool) string {
		if v {
			return "holds"
		}
		return "does not hold"
	}
	for _, scope := range []dynamics.Scope{dynamics.ScopeCLS, dynamics.ScopePatches} {
		scope := scope
		row(fmt.Sprintf("γ rises to 1 (%s): Spearman ρ; S-shaped by AICc", dynGroupName(scope)), func(s dynamics.Summary) string {
			for _, c := range s.Convergence {
				if c.Scope == scope {
					return fmt.Sprintf("%s (ρ = %.2f); S-shape: %s", yes(c.Holds), c.Spearman, yes(c.SShaped))
				}
			}
			return "n/a"
		})
		row(fmt.Sprintf("speed changes at the phase boundaries (%s, held-out images)", dynGroupName(scope)), func(s dynamics.Summary) string {
			var parts []string
			for _, c := range s.SpeedBoundaries {
				if c.Scope == scope {
					parts = append(parts, fmt.Sprintf("%d boundaries: score %.2f, p = %.3g, %s", len(c.Test.Boundaries), c.Test.Score, c.Test.P, yes(c.Holds)))
				}
			}
			if len(parts) == 0 {
				return "n/a"
			}
			return strings.Join(parts, "; ")
		})
	}
	row("self-correction (patch early farther, CLS late farther): by norm; by angle", func(s dynamics.Summary) string {
		if s.SelfCorrection == nil {
			return "n/a"
		}
		c := s.SelfCorrection
		return fmt.Sprintf("%s (patch %.3f → %.3f, CLS %.3f → %.3f); by angle: %s", yes(c.Holds), c.PatchEarly, c.PatchLate, c.CLSEarly, c.CLSLate, yes(c.AngularHolds))
	})
	row("late updates lowest-rank (stable rank early / middle / late)", func(s dynamics.Summary) string {
		if s.StableRank == nil {
			return "n/a"
		}
		c := s.StableRank
		return fmt.Sprintf("%s (%.2f / %.2f / %.2f)", yes(c.LateLowest), c.Early, c.Middle, c.Late)
	})
	row("patch updates most coherent late (pairwise κ early / middle / late)", func(s dynamics.Summary) string {
		if s.Coherence == nil {
			return "n/a"
		}
		c := s.Coherence
		return fmt.Sprintf("%s (%.3f / %.3f / %.3f)", yes(c.Holds), c.Early, c.Middle, c.Late)
	})
	return b.String()
}
