package vit

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/hidden"
)

// Token selection. GoMLX's pure-Go backend lacks Pad, which the gradients of Slice and Concatenate
// need, so there placing tokens into the sequence and reading them out are matrix products with
// constant 0/1 matrices, whose gradients (two DotGenerals) it has. On XLA the native Slice and
// Concatenate are used: the same values and gradients (lib/parity checks both engines against each
// other) without the extra matrix products.

// TokenOps selects how tokens are placed and read: "auto" (native ops on XLA, matrix products on
// the pure-Go backend), "matmul" or "native" everywhere (native fails on the pure-Go backend's
// gradients). For benchmarks and tests.
var TokenOps = "auto"

// nativeTokenOps tells whether g's backend can differentiate Slice and Concatenate.
func nativeTokenOps(g *Graph) bool {
	switch TokenOps {
	case "matmul":
		return false
	case "native":
		return true
	}
	return !backend.IsPureGo(g.Backend())
}

// constMatrix builds a float32 constant [rows, cols] from a function of (row, col).
func constMatrix(g *Graph, rows, cols int, at func(r, c int) float32) *Node {
	data := make([]float32, rows*cols)
	for r := range rows {
		for c := range cols {
			data[r*cols+c] = at(r, c)
		}
	}
	return Const(g, tensors.FromFlatDataAndDimensions(data, rows, cols))
}

// readTokens returns x [batch, tokens, dim] contracted with weights [tokens, k]: [batch, k, dim].
func readTokens(x, weights *Node) *Node {
	// DotGeneral gives [batch, dim, k]; move k before dim.
	out := DotGeneral(x, []int{1}, nil, weights, []int{0}, nil)
	return TransposeAllAxes(out, 0, 2, 1)
}

// ReadCLS returns the CLS token of x [batch, tokens, dim]: [batch, dim].
func ReadCLS(x *Node) *Node {
	if nativeTokenOps(x.Graph()) {
		return Reshape(Slice(x, AxisRange(), AxisElem(0), AxisRange()), x.Shape().Dim(0), x.Shape().Dim(2))
	}
	t := x.Shape().Dim(1)
	w := constMatrix(x.Graph(), t, 1, func(r, _ int) float32 { return b2f(r == 0) })
	return Reshape(readTokens(x, w), x.Shape().Dim(0), x.Shape().Dim(2))
}

// ReadCLSAndMeanPatch returns [batch, 2, dim]: the CLS token and the mean of the patch tokens
// (registers excluded) of x [batch, tokens, dim].
func ReadCLSAndMeanPatch(x *Node, layout hidden.Layout) *Node {
	t := x.Shape().Dim(1)
	from, to := layout.Patches()
	if nativeTokenOps(x.Graph()) {
		cls := Slice(x, AxisRange(), AxisElem(0), AxisRange())                                        // [b, 1, d]
		mean := ReduceAndKeep(Slice(x, AxisRange(), AxisRange(from, to), AxisRange()), ReduceMean, 1) // [b, 1, d]
		return Concatenate([]*Node{cls, mean}, 1)
	}
	w := constMatrix(x.Graph(), t, 2, func(r, c int) float32 {
		if c == 0 {
			return b2f(r == 0)
		}
		if r >= from && r < to {
			return 1 / float32(to-from)
		}
		return 0
	})
	return readTokens(x, w)
}

// placeTokens assembles the sequence [CLS, registers, patches]: cls [dim], regs [R, dim] (nil if
// R = 0), patches [batch, P, dim] → [batch, 1+R+P, dim].
func placeTokens(cls, regs, patches *Node) *Node {
	g := patches.Graph()
	b, p, d := patches.Shape().Dim(0), patches.Shape().Dim(1), patches.Shape().Dim(2)
	r := 0
	if regs != nil {
		r = regs.Shape().Dim(0)
	}
	t := 1 + r + p
	if nativeTokenOps(g) {
		fixed := Reshape(cls, 1, 1, d)
		if regs != nil {
			fixed = Concatenate([]*Node{fixed, Reshape(regs, 1, r, d)}, 1)
		}
		return Concatenate([]*Node{BroadcastToDims(fixed, b, 1+r, d), patches}, 1)
	}
	place := constMatrix(g, t, p, func(row, col int) float32 { return b2f(row == 1+r+col) })
	x := TransposeAllAxes(DotGeneral(patches, []int{1}, nil, place, []int{1}, nil), 0, 2, 1) // [b, t, d]
	// Fixed tokens: CLS at 0, registers at 1..r.
	fixedSel := constMatrix(g, t, 1+r, func(row, col int) float32 { return b2f(row == col) })
	fixedTokens := Reshape(cls, 1, d)
	if regs != nil {
		fixedTokens = stackRows(fixedTokens, regs)
	}
	fixed := MatMul(fixedSel, fixedTokens) // [t, d]
	return Add(x, BroadcastToDims(Reshape(fixed, 1, t, d), b, t, d))
}

// stackRows returns [a; b] for a [m, d] and b [n, d] without Concatenate (whose gradient needs Pad).
func stackRows(a, b *Node) *Node {
	g := a.Graph()
	m, n := a.Shape().Dim(0), b.Shape().Dim(0)
	top := constMatrix(g, m+n, m, func(r, c int) float32 { return b2f(r == c) })
	bottom := constMatrix(g, m+n, n, func(r, c int) float32 { return b2f(r == m+c) })
	return Add(MatMul(top, a), MatMul(bottom, b))
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
