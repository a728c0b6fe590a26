package raptor

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Model builds Raptor graphs for a Config. Its variables live under the context passed to each
// method (the caller picks the scope, e.g. ctx.In("raptor")); block j's under BlockScope(j).
type Model struct {
	Config Config
}

// New validates the config and returns a Model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("raptor config: %w", err)
	}
	return &Model{Config: cfg}, nil
}

// Layer applies layer l (1-based) to x [batch, tokens, dim]: the block Assign[l-1] at t = l.
func (m *Model) Layer(ctx *context.Context, l int, x *Node) *Node {
	b := x.Shape().Dim(0)
	t := BroadcastToDims(Scalar(x.Graph(), dtypes.Float32, float64(l)), b)
	return m.Step(ctx, m.Config.Assign[l-1], x, t)
}

// Rollout runs layers from+1..to on x, the state after layer `from` (0: the teacher's embedding
// output a_0), and returns the states after each of them (to−from nodes).
func (m *Model) Rollout(ctx *context.Context, x *Node, from, to int) []*Node {
	if from < 0 || to > m.Config.Depth() || from > to {
		panic(fmt.Sprintf("raptor: rollout %d→%d outside 0..%d", from, to, m.Config.Depth()))
	}
	out := make([]*Node, 0, to-from)
	for l := from + 1; l <= to; l++ {
		x = m.Layer(ctx, l, x)
		out = append(out, x)
	}
	return out
}

// Forward runs all L layers from a_0 [batch, tokens, dim] and returns Raptor's states after
// every layer (L nodes; add a_0 in front for the teacher's layer numbering).
func (m *Model) Forward(ctx *context.Context, a0 *Node) []*Node {
	return m.Rollout(ctx, a0, 0, m.Config.Depth())
}
