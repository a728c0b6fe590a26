package testctx_test

import (
	"testing"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/vit"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// TestSameDrawEveryTime draws a random variable in two fresh contexts: the values must match.
func TestSameDrawEveryTime(t *testing.T) {
	b := backend.MustNew()
	draw := func() []float32 {
		ctx := testctx.New(t)
		out := context.MustNewExec(b, ctx, func(ctx *context.Context, g *Graph) *Node {
			return vit.Param(ctx, g, "w", initializers.RandomNormalFn(ctx, 1), 8)
		}).MustExec()[0]
		return tensors.MustCopyFlatData[float32](out)
	}
	a, c := draw(), draw()
	for i := range a {
		if a[i] != c[i] {
			t.Fatalf("draw %d differs: %g vs %g", i, a[i], c[i])
		}
	}
}
