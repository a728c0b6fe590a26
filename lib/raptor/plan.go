package raptor

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Segment is an autoregressive roll-out: Raptor starts from the teacher's state after layer From
// and runs layers From+1..To, each supervised by the teacher's state.
type Segment struct{ From, To int }

// Plan says which teacher states one training stage reads and what it supervises.
type Plan struct {
	// Layers are the teacher layers (0 = embedding output) a batch holds, increasing; the batch
	// tensor is [batch, len(Layers), tokens, dim] in this order.
	Layers []int
	// Segments are the autoregressive roll-outs.
	Segments []Segment
	// Pairs are the 1-based layers l whose teacher-forced pair (a_{l-1} → a_l) is supervised.
	Pairs []int
}

// Stage1Plan trains block j alone: its layers' teacher-forced pairs, and a roll-out over each
// maximal run of consecutive layers it serves, from the teacher's state before the run. For a
// contiguous phase [start+1..end] that is the single span start→end of the released trainer.
func Stage1Plan(cfg Config, j int) (Plan, error) {
	layers := cfg.Layers(j)
	if len(layers) == 0 {
		return Plan{}, fmt.Errorf("raptor stage 1: block %d serves no layer", j)
	}
	var p Plan
	for i := 0; i < len(layers); {
		k := i
		for k+1 < len(layers) && layers[k+1] == layers[k]+1 {
			k++
		}
		p.Segments = append(p.Segments, Segment{From: layers[i] - 1, To: layers[k]})
		i = k + 1
	}
	p.Pairs = layers
	p.Layers = p.neededLayers()
	return p, nil
}

// Stage2Plan chains all blocks: one roll-out from a_0 through layer L (and every pair, used only if
// the stage is not purely autoregressive).
func Stage2Plan(cfg Config) Plan {
	p := Plan{Segments: []Segment{{From: 0, To: cfg.Depth()}}}
	for l := 1; l <= cfg.Depth(); l++ {
		p.Pairs = append(p.Pairs, l)
	}
	p.Layers = p.neededLayers()
	return p
}

func (p Plan) neededLayers() []int {
	var ls []int
	for _, s := range p.Segments {
		for l := s.From; l <= s.To; l++ {
			ls = append(ls, l)
		}
	}
	for _, l := range p.Pairs {
		ls = append(ls, l-1, l)
	}
	slices.Sort(ls)
	return slices.Compact(ls)
}

// Mode selects the training objective.
type Mode int

const (
	// Annealed is λ·TF + (1−λ)·AR with λ following Lambda (the paper's Stage 1).
	Annealed Mode = iota
	// TeacherForcedOnly is the "teacher forcing only" ablation (λ = 1 throughout).
	TeacherForcedOnly
	// AutoregressiveOnly is λ = 0 throughout (Stage 2, and the "AR only" ablation).
	AutoregressiveOnly
)

func (m Mode) String() string {
	switch m {
	case Annealed:
		return "annealed"
	case TeacherForcedOnly:
		return "tf"
	case AutoregressiveOnly:
		return "ar"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "annealed", "tf" or "ar".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{Annealed, TeacherForcedOnly, AutoregressiveOnly} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown training mode %q (want annealed, tf or ar)", s)
}

// Objective is the loss of one training stage.
type Objective struct {
	Model   *Model
	Plan    Plan
	Layout  hidden.Layout
	Weights Weights
}

// layerOf returns the state of teacher layer l from acts [batch, len(Layers), tokens, dim]. The
// slice is of data, never differentiated, so Slice is safe on every backend.
func (o Objective) layerOf(acts *Node, l int) *Node {
	i := slices.Index(o.Plan.Layers, l)
	if i < 0 {
		panic(fmt.Sprintf("raptor objective: layer %d is not in the plan's layers %v", l, o.Plan.Layers))
	}
	b, t, d := acts.Shape().Dim(0), acts.Shape().Dim(2), acts.Shape().Dim(3)
	return Reshape(Slice(acts, AxisRange(), AxisElem(i)), b, t, d)
}

// TeacherForced is the one-step loss averaged over the plan's pairs: for each pair the block of
// layer l gets the teacher's a_{l-1} and t = l and is compared with a_l. The pairs of one block
// run as one batch, each sample with its own t.
func (o Objective) TeacherForced(ctx *context.Context, acts *Node) *Node {
	cfg := o.Model.Config
	g := acts.Graph()
	b := acts.Shape().Dim(0)
	byBlock := map[int][]int{}
	var blocks []int
	for _, l := range o.Plan.Pairs {
		j := cfg.Assign[l-1]
		if _, ok := byBlock[j]; !ok {
			blocks = append(blocks, j)
		}
		byBlock[j] = append(byBlock[j], l)
	}
	var total *Node
	for _, j := range blocks {
		ls := byBlock[j]
		var ins, tgts []*Node
		ts := make([]float32, 0, len(ls)*b)
		for _, l := range ls {
			ins = append(ins, o.layerOf(acts, l-1))
			tgts = append(tgts, o.layerOf(acts, l))
			for range b {
				ts = append(ts, float32(l))
			}
		}
		in, tgt := ins[0], tgts[0]
		if len(ls) > 1 {
			in, tgt = Concatenate(ins, 0), Concatenate(tgts, 0)
		}
		t := Const(g, tensors.FromFlatDataAndDimensions(ts, len(ts)))
		pred := o.Model.Step(ctx, j, in, t)
		l := MulScalar(StateLoss(pred, tgt, o.Layout, o.Weights), float64(len(ls))/float64(len(o.Plan.Pairs)))
		if total == nil {
			total = l
		} else {
			total = Add(total, l)
		}
	}
	return total
}

// Autoregressive is the roll-out loss: over every segment, Raptor runs from the teacher's state
// at the segment start on its own states, and the loss of every step is averaged over all steps.
func (o Objective) Autoregressive(ctx *context.Context, acts *Node) *Node {
	steps := 0
	for _, s := range o.Plan.Segments {
		steps += s.To - s.From
	}
	var total *Node
	for _, s := range o.Plan.Segments {
		states := o.Model.Rollout(ctx, o.layerOf(acts, s.From), s.From, s.To)
		for i, x := range states {
			l := MulScalar(StateLoss(x, o.layerOf(acts, s.From+1+i), o.Layout, o.Weights), 1/float64(steps))
			if total == nil {
				total = l
			} else {
				total = Add(total, l)
			}
		}
	}
	return total
}

// Loss returns the training loss for the inputs of a batch, as made by Batches: [acts] alone
// means a purely autoregressive (or, in TeacherForcedOnly mode, purely teacher-forced) step;
// [acts, λ] means λ·TF + (1−λ)·AR. Metrics hold the parts that were computed.
func (o Objective) Loss(mode Mode) func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
	return func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
		acts := inputs[0]
		metrics := map[string]*Node{}
		if mode == TeacherForcedOnly {
			tf := o.TeacherForced(ctx, acts)
			metrics["tf"] = tf
			return tf, metrics
		}
		ar := o.Autoregressive(ctx, acts)
		metrics["ar"] = ar
		if len(inputs) < 2 {
			return ar, metrics
		}
		lambda := ConvertDType(inputs[1], dtypes.Float32)
		tf := o.TeacherForced(ctx, acts)
		metrics["tf"] = tf
		metrics["lambda"] = lambda
		one := OnePlus(ZerosLike(lambda))
		return Add(Mul(lambda, tf), Mul(Sub(one, lambda), ar)), metrics
	}
}
