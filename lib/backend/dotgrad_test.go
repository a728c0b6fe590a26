package backend

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func randomTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// TestDotGeneralGradientMatchesStock compares the two-DotGeneral gradient with GoMLX's stock one on
// einsum patterns with batch axes, several contracting axes and odd axis orders.
func TestDotGeneralGradientMatchesStock(t *testing.T) {
	b := MustNew()
	tests := []struct {
		name                                         string
		lhsDims, rhsDims                             []int
		lhsContract, lhsBatch, rhsContract, rhsBatch []int
	}{
		{"matmul", []int{3, 4}, []int{4, 5}, []int{1}, nil, []int{0}, nil},
		{"matmul transposed rhs", []int{3, 4}, []int{5, 4}, []int{1}, nil, []int{1}, nil},
		{"dense on 3D input", []int{2, 3, 4}, []int{4, 6}, []int{2}, nil, []int{0}, nil},
		{"batched attention scores", []int{2, 5, 3, 4}, []int{2, 6, 3, 4}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}},
		{"batch axis last on rhs", []int{3, 2, 4}, []int{4, 5, 3}, []int{2}, []int{0}, []int{0}, []int{2}},
		{"two contracting axes, swapped order", []int{3, 4, 5}, []int{5, 6, 4}, []int{1, 2}, nil, []int{2, 0}, nil},
		{"contract first axis", []int{4, 3}, []int{4, 2}, []int{0}, nil, []int{0}, nil},
		{"outer product", []int{3}, []int{2}, nil, nil, nil, nil},
		{"batch only", []int{2, 3}, []int{2, 3}, nil, []int{0, 1}, nil, []int{0, 1}},
		{"mixed: batch middle, contracting reversed", []int{5, 2, 3, 4}, []int{4, 2, 3, 5}, []int{0, 3}, []int{1}, []int{3, 0}, []int{1}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lhs, rhs := randomTensor(rng, tc.lhsDims...), randomTensor(rng, tc.rhsDims...)
			// The loss weights the output with a fixed random tensor so the incoming gradient is not uniform.
			var weights *tensors.Tensor
			grads := func(vjp VJP) [2][]float32 {
				VJPRegistration[NodeTypeDotGeneral] = vjp
				defer InstallDotGeneralGradient()
				outs := MustExecOnceN(b, func(a, c, w *Node) []*Node {
					out := DotGeneral(a, tc.lhsContract, tc.lhsBatch, c, tc.rhsContract, tc.rhsBatch)
					loss := ReduceAllSum(Mul(out, w))
					return Gradient(loss, a, c)
				}, lhs, rhs, weights)
				return [2][]float32{tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])}
			}
			outShape := MustExecOnce(b, func(a, c *Node) *Node {
				return DotGeneral(a, tc.lhsContract, tc.lhsBatch, c, tc.rhsContract, tc.rhsBatch)
			}, lhs, rhs).Shape()
			weights = randomTensor(rng, outShape.Dimensions...)
			got := grads(DotGeneralVJP)
			want := grads(stockDotGeneralVJP)
			for side := range 2 {
				if len(got[side]) != len(want[side]) {
					t.Fatalf("operand %d: gradient size %d, want %d", side, len(got[side]), len(want[side]))
				}
				for i := range got[side] {
					if d := math.Abs(float64(got[side][i] - want[side][i])); d > 1e-4*(1+math.Abs(float64(want[side][i]))) {
						t.Fatalf("operand %d element %d: got %g, stock gradient %g", side, i, got[side][i], want[side][i])
					}
				}
			}
		})
	}
}

// TestDotGeneralGradientAgainstFiniteDifferences checks one pattern against central differences,
// independently of GoMLX's own gradient.
func TestDotGeneralGradientAgainstFiniteDifferences(t *testing.T) {
	b := MustNew()
	rng := rand.New(rand.NewPCG(3, 4))
	lhs, rhs := randomTensor(rng, 2, 3, 4), randomTensor(rng, 2, 4, 5)
	lossFn := func(a, c *Node) *Node {
		out := DotGeneral(a, []int{2}, []int{0}, c, []int{1}, []int{0})
		return ReduceAllSum(Mul(out, out))
	}
	outs := MustExecOnceN(b, func(a, c *Node) []*Node { return Gradient(lossFn(a, c), a, c) }, lhs, rhs)
	gotLHS := tensors.MustCopyFlatData[float32](outs[0])
	lossExec := MustNewExec(b, lossFn)
	base := tensors.MustCopyFlatData[float32](lhs)
	const h = 1e-2
	for i := range base {
		eval := func(delta float32) float64 {
			p := append([]float32(nil), base...)
			p[i] += delta
			out := lossExec.MustExec(tensors.FromFlatDataAndDimensions(p, 2, 3, 4), rhs)[0]
			return float64(tensors.MustCopyFlatData[float32](out)[0])
		}
		fd := (eval(h) - eval(-h)) / (2 * h)
		if math.Abs(fd-float64(gotLHS[i])) > 2e-2*(1+math.Abs(fd)) {
			t.Errorf("d loss / d lhs[%d] = %g, finite difference %g", i, gotLHS[i], fd)
		}
	}
}
