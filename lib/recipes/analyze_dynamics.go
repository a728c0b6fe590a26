package recipes

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/stats"
)

// This file is analyze's dynamics summary: per image, the direction convergence γ_ℓ = cos(x_ℓ,
// x_L) and the angular speed ∠(x_ℓ, x_{ℓ+1}), averaged over the CLS token and over the patch
// tokens; over images, their means with 95% bootstrap intervals. Each image's values are saved
// with its batch, so a resumed run summarises every image.

// analyzeGroups are the token groups of the dynamics summary.
var analyzeGroups = []string{"CLS", "patches"}

// AnalyzeDynamics is the dynamics summary of Analyze.
type AnalyzeDynamics struct {
	Groups []string `json:"groups"`
	// Gamma[g][ℓ] is the mean over images of the mean over group g's tokens of cos(x_ℓ, x_L),
	// ℓ = 0 (embedding) .. L; Speed[g][ℓ] the same for the angle ∠(x_ℓ, x_{ℓ+1}) in degrees
	// (block ℓ+1's turn), ℓ = 0 .. L−1. Intervals: 95% percentile bootstrap over images.
	Gamma [][]stats.Estimate `json:"gamma"`
	Speed [][]stats.Estimate `json:"speed"`
}

// analyzeScopes are the token groups of analyzeGroups, as lib/dynamics scopes.
var analyzeScopes = []dynamics.Scope{dynamics.ScopeCLS, dynamics.ScopePatches}

// summariseDynamics turns per-image values ([image][group][layer]) into means with intervals.
func summariseDynamics(gamma, speed [][][]float64, seed uint64) (*AnalyzeDynamics, error) {
	if len(gamma) == 0 || len(gamma) != len(speed) {
		return nil, fmt.Errorf("dynamics: %d images of γ and %d of speed", len(gamma), len(speed))
	}
	d := &AnalyzeDynamics{Groups: analyzeGroups}
	summarise := func(per [][][]float64) ([][]stats.Estimate, error) {
		out := make([][]stats.Estimate, len(analyzeGroups))
		for g := range analyzeGroups {
			layers := len(per[0][g])
			for l := range layers {
				vals := make([]float64, len(per))
				for i := range per {
					if len(per[i]) != len(analyzeGroups) || len(per[i][g]) != layers {
						return nil, fmt.Errorf("dynamics: image %d has other shapes than image 0", i)
					}
					vals[i] = per[i][g][l]
				}
				e, err := stats.Bootstrap(len(vals), 500, seed, stats.DefaultLevel, func(idx []int) float64 {
					t := 0.0
					for _, j := range idx {
						t += vals[j]
					}
					return t / float64(len(idx))
				})
				if err != nil {
					return nil, fmt.Errorf("dynamics: %s layer %d: %w", analyzeGroups[g], l, err)
				}
				out[g] = append(out[g], e)
			}
		}
		return out, nil
	}
	var err error
	if d.Gamma, err = summarise(gamma); err != nil {
		return nil, err
	}
	if d.Speed, err = summarise(speed); err != nil {
		return nil, err
	}
	return d, nil
}

// analyzeDynamicsFigure draws γ per layer (left) and the angular speed per block (right), per
// token group, with their 95% bootstrap intervals.
func analyzeDynamicsFigure(r *AnalyzeResult) (NamedFigure, bool) {
	d := r.Dynamics
	if d == nil || len(d.Gamma) == 0 {
		return NamedFigure{}, false
	}
	series := func(est [][]stats.Estimate, x0 float64) []figures.Series {
		var out []figures.Series
		for g, name := range d.Groups {
			s := figures.Series{Label: name}
			for l, e := range est[g] {
				s.X, s.Y = append(s.X, x0+float64(l)), append(s.Y, e.Value)
				s.Lo, s.Hi = append(s.Lo, math.Min(e.CI.Lo, e.Value)), append(s.Hi, math.Max(e.CI.Hi, e.Value))
			}
			out = append(out, s)
		}
		return out
	}
	left := figures.Lines("Direction convergence", `layer $\ell$ (0 = embedding)`, `$\gamma_\ell$ = cos($x_\ell$, $x_L$)`, series(d.Gamma, 0)...)
	right := figures.Lines("Angular speed", `block $\ell$ (turn from layer $\ell-1$ to $\ell$)`, `angle between $x_{\ell-1}$ and $x_\ell$ (degrees)`, series(d.Speed, 1)...)
	figures.Math(left, right)
	if err := figures.CosineAxis(left); err != nil {
		return NamedFigure{}, false
	}
	return NamedFigure{Name: "analyze_dynamics", Figure: figures.Panel(2, left, right), W: 24 * vg.Centimeter, H: 10 * vg.Centimeter,
		Caption: fmt.Sprintf("Per image, the mean over the CLS token and over the patch tokens of cos(x_ℓ, x_L) (left) and of the angle between consecutive layers (right, degrees); means over %d images with 95%% percentile-bootstrap intervals over images.", r.Used)}, true
}

// dynamicsReport is the report's dynamics section.
func dynamicsReport(d *AnalyzeDynamics) string {
	if d == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("## Dynamics\n\n")
	b.WriteString("Direction convergence γ_ℓ = cos(x_ℓ, x_L) and angular speed ∠(x_ℓ, x_ℓ+1) (degrees), per token group: means over images [95% bootstrap interval].\n\n")
	b.WriteString("| layer ℓ |")
	for _, g := range d.Groups {
		fmt.Fprintf(&b, " γ %s | speed %s (ℓ→ℓ+1) |", g, g)
	}
	b.WriteString("\n|---|")
	for range d.Groups {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for l := range d.Gamma[0] {
		fmt.Fprintf(&b, "| %d |", l)
		for g := range d.Groups {
			e := d.Gamma[g][l]
			fmt.Fprintf(&b, " %.3f [%.3f, %.3f] |", e.Value, e.CI.Lo, e.CI.Hi)
			if l < len(d.Speed[g]) {
				s := d.Speed[g][l]
				fmt.Fprintf(&b, " %.1f [%.1f, %.1f] |", s.Value, s.CI.Lo, s.CI.Hi)
			} else {
				b.WriteString(" — |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}
