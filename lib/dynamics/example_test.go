package dynamics_test

import (
	"fmt"
	"math"

	"github.com/blockrec/blockrec/lib/dynamics"
	"github.com/blockrec/blockrec/lib/hidden"
)

// turning returns one image of 1 CLS + 2 patch tokens whose every token turns by theta radians
// per layer in the plane of the first two coordinates (token t starts at angle t).
func turning(layers int, theta float64) *hidden.States {
	s := hidden.NewStates(layers, 3, 4)
	for l := 0; l < layers; l++ {
		for t := 0; t < 3; t++ {
			a := float64(t) + float64(l)*theta
			s.Token(l, t)[0] = float32((1 + float64(l)) * math.Cos(a))
			s.Token(l, t)[1] = float32((1 + float64(l)) * math.Sin(a))
		}
	}
	return s
}

func ExampleConvergence() {
	layout := hidden.Layout{NumPatches: 2}
	conv := dynamics.NewConvergence(layout)
	if err := conv.Add(turning(5, 0.2)); err != nil {
		panic(err)
	}
	patches, _ := conv.Result().Group(dynamics.ScopePatches)
	for i, l := range patches.Layers {
		fmt.Printf("layer %d: γ = %.4f (cos(%d·0.2) = %.4f)\n", l, patches.Stats[i].Mean, 4-l, math.Cos(float64(4-l)*0.2))
	}
	// Output:
	// layer 0: γ = 0.6967 (cos(4·0.2) = 0.6967)
	// layer 1: γ = 0.8253 (cos(3·0.2) = 0.8253)
	// layer 2: γ = 0.9211 (cos(2·0.2) = 0.9211)
	// layer 3: γ = 0.9801 (cos(1·0.2) = 0.9801)
	// layer 4: γ = 1.0000 (cos(0·0.2) = 1.0000)
}

func ExampleSpeed() {
	layout := hidden.Layout{NumPatches: 2}
	sp := dynamics.NewSpeed(layout)
	if err := sp.Add(turning(4, 0.3)); err != nil {
		panic(err)
	}
	cls, _ := sp.Result().Group(dynamics.ScopeCLS)
	fmt.Printf("steps %v, speeds %.4f rad\n", cls.Layers, cls.Means())
	// Output:
	// steps [0 1 2], speeds [0.3000 0.3000 0.3000] rad
}

