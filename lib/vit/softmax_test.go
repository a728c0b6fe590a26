package vit

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/blockrec/blockrec/lib/backend"
)

// TestSoftmaxLastAxisMatchesGraphSoftmax checks the reciprocal-multiply softmax against GoMLX's
// own Softmax, values and gradients (of a weighted sum, so the gradient is not trivially zero).
func TestSoftmaxLastAxisMatchesGraphSoftmax(t *testing.T) {
	b := backend.MustNew()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dims := range [][]int{{7}, {3, 5}, {2, 3, 4, 6}} {
		n := 1
		for _, d := range dims {
			n *= d
		}
		x, w := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], w[i] = float32(3*rng.NormFloat64()), float32(rng.NormFloat64())
		}
		run := func(soft func(*Node) *Node) (vals, grads []float32) {
			out := MustExecOnceN(b, func(x, w *Node) []*Node {
				y := soft(x)
				loss := ReduceAllSum(Mul(y, w))
				return []*Node{y, Gradient(loss, x)[0]}
			}, tensors.FromFlatDataAndDimensions(x, dims...), tensors.FromFlatDataAndDimensions(w, dims...))
			return tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
		}
		gotV, gotG := run(softmaxLastAxis)
		wantV, wantG := run(func(x *Node) *Node { return Softmax(x, -1) })
		for i := range gotV {
			if d := gotV[i] - wantV[i]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("dims %v: softmax[%d] = %g, GoMLX Softmax gives %g", dims, i, gotV[i], wantV[i])
			}
			if d := gotG[i] - wantG[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("dims %v: gradient[%d] = %g, GoMLX Softmax gives %g", dims, i, gotG[i], wantG[i])
			}
		}
	}
}
