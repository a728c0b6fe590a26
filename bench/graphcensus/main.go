// Command graphcensus builds the training graph of a lib/vit model (forward, cross-entropy,
// gradients of all variables) and prints, per node type, how many nodes there are and how many
// output elements they produce in total. It is a deterministic measure of the non-matmul work of
// a training step (the pure-Go backend runs each node as one pass over its output), used to
// compare graph changes on a machine too noisy for timings.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

func main() {
	spec := flag.String("config", "192x6x3x128x4", "dim x layers x heads x batch x patch")
	flag.Parse()
	var p [5]int
	for i, f := range strings.Split(*spec, "x") {
		v, err := strconv.Atoi(f)
		if err != nil || i >= 5 {
			fmt.Fprintf(os.Stderr, "graphcensus: bad config %q\n", *spec)
			os.Exit(2)
		}
		p[i] = v
	}
	cfg := vit.Config{ImageSize: 32, PatchSize: p[4], Channels: 3, Dim: p[0], Depth: p[1], Heads: p[2],
		MLPHidden: 4 * p[0], MLP: vit.MLPGELU, LayerNormEps: 1e-6, NumClasses: 100, HeadInput: vit.HeadCLS}
	m, err := vit.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	b := backend.MustNew()
	g := NewGraph(b, "census")
	ctx := context.New()
	ctx.SetTraining(g, true)
	images := Zeros(g, shapes.Make(dtypes.Float32, p[3], 32, 32, 3))
	labels := Zeros(g, shapes.Make(dtypes.Int32, p[3]))
	loss := train.CrossEntropy(m.Forward(ctx, images).Logits, labels, 0)
	grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
	// Only nodes the outputs depend on are executed: walk back from the loss and the gradients.
	live := map[*Node]bool{}
	stack := append([]*Node{loss}, grads...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if live[n] {
			continue
		}
		live[n] = true
		stack = append(stack, n.Inputs()...)
	}
	type stat struct {
		n     int
		elems int64
	}
	byType := map[string]*stat{}
	var totalNodes int
	var totalElems int64
	for _, n := range g.Nodes() {
		if !live[n] {
			continue
		}
		t := n.Type().String()
		s := byType[t]
		if s == nil {
			s = &stat{}
			byType[t] = s
		}
		size := int64(n.Shape().Size())
		s.n++
		s.elems += size
		totalNodes++
		if t != "NodeTypeDotGeneral" {
			totalElems += size
		}
	}
	names := make([]string, 0, len(byType))
	for k := range byType {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return byType[names[i]].elems > byType[names[j]].elems })
	fmt.Printf("config %s: %d live nodes, %.1f M output elements outside DotGeneral\n",
		*spec, totalNodes, float64(totalElems)/1e6)
	for _, k := range names {
		fmt.Printf("  %-28s %5d nodes %10.1f M elements\n", strings.TrimPrefix(k, "NodeType"), byType[k].n, float64(byType[k].elems)/1e6)
	}
}
