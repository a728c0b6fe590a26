package backend

import (
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestLastOutputsKeepsValues: LastOutputs changes no value. The failure it avoids is reproduced
// in lib/vit (TestHiddenStatesOnlyGraph), where a model's unused head triggers it.
func TestLastOutputsKeepsValues(t *testing.T) {
	b := MustNew()
	outs, err := MustNewExec(b, func(x *Node) []*Node {
		return LastOutputs(MulScalar(x, 2), x)
	}).Exec([]float32{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](outs[0])
	for i, want := range []float32{2, 4, 6} {
		if got[i] != want {
			t.Fatalf("output %v, want [2 4 6]", got)
		}
	}
}
