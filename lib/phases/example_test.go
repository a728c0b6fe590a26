package phases_test

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/phases"
)

// blocks returns an n-layer dissimilarity matrix with the given phase sizes: 0.1 inside a phase,
// 1 between phases, plus a small drift with depth.
func blocks(sizes ...int) [][]float64 {
	p, _ := phases.FromSizes(sizes)
	lab := p.Labels()
	w := make([][]float64, len(lab))
	for i := range w {
		w[i] = make([]float64, len(lab))
		for j := range w[i] {
			if i != j {
				d := float64(max(i-j, j-i))
				w[i][j] = 0.1 + 0.01*d
				if lab[i] != lab[j] {
					w[i][j] += 0.9
				}
			}
		}
	}
	return w
}

func ExampleContiguous() {
	w := blocks(7, 3, 2)
	res, err := phases.Contiguous(w, 3)
	if err != nil {
		panic(err)
	}
	th, _ := res.Partition.Thresholds()
	fmt.Println(res.Partition, th)
	// Output: 1-7 8-10 11-12 [7 10]
}

func ExampleRecursiveBisection() {
	w := blocks(6, 6)
	res, err := phases.RecursiveBisection(w, phases.BisectionOptions{EpsFrac: 0.2})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Partition, res.Partition.IsContiguous())
	// Output: 1-6 7-12 true
}

func ExampleEpsIntervals() {
	w := blocks(6, 6)
	// Both halves split at the same cut, so k=3 is never the answer.
	iv, _ := phases.EpsIntervals(w, phases.BisectionOptions{MinSize: 3})
	for _, in := range iv {
		fmt.Printf("k=%d for EpsFrac in [%.3f, %.3f)\n", in.K, in.FracLo, in.FracHi)
	}
	// Output:
	// k=4 for EpsFrac in [0.000, 0.028)
	// k=2 for EpsFrac in [0.028, 0.912)
	// k=1 for EpsFrac in [0.912, +Inf)
}

func ExampleNewCLSMeanPatch() {
	layout := hidden.Layout{NumRegisters: 4, NumPatches: 4}
	acc := phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: layout})
	for img := range 3 {
		s := hidden.NewStates(4, layout.NumTokens(), 2) // embedding + 3 blocks, 2 dims
		for l := range s.Layers {
			for t := range s.Tokens {
				// Layers 0-2 point along x, layer 3 along y.
				v := s.Token(l, t)
				v[0], v[1] = 1, float32(img)*0.01
				if l == 3 {
					v[0], v[1] = 0, 1
				}
			}
		}
		if err := acc.Add(s); err != nil {
			panic(err)
		}
	}
	for _, row := range acc.Matrix() { // rows: blocks 1..3 (layer 0 skipped)
		fmt.Printf("%.2f\n", row)
	}
	// Output:
	// [0.00 0.00 1.98]
	// [0.00 0.00 1.98]
	// [1.98 1.98 0.00]
}

func ExampleCompareToDrift() {
	w := blocks(4, 4, 4)
	p, _ := phases.FromSizes([]int{4, 4, 4})
	c, _ := phases.CompareToDrift(w, p)
	fmt.Printf("index %.3f, smooth-drift index %.3f, ratio %.3f (below 1: block-like)\n", c.Index, c.DriftIndex, c.Ratio)
	// Output: index 0.111, smooth-drift index 0.445, ratio 0.249 (below 1: block-like)
}

func ExampleRandomShuffled() {
	p, _ := phases.RandomShuffled([]int{7, 3, 2}, 1)
	q, _ := phases.RandomContiguous(12, 3, 1)
	fmt.Println(p.K(), p.N(), q.IsContiguous(), q.K())
	// Output: 3 12 true 3
}

func ExamplePartition_String() {
	fmt.Println(phases.Partition{{0, 1, 2, 3, 4, 5, 6}, {7, 8, 9}, {10, 11}})
	fmt.Println(phases.Partition{{0, 2, 3}, {1, 4}})
	// Output:
	// 1-7 8-10 11-12
	// 1,3-4 2,5
}
