package dynamics

import (
	"fmt"
	"math"

	"github.com/blockrec/blockrec/lib/hidden"
)

// ImageMeans is one image's direction convergence and angular speed, averaged over the tokens of
// each scope: Gamma[i][ℓ] = mean over scope i's tokens of cos(x_ℓ, x_L), ℓ = 0..L, and
// Speed[i][ℓ] = mean of ∠(x_ℓ, x_{ℓ+1}) in degrees, ℓ = 0..L−1. Unlike Convergence and Speed,
// which pool tokens × images into histograms, these per-image values can be bootstrapped over
// images.
func ImageMeans(s *hidden.States, layout hidden.Layout, scopes []Scope) (gamma, speed [][]float64, err error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	if s.Layers < 2 || s.Tokens != layout.NumTokens() {
		return nil, nil, fmt.Errorf("dynamics: image means of %d layers × %d tokens, want ≥ 2 layers and %d tokens", s.Layers, s.Tokens, layout.NumTokens())
	}
	last := s.Layers - 1
	for _, sc := range scopes {
		from, to := sc.Range(layout)
		if !sc.valid() || to <= from {
			return nil, nil, fmt.Errorf("dynamics: scope %v has no tokens in the layout", sc)
		}
		n := float64(to - from)
		g, sp := make([]float64, s.Layers), make([]float64, s.Layers-1)
		for t := from; t < to; t++ {
			for l := range s.Layers {
				g[l] += cos32(s.Token(l, t), s.Token(last, t)) / n
				if l < last {
					a, b := s.Token(l, t), s.Token(l+1, t)
					sp[l] += angle32(a, b, norm32(a), norm32(b)) * 180 / math.Pi / n
				}
			}
		}
		gamma, speed = append(gamma, g), append(speed, sp)
	}
	return gamma, speed, nil
}
