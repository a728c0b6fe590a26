package raptor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

func TestPoolComparisonsEqualsOneComparison(t *testing.T) {
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 3}
	const layers, dim, images, parts = 2, 3, 10, 4
	rng := rand.New(rand.NewPCG(1, 2))
	whole := NewComparison(layers, dim, layout)
	var ps []*Comparison
	for range parts {
		ps = append(ps, NewComparison(layers, dim, layout))
	}
	for i := range images {
		pred := hidden.NewStates(layers, layout.NumTokens(), dim)
		target := hidden.NewStates(layers, layout.NumTokens(), dim)
		for j := range target.Data {
			target.Data[j] = float32(rng.NormFloat64() + float64(j%dim)) // per-feature offsets
			pred.Data[j] = target.Data[j] + float32(0.3*rng.NormFloat64())
		}
		if err := whole.Add(pred, target); err != nil {
			t.Fatal(err)
		}
		if err := ps[i%parts].Add(pred, target); err != nil {
			t.Fatal(err)
		}
	}
	pooled, err := PoolComparisons(ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	for l := range layers {
		for g := range 4 {
			for name, f := range map[string]func(*Comparison) float64{
				"R2":           func(c *Comparison) float64 { return c.R2(l, g) },
				"R2Trainer":    func(c *Comparison) float64 { return c.R2Trainer(l, g) },
				"R2PerFeature": func(c *Comparison) float64 { return c.R2PerFeature(l, g) },
				"Cosine":       func(c *Comparison) float64 { return c.Cosine(l, g) },
			} {
				a, b := f(whole), f(pooled)
				if !(math.Abs(a-b) <= 1e-9*max(1, math.Abs(a))) && !(math.IsNaN(a) && math.IsNaN(b)) {
					t.Errorf("layer %d group %d %s: pooled %v, one comparison %v", l, g, name, b, a)
				}
			}
		}
	}
	// Repetition counts: pooling part 0 twice weighs it twice.
	twice, err := PoolComparisons(ps, []int{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := twice.R2PerFeature(0, 2), ps[0].R2PerFeature(0, 2); math.Abs(a-b) > 1e-9 {
		t.Errorf("part 0 pooled twice: R² %v, want part 0's own %v", a, b)
	}
	for _, bad := range [][]int{{-1}, {parts}} {
		if _, err := PoolComparisons(ps, bad); err == nil {
			t.Errorf("PoolComparisons(idx %v): no error", bad)
		}
	}
	if _, err := PoolComparisons(nil, nil); err == nil {
		t.Error("PoolComparisons of no parts: no error")
	}
}
