package dynamics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// randomOrthonormal returns k orthonormal vectors of length n.
func randomOrthonormal(rng *rand.Rand, n, k int) [][]float64 {
	vs := make([][]float64, k)
	for i := range vs {
		vs[i] = make([]float64, n)
		for j := range vs[i] {
			vs[i][j] = rng.NormFloat64()
		}
	}
	orthonormalize(vs, rng)
	return vs
}

// symFromSpectrum returns Σ λ_i q_i q_iᵀ (n×n) for orthonormal q_i.
func symFromSpectrum(q [][]float64, lambda []float64) []float64 {
	n := len(q[0])
	a := make([]float64, n*n)
	for i, l := range lambda {
		for r := 0; r < n; r++ {
			for c := 0; c < n; c++ {
				a[r*n+c] += l * q[i][r] * q[i][c]
			}
		}
	}
	return a
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (tol %.3g)", what, got, want, tol)
	}
}

// rotationStates builds one image whose every token turns by theta[scope] radians per layer in
// its own random 2-D plane, with a norm that grows along depth: speed = theta exactly and
// γ_l = cos((L−l)·theta).
func rotationStates(rng *rand.Rand, layout hidden.Layout, layers, dim int, theta map[Scope]float64) *hidden.States {
	s := hidden.NewStates(layers, layout.NumTokens(), dim)
	for _, sc := range GroupScopes {
		from, to := sc.Range(layout)
		for t := from; t < to; t++ {
			uv := randomOrthonormal(rng, dim, 2)
			phi := rng.Float64() * 2 * math.Pi
			for l := 0; l < layers; l++ {
				r := 1 + 0.5*float64(l)
				a := phi + float64(l)*theta[sc]
				x := s.Token(l, t)
				for j := range x {
					x[j] = float32(r * (math.Cos(a)*uv[0][j] + math.Sin(a)*uv[1][j]))
				}
			}
		}
	}
	return s
}

// randomStates fills states with Gaussian values plus a per-token drift, so that consecutive
// layers are correlated like a residual stream.
func randomStates(rng *rand.Rand, layers, tokens, dim int) *hidden.States {
	s := hidden.NewStates(layers, tokens, dim)
	for t := 0; t < tokens; t++ {
		for j := 0; j < dim; j++ {
			s.Token(0, t)[j] = float32(rng.NormFloat64())
		}
	}
	for l := 1; l < layers; l++ {
		for i, v := range s.Layer(l - 1) {
			s.Layer(l)[i] = v + float32(0.3*rng.NormFloat64())
		}
	}
	return s
}
