package dynamics_test

import (
	"fmt"
	"math"

	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/hidden"
)

func ExampleNewSelfCorrectionPath() {
	// Every block maps each token (a, b) to (3a, 1.5b). Clean tokens lie on the a axis, so their
	// norm triples per block, while a perturbed token's angle to the a axis is about halved.
	layout := hidden.Layout{NumPatches: 2}
	const layers, dim = 4, 2
	block := func(x []float32) {
		for i := 0; i < len(x); i += dim {
			x[i], x[i+1] = 3*x[i], 1.5*x[i+1]
		}
	}
	s := hidden.NewStates(layers, layout.NumTokens(), dim)
	for t := 0; t < layout.NumTokens(); t++ {
		s.Token(0, t)[0] = float32(1 + t)
	}
	for l := 1; l < layers; l++ {
		copy(s.Layer(l), s.Layer(l-1))
		block(s.Layer(l))
	}
	path := func(layer int, state []float32) ([]float32, error) {
		x := append([]float32(nil), state...)
		var out []float32
		for l := layer; l < layers-1; l++ {
			block(x)
			out = append(out, x...)
		}
		return out, nil
	}
	sc, err := dynamics.NewSelfCorrectionPath(layout, path, dynamics.PerturbConfig{Epsilon: 0.01, Tokens: dynamics.ScopePatches, Seed: 1})
	if err != nil {
		panic(err)
	}
	for i := 0; i < 3; i++ {
		if err := sc.Add(s); err != nil {
			panic(err)
		}
	}
	r := sc.Result()
	c, _ := r.ContractionOf(dynamics.ScopePatches)
	for i, b := range c.Blocks {
		fmt.Printf("block %d: angular contraction %.3f\n", b, c.Ratio[i].Mean)
	}
	// Output:
	// block 1: angular contraction 0.500
	// block 2: angular contraction 0.500
	// block 3: angular contraction 0.500
}

func ExampleSigmoidTest() {
	x := make([]float64, 13)
	logistic, linear := make([]float64, 13), make([]float64, 13)
	for i := range x {
		x[i] = float64(i)
		logistic[i] = 1 / (1 + math.Exp(-(x[i]-6)/1.5))
		linear[i] = 0.1 + 0.07*x[i]
	}
	for _, c := range []struct {
		name string
		y    []float64
	}{{"logistic", logistic}, {"linear", linear}} {
		r, err := dynamics.SigmoidTest(x, c.y)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: S-shaped %v\n", c.name, r.SShaped)
		if r.SShaped {
			fmt.Printf("  inflection at %.1f, width %.1f\n", r.Inflection, r.Width)
		}
	}
	// Output:
	// logistic: S-shaped true
	//   inflection at 6.0, width 1.5
	// linear: S-shaped false
}