func ExampleBoundaryTest() {
	// Mean speed per step of a 12-block model whose phases are blocks 1–7 and 8–12.
	s := []float64{.30, .31, .30, .29, .30, .31, .30, .55, .56, .55, .54, .55}
	r, err := dynamics.BoundaryTest(s, []int{7}, 10000, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("jump %.2f, score %.1f, phase R² %.3f, p = %.3f over %d boundary positions (exact %v)\n",
		r.Jumps[0], r.Score, r.PhaseR2, r.P, r.Trials, r.Exact)
	// Output:
	// jump 0.25, score 25.0, phase R² 0.997, p = 0.091 over 11 boundary positions (exact true)
}

func ExampleSelfCorrection() {
	// A model that contracts every token towards 0 by a = 0.5 per layer: a perturbation injected
	// at layer l is halved L−l times.
	layout := hidden.Layout{NumPatches: 2}
	s := turning(4, 0)
	run := func(layer int, state []float32) ([]float32, error) {
		x := append([]float32(nil), state...)
		for l := layer; l < 3; l++ {
			for i := range x {
				x[i] *= 0.5
			}
		}
		return x, nil
	}
	for l := 1; l < 4; l++ { // make the stored states follow the same map
		for i := range s.Layer(l) {
			s.Layer(l)[i] = 0.5 * s.Layer(l - 1)[i]
		}
	}
	sc, err := dynamics.NewSelfCorrection(layout, run, dynamics.PerturbConfig{Epsilon: 0.1, Tokens: dynamics.ScopePatches, Seed: 7})
	if err != nil {
		panic(err)
	}
	if err := sc.Add(s); err != nil {
		panic(err)
	}
	r := sc.Result()
	patches, _ := r.Rel(dynamics.ScopePatches)
	cls, _ := r.Rel(dynamics.ScopeCLS)
	for i, l := range patches.Layers {
		fmt.Printf("perturb layer %d: patch deviation %.4f, CLS deviation %.4f\n", l, patches.Stats[i].Mean, cls.Stats[i].Mean)
	}
	// Output:
	// perturb layer 0: patch deviation 0.1000, CLS deviation 0.0000
	// perturb layer 1: patch deviation 0.1000, CLS deviation 0.0000
	// perturb layer 2: patch deviation 0.1000, CLS deviation 0.0000
	// perturb layer 3: patch deviation 0.1000, CLS deviation 0.0000
}

func ExampleUpdateField() {
	// Every token moves by the same vector at step 0 (rank 1, fully coherent) and along its own
	// axis at step 1 (rank 3 with equal singular values, pairwise orthogonal).
	layout := hidden.Layout{NumPatches: 2}
	s := hidden.NewStates(3, 3, 4)
	for t := 0; t < 3; t++ {
		s.Token(1, t)[3] = 1
		copy(s.Token(2, t), s.Token(1, t))
		s.Token(2, t)[t] = 2
	}
	u, err := dynamics.NewUpdateField(layout, dynamics.UpdateFieldConfig{Scopes: []dynamics.Scope{dynamics.ScopeAll}, TopK: 3})
	if err != nil {
		panic(err)
	}
	if err := u.Add(s); err != nil {
		panic(err)
	}
	r := u.Result()
	rank, _ := r.Rank(dynamics.ScopeAll)
	sv, _ := r.Singular(dynamics.ScopeAll)
	pair, _ := r.Pairwise(dynamics.ScopeAll)
	for i, l := range rank.Layers {
		fmt.Printf("step %d: stable rank %.2f, singular values %.3f, pairwise coherence %.2f\n", l, rank.Stats[i].Mean, sv.Mean[i], pair.Stats[i].Mean)
	}
	// Output:
	// step 0: stable rank 1.00, singular values [1.732 0.000 0.000], pairwise coherence 1.00
	// step 1: stable rank 3.00, singular values [2.000 2.000 2.000], pairwise coherence 0.00
}

func ExamplePCAFit() {
	// Fit a 2-D PCA on the CLS paths of two images, then project both paths.
	layout := hidden.Layout{NumPatches: 2}
	images := []*hidden.States{turning(5, 0.3), turning(5, -0.3)}
	fit, err := dynamics.NewPCAFit(layout, dynamics.TrajectoryConfig{Kind: dynamics.TrajectoryCLS, Normalize: true})
	if err != nil {
		panic(err)
	}
	for _, s := range images {
		if err := fit.Add(s); err != nil {
			panic(err)
		}
	}
	pca, err := fit.Result(2)
	if err != nil {
		panic(err)
	}
	tr, _ := dynamics.NewTrajectories(layout, pca)
	for label, s := range images {
		if err := tr.Add(s, label); err != nil {
			panic(err)
		}
	}
	r := tr.Result()
	fmt.Printf("explained %.3f + %.3f\n", r.Explained[0], r.Explained[1])
	for _, p := range r.Trajectories {
		fmt.Printf("label %d: %d points, path length %.3f\n", p.Label, len(p.X), pathLength(p.X, p.Y))
	}
	// Output:
	// explained 0.872 + 0.128
	// label 0: 5 points, path length 1.196
	// label 1: 5 points, path length 1.196
}

func pathLength(x, y []float64) float64 {
	var s float64
	for i := 1; i < len(x); i++ {
		s += math.Hypot(x[i]-x[i-1], y[i]-y[i-1])
	}
	return s
}
