package dynamics

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

var (
	benchOnce   sync.Once
	benchStates *hidden.States
	benchLayout = hidden.Layout{NumRegisters: 0, NumPatches: 256} // DINOv2-g/14 at 224: 1 + 256 tokens
)

// benchImage is one 40-layer × 257-token × 1536-dim image (DINOv2-giant's shape).
func benchImage() *hidden.States {
	benchOnce.Do(func() {
		benchStates = randomStates(rand.New(rand.NewPCG(1, 1)), 40, benchLayout.NumTokens(), 1536)
	})
	return benchStates
}

// BenchmarkPerImage reports the time to push one 40×257×1536 image through each accumulator and
// through all of them (ns/op = per image).
func BenchmarkPerImage(b *testing.B) {
	s := benchImage()
	mk := map[string]func() Accumulator{
		"Convergence": func() Accumulator { return NewConvergence(benchLayout) },
		"Speed":       func() Accumulator { return NewSpeed(benchLayout) },
		"UpdateField1": func() Accumulator {
			u, _ := NewUpdateField(benchLayout, UpdateFieldConfig{Workers: 1})
			return u
		},
		"UpdateField": func() Accumulator {
			u, _ := NewUpdateField(benchLayout, UpdateFieldConfig{})
			return u
		},
		"PCAFit": func() Accumulator {
			p, _ := NewPCAFit(benchLayout, TrajectoryConfig{Kind: TrajectoryCLS, Normalize: true})
			return p
		},
	}
	for _, name := range []string{"Convergence", "Speed", "UpdateField1", "UpdateField", "PCAFit"} {
		b.Run(name, func(b *testing.B) {
			acc := mk[name]()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := acc.Add(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("All", func(b *testing.B) {
		accs := []Accumulator{mk["Convergence"](), mk["Speed"](), mk["UpdateField"](), mk["PCAFit"]()}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := Feed(s, accs...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSelfCorrectionOverhead measures the package's own cost per image of the self-correction
// experiment at all 40 layers, with a RunFrom that returns its input unchanged (a real model's
// forward passes come on top).
func BenchmarkSelfCorrectionOverhead(b *testing.B) {
	s := benchImage()
	run := func(_ int, state []float32) ([]float32, error) { return state, nil }
	sc, err := NewSelfCorrection(benchLayout, run, PerturbConfig{Epsilon: 0.05, Tokens: ScopeAll, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sc.Add(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPCAResult measures fitting 2 components of a 1536-dim covariance.
func BenchmarkPCAResult(b *testing.B) {
	s := benchImage()
	p, _ := NewPCAFit(benchLayout, TrajectoryConfig{Kind: TrajectoryMeanPatch})
	for i := 0; i < 3; i++ {
		if err := p.Add(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Result(2); err != nil {
			b.Fatal(err)
		}
	}
}
