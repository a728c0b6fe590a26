package backend

import . "github.com/gomlx/gomlx/pkg/core/graph"

// LastOutputs re-creates each output as the newest node of its graph (through Identity).
//
// GoMLX v0.26.0's pure-Go backend fails with "index out of range" when a graph holds nodes that
// no output uses and that were created after the outputs (for example, a model's head built but
// only its hidden states returned). Passing a graph function's outputs through LastOutputs makes
// every output newer than any dead node, which avoids the failure on every backend at no cost.
func LastOutputs(outputs ...*Node) []*Node {
	out := make([]*Node, len(outputs))
	for i, o := range outputs {
		out[i] = Identity(o)
	}
	return out
}
