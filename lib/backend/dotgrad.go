package backend

import (
	"fmt"
	"reflect"
	"slices"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

func init() { InstallDotGeneralGradient() }

// stockDotGeneralVJP is GoMLX's own gradient, kept for tests and for switching back.
var stockDotGeneralVJP = VJPRegistration[NodeTypeDotGeneral]

// InstallDotGeneralGradient replaces the gradient of DotGeneral by DotGeneralVJP. It is called when
// this package is imported; calling it again is harmless.
func InstallDotGeneralGradient() { VJPRegistration[NodeTypeDotGeneral] = DotGeneralVJP }

// RestoreStockDotGeneralGradient puts GoMLX's own DotGeneral gradient back (for comparisons).
func RestoreStockDotGeneralGradient() { VJPRegistration[NodeTypeDotGeneral] = stockDotGeneralVJP }

// StockDotGeneralVJP is GoMLX's own DotGeneral gradient.
func StockDotGeneralVJP(node *Node, v []*Node, s shapes.Shape) []*Node {
	return stockDotGeneralVJP(node, v, s)
}

// dotAxes are the axes of one DotGeneral, read from the node.
type dotAxes struct {
	lhsContracting, lhsBatch, rhsContracting, rhsBatch []int
}

// readDotAxes reads the DotGeneral parameters that GoMLX keeps unexported in the node's inputs.
// Reading (not writing) unexported fields through reflect is allowed; a GoMLX upgrade that renames
// them fails loudly here, and the tests compare against the stock gradient.
func readDotAxes(node *Node) dotAxes {
	inputs := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !inputs.IsValid() || inputs.IsNil() {
		panic(fmt.Sprintf("blockrec/backend: cannot read DotGeneral parameters of %s", node))
	}
	params := inputs.Elem()
	if params.Kind() == reflect.Pointer {
		params = params.Elem()
	}
	ints := func(field string) []int {
		f := params.FieldByName(field)
		if !f.IsValid() {
			panic(fmt.Sprintf("blockrec/backend: DotGeneral node has no field %q (GoMLX version changed?)", field))
		}
		out := make([]int, f.Len())
		for i := range out {
			out[i] = int(f.Index(i).Int())
		}
		return out
	}
	return dotAxes{
		lhsContracting: ints("lhsContractingAxes"), lhsBatch: ints("lhsBatchAxes"),
		rhsContracting: ints("rhsContractingAxes"), rhsBatch: ints("rhsBatchAxes"),
	}
}

// freeAxes lists the axes of a rank-r operand that are neither contracted nor batch ("cross" axes).
func freeAxes(rank int, contracting, batch []int) []int {
	used := make([]bool, rank)
	for _, a := range contracting {
		used[a] = true
	}
	for _, a := range batch {
		used[a] = true
	}
	var free []int
	for a := range rank {
		if !used[a] {
			free = append(free, a)
		}
	}
	return free
}

func iota(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// DotGeneralVJP is the gradient of C = DotGeneral(A, B) written as two DotGenerals, the standard
// formulation: dA = dC · Bᵀ (contracting dC's B-free axes with B's free axes) and dB = Aᵀ · dC,
// each followed by one transpose back to the operand's axis order. C's axes are
// [batch..., A free..., B free...].
func DotGeneralVJP(node *Node, vjpOutputs []*Node, _ shapes.Shape) []*Node {
	v := vjpOutputs[0]
	ax := readDotAxes(node)
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	lhsFree := freeAxes(lhs.Rank(), ax.lhsContracting, ax.lhsBatch)
	rhsFree := freeAxes(rhs.Rank(), ax.rhsContracting, ax.rhsBatch)
	nb := len(ax.lhsBatch)
	vBatch := iota(0, nb)
	vLhsFree := iota(nb, len(lhsFree))
	vRhsFree := iota(nb+len(lhsFree), len(rhsFree))

	// dA has axes [batch..., lhsFree..., rhsContracting (paired with lhsContracting)...].
	dA := DotGeneral(v, vRhsFree, vBatch, rhs, rhsFree, ax.rhsBatch)
	dA = toOperandOrder(dA, lhs.Rank(), ax.lhsBatch, lhsFree, pairedInOrder(ax.rhsContracting, ax.lhsContracting))
	// dB has axes [batch..., rhsFree..., lhsContracting (paired with rhsContracting)...].
	dB := DotGeneral(v, vLhsFree, vBatch, lhs, lhsFree, ax.lhsBatch)
	dB = toOperandOrder(dB, rhs.Rank(), ax.rhsBatch, rhsFree, pairedInOrder(ax.lhsContracting, ax.rhsContracting))
	if dA.DType() != lhs.DType() {
		dA = ConvertDType(dA, lhs.DType())
	}
	if dB.DType() != rhs.DType() {
		dB = ConvertDType(dB, rhs.DType())
	}
	return []*Node{dA, dB}
}

// pairedInOrder handles the axes that survive as "free" axes of the other operand in the gradient's
// DotGeneral: they come out in increasing axis order of `other`, and other[k] pairs with mine[k].
// It returns mine reordered to match.
func pairedInOrder(other, mine []int) []int {
	idx := make([]int, len(other))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return other[a] - other[b] })
	out := make([]int, len(idx))
	for i, k := range idx {
		out[i] = mine[k]
	}
	return out
}

// toOperandOrder transposes x, whose axes are [batch..., free..., contracting...], back to the
// operand's own axis order.
func toOperandOrder(x *Node, rank int, batch, free, contracting []int) *Node {
	perm := make([]int, rank)
	pos := 0
	for _, group := range [][]int{batch, free, contracting} {
		for _, axis := range group {
			perm[axis] = pos
			pos++
		}
	}
	identity := true
	for i, p := range perm {
		identity = identity && i == p
	}
	if identity {
		return x
	}
	return TransposeAllAxes(x, perm...)
}
