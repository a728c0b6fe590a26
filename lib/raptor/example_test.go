package raptor_test

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
	"github.com/blockrec/blockrec/lib/vit"
)

// The official k=3 Raptor of a 12-layer teacher: thresholds [7, 10].
func ExampleAssignFromThresholds() {
	assign, _ := raptor.AssignFromThresholds([]int{7, 10}, 12)
	cfg := raptor.ForTeacher(vit.Config{Dim: 768, Heads: 12, LayerNormEps: 1e-6}, assign)
	fmt.Println(assign, cfg.K(), cfg.Layers(1))
	plan, _ := raptor.Stage1Plan(cfg, 1)
	fmt.Println(plan.Segments, plan.Layers)
	// Output:
	// [0 0 0 0 0 0 0 1 1 1 2 2] 3 [8 9 10]
	// [{7 10}] [7 8 9 10]
}

// A random-shuffled baseline: any partition of the 0-based layers.
func ExampleAssignFromPartition() {
	assign, _ := raptor.AssignFromPartition(phases.Partition{{0, 3, 5}, {1, 2, 4}})
	fmt.Println(assign)
	// Output: [0 1 1 0 1 0]
}

// λ decays linearly to 0 over the first quarter of training, then stays 0.
func ExampleLambda() {
	for _, step := range []int{0, 10, 20, 25, 90} {
		fmt.Printf("%.2f ", raptor.Lambda(step, 100, 0.25))
	}
	// Output: 1.00 0.60 0.20 0.00 0.00
}

// Two features whose means differ by 100: the grand mean of overcomplete's r2_score (R2, and
// R2Trainer with the prediction's spread) makes SST huge, the per-feature R² does not.
func ExampleComparison() {
	c := raptor.NewComparison(1, 2, hidden.Layout{}) // one layer, CLS token only, 2 features
	targets := [][]float32{{0, 100}, {2, 102}}
	preds := [][]float32{{1, 100}, {1, 102}}
	for i := range targets {
		_ = c.Add(&hidden.States{Layers: 1, Tokens: 1, Dim: 2, Data: preds[i]},
			&hidden.States{Layers: 1, Tokens: 1, Dim: 2, Data: targets[i]})
	}
	fmt.Printf("R2 %.5f, R2Trainer %.5f, R2PerFeature %.2f, MSE %.2f\n",
		c.R2(0, raptor.GroupAll), c.R2Trainer(0, raptor.GroupAll), c.R2PerFeature(0, raptor.GroupAll), c.MSE(0, raptor.GroupAll))
	// Output: R2 0.99980, R2Trainer 0.99980, R2PerFeature 0.50, MSE 0.50
}
