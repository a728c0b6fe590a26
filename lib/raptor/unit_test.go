package raptor

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/hidden"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/vit"
)

func TestAssignFromThresholds(t *testing.T) {
	tests := []struct {
		th    []int
		depth int
		want  []int
		err   bool
	}{
		{[]int{7}, 12, []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, false},
		{[]int{7, 10}, 12, []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2}, false},
		{[]int{4, 7, 10}, 12, []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3}, false},
		{nil, 3, []int{0, 0, 0}, false},
		{[]int{3}, 3, nil, true},
		{[]int{2, 2}, 5, nil, true},
	}
	for _, tc := range tests {
		got, err := AssignFromThresholds(tc.th, tc.depth)
		if (err != nil) != tc.err {
			t.Fatalf("%v: err %v", tc.th, err)
		}
		if !tc.err && !equalInts(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.th, got, tc.want)
		}
	}
	// Brute force against the official rule: first i with t <= th[i], else the last block.
	p := phases.Partition{{0, 3, 5}, {1, 2}, {4}}
	a, err := AssignFromPartition(p)
	if err != nil || !equalInts(a, []int{0, 1, 1, 0, 2, 0}) {
		t.Errorf("partition assignment %v, %v", a, err)
	}
	cfg := Config{Assign: a}
	if got := cfg.Layers(0); !equalInts(got, []int{1, 4, 6}) {
		t.Errorf("layers of block 0: %v", got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStagePlans(t *testing.T) {
	a, _ := AssignFromPartition(phases.Partition{{0, 1, 4}, {2, 3, 5}})
	cfg := Config{Assign: a}
	p, err := Stage1Plan(cfg, 0) // layers 1, 2, 5
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Segments) != 2 || p.Segments[0] != (Segment{0, 2}) || p.Segments[1] != (Segment{4, 5}) {
		t.Errorf("segments %v", p.Segments)
	}
	if !equalInts(p.Layers, []int{0, 1, 2, 4, 5}) || !equalInts(p.Pairs, []int{1, 2, 5}) {
		t.Errorf("layers %v pairs %v", p.Layers, p.Pairs)
	}
	th, _ := AssignFromThresholds([]int{3}, 6)
	p, _ = Stage1Plan(Config{Assign: th}, 1)
	if len(p.Segments) != 1 || p.Segments[0] != (Segment{3, 6}) || !equalInts(p.Layers, []int{3, 4, 5, 6}) {
		t.Errorf("contiguous phase: %+v", p)
	}
	p2 := Stage2Plan(Config{Assign: th})
	if len(p2.Segments) != 1 || p2.Segments[0] != (Segment{0, 6}) || len(p2.Layers) != 7 {
		t.Errorf("stage 2: %+v", p2)
	}
}

func TestLambdaSchedule(t *testing.T) {
	tests := []struct {
		step, steps int
		frac, want  float64
	}{
		{0, 100, 0.25, 1}, {5, 100, 0.25, 0.8}, {12, 100, 0.25, 0.52}, {25, 100, 0.25, 0}, {99, 100, 0.25, 0},
		{0, 312500, 0.25, 1}, {78125, 312500, 0.25, 0}, {39062, 312500, 0.25, 1 - 39062.0/78125},
		{3, 10, 0, 0}, {50, 100, 1, 0.5},
	}
	for _, tc := range tests {
		if got := Lambda(tc.step, tc.steps, tc.frac); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Lambda(%d, %d, %g) = %g, want %g", tc.step, tc.steps, tc.frac, got, tc.want)
		}
	}
}

// smallRaptor is a tiny GELU Raptor (dim 8, 2 heads) on depth 4 with blocks [0 0 1 1].
func smallRaptor(depthScaling bool) *Model {
	cfg := Config{Dim: 8, Heads: 2, MLPHidden: 16, MLP: vit.MLPGELU, LayerNormEps: 1e-6, LayerScaleInit: 0.5,
		DepthScaling: depthScaling, DepthHidden: 16, DepthInitStd: 1e-4, Assign: []int{0, 0, 1, 1}}
	m, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return m
}

func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
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

func flat(t *tensors.Tensor) []float32 {
	var out []float32
	tensors.MustConstFlatData(t, func(v []float32) { out = append(out, v...) })
	return out
}

// TestBlockSelectionAndShapes checks that layer t runs block Assign[t-1] (by comparing with Step
// on each block) and that states keep their shape.
func TestBlockSelectionAndShapes(t *testing.T) {
	b := backend.MustNew()
	m := smallRaptor(true)
	ctx := testctx.New(t)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 3, 5, 8)
	// outputs: Layer(l) for l=1..4, then Step(block j, t=l) for j=0,1 and l=1..4.
	outs := context.MustNewExec(b, ctx, func(ctx *context.Context, x *Node) []*Node {
		var o []*Node
		for l := 1; l <= 4; l++ {
			o = append(o, m.Layer(ctx, l, x))
		}
		for j := range 2 {
			for l := 1; l <= 4; l++ {
				tv := BroadcastToDims(Scalar(x.Graph(), dtypes.Float32, float64(l)), 3)
				o = append(o, m.Step(ctx, j, x, tv))
			}
		}
		states := m.Forward(ctx, x)
		return append(o, states...)
	}).MustExec(x)
	for l := 1; l <= 4; l++ {
		got := flat(outs[l-1])
		for j := range 2 {
			other := flat(outs[4+j*4+l-1])
			same := maxAbsDiff(got, other) == 0
			if same != (m.Config.Assign[l-1] == j) {
				t.Errorf("layer %d: equals block %d's step: %v, but Assign says block %d", l, j, same, m.Config.Assign[l-1])
			}
		}
	}
	for i, o := range outs[12:] {
		if d := o.Shape().Dimensions; len(d) != 3 || d[0] != 3 || d[1] != 5 || d[2] != 8 {
			t.Errorf("state %d shape %v", i+1, d)
		}
	}
	// Forward's last state equals chaining the layers.
	if len(outs[12:]) != 4 {
		t.Fatalf("Forward returned %d states", len(outs[12:]))
	}
	// Only blocks 0 and 1 exist, each with depth-scaling parameters.
	n := 0
	for v := range ctx.IterVariables() {
		if v.Scope() == "/" { // the context's RNG state
			continue
		}
		if !strings.HasPrefix(v.Scope(), "/"+BlockScope(0)) && !strings.HasPrefix(v.Scope(), "/"+BlockScope(1)) {
			t.Errorf("unexpected variable %s", v.ScopeAndName())
		}
		if strings.Contains(v.Scope(), "depth_scale") {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d depth-scale variables, want 8 (2 blocks × fc1, fc2 weights and biases)", n)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestDepthScalesStartNearOne checks that the scales equal W2·SiLU(W1·t + b1) + b2 + 1 computed
// directly, and that at init they sit near 1 as the init implies: given W1 and b1, each s−1 is a
// sum of normals with std σ·sqrt(1 + Σ h_i²) (σ = DepthInitStd), so every deviation must lie within
// 5 of those stds and their normalised spread must be ~1 (a wrong init std fails either way).
// The context is seeded, so the draw is the same on every run.
func TestDepthScalesStartNearOne(t *testing.T) {
	b := backend.MustNew()
	m := smallRaptor(true)
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	ts := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 6, 8, 12}, 7)
	outs := context.MustNewExec(b, ctx, func(ctx *context.Context, t *Node) []*Node {
		s1, s2, s3 := m.DepthScales(ctx, 0, t)
		return []*Node{s1, s2, s3}
	}).MustExec(ts)
	get := func(name string) []float32 {
		v := ctx.GetVariableByScopeAndName("/"+BlockScope(0)+"/depth_scale/"+name[:3], name[4:])
		if v == nil {
			t.Fatalf("no variable %s", name)
		}
		return flat(v.MustValue())
	}
	w1, b1, w2, b2 := get("fc1/weights"), get("fc1/biases"), get("fc2/weights"), get("fc2/biases")
	d := 8
	sigma := m.Config.DepthInitStd
	maxDev, sumZ2, n := 0.0, 0.0, 0
	for k, tv := range []float64{1, 2, 3, 4, 6, 8, 12} {
		h := make([]float64, 16)
		sumH2 := 0.0
		for i := range h {
			z := float64(w1[i])*tv + float64(b1[i])
			h[i] = z / (1 + math.Exp(-z))
			sumH2 += h[i] * h[i]
		}
		std := sigma * math.Sqrt(1+sumH2)
		for chunk := range 3 {
			got := flat(outs[chunk])
			for c := range d {
				want := 1 + float64(b2[chunk*d+c])
				for i := range h {
					want += h[i] * float64(w2[i*3*d+chunk*d+c])
				}
				if diff := math.Abs(float64(got[k*d+c]) - want); diff > 1e-6 {
					t.Fatalf("t=%g chunk %d channel %d: scale %g, direct %g", tv, chunk, c, got[k*d+c], want)
				}
				dev := float64(got[k*d+c]) - 1
				maxDev = math.Max(maxDev, math.Abs(dev))
				if math.Abs(dev) > 5*std {
					t.Errorf("t=%g chunk %d channel %d: |s−1| = %.3g > 5 × predicted std %.3g", tv, chunk, c, math.Abs(dev), std)
				}
				sumZ2 += (dev / std) * (dev / std)
				n++
			}
		}
	}
	spread := math.Sqrt(sumZ2 / float64(n))
	t.Logf("max |s−1| over t ≤ 12 at init: %.2e; normalised spread %.2f (want ~1)", maxDev, spread)
	if spread < 0.5 || spread > 1.5 {
		t.Errorf("normalised spread of s−1 is %.2f, want ~1: init std is not %g", spread, sigma)
	}
}

// TestTeacherForcedLossDirect compares the teacher-forced loss (pairs batched with their own t)
// with a direct computation: each pair run alone through Layer and the weighted MSE in Go.
func TestTeacherForcedLossDirect(t *testing.T) {
	b := backend.MustNew()
	m := smallRaptor(true)
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 3}
	plan := Stage2Plan(m.Config)
	rng := rand.New(rand.NewPCG(5, 5))
	acts := randTensor(rng, 2, 5, 5, 8) // [batch, layers 0..4, tokens, dim]
	for _, w := range []Weights{PlainMSE, Stage2Weights} {
		obj := Objective{Model: m, Plan: plan, Layout: layout, Weights: w}
		ctx := testctx.New(t)
		exec := context.MustNewExec(b, ctx, func(ctx *context.Context, acts *Node) []*Node {
			out := []*Node{obj.TeacherForced(ctx, acts), obj.Autoregressive(ctx, acts)}
			for l := 1; l <= 4; l++ {
				out = append(out, m.Layer(ctx, l, obj.layerOf(acts, l-1)))
			}
			out = append(out, m.Forward(ctx, obj.layerOf(acts, 0))...)
			return out
		})
		outs := exec.MustExec(acts)
		a := flat(acts)
		target := func(l int) []float32 {
			var v []float32
			for i := range 2 {
				v = append(v, a[(i*5+l)*40:(i*5+l+1)*40]...)
			}
			return v
		}
		var tf, ar float64
		for l := 1; l <= 4; l++ {
			tf += directLoss(flat(outs[1+l]), target(l), layout, w, 2, 8) / 4
			ar += directLoss(flat(outs[5+l]), target(l), layout, w, 2, 8) / 4
		}
		if got := float64(flat(outs[0])[0]); math.Abs(got-tf) > 1e-5*math.Max(1, tf) {
			t.Errorf("%s: TF loss %g, direct %g", w, got, tf)
		}
		if got := float64(flat(outs[1])[0]); math.Abs(got-ar) > 1e-5*math.Max(1, ar) {
			t.Errorf("%s: AR loss %g, direct %g", w, got, ar)
		}
	}
}

// directLoss is the weighted (or plain) MSE of [batch, tokens, dim] values, group by group.
func directLoss(pred, target []float32, layout hidden.Layout, w Weights, batch, dim int) float64 {
	tokens := layout.NumTokens()
	mse := func(from, to int) float64 {
		s, n := 0.0, 0
		for i := range batch {
			for tok := from; tok < to; tok++ {
				for f := range dim {
					k := (i*tokens+tok)*dim + f
					d := float64(pred[k]) - float64(target[k])
					s += d * d
					n++
				}
			}
		}
		return s / float64(n)
	}
	if w.Plain {
		return mse(0, tokens)
	}
	r0, r1 := layout.Registers()
	p0, p1 := layout.Patches()
	return w.CLS*mse(0, 1) + w.Registers*mse(r0, r1) + w.Patches*mse(p0, p1)
}

// TestGradientsFiniteDifferences checks the gradient of the mixed loss with respect to a few
// parameters of each kind against central finite differences (float64 model).
func TestGradientsFiniteDifferences(t *testing.T) {
	b := backend.MustNew()
	m := smallRaptor(true)
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 3}
	obj := Objective{Model: m, Plan: Stage2Plan(m.Config), Layout: layout, Weights: Stage2Weights}
	rng := rand.New(rand.NewPCG(9, 9))
	acts := randTensor(rng, 2, 5, 5, 8)
	lambda := tensors.FromValue(float32(0.3))
	ctx := testctx.New(t)
	loss := obj.Loss(Annealed)
	lossExec := context.MustNewExec(b, ctx, func(ctx *context.Context, acts, lambda *Node) *Node {
		l, _ := loss(ctx, []*Node{acts, lambda})
		return l
	})
	lossExec.MustExec(acts, lambda) // creates the variables
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		vars = append(vars, v)
	}
	gradExec := context.MustNewExec(b, ctx, func(ctx *context.Context, acts, lambda *Node) []*Node {
		l, _ := loss(ctx, []*Node{acts, lambda})
		var nodes []*Node
		for _, v := range vars {
			nodes = append(nodes, v.ValueGraph(l.Graph()))
		}
		return Gradient(l, nodes...)
	})
	grads := gradExec.MustExec(acts, lambda)
	lossAt := func() float64 { return float64(flat(lossExec.MustExec(acts, lambda)[0])[0]) }
	checked := 0
	for i, v := range vars {
		if !strings.Contains(v.Name(), "weights") && !strings.Contains(v.Name(), "gamma") && !strings.Contains(v.Name(), "gain") {
			continue
		}
		val := flat(v.MustValue())
		g := flat(grads[i])
		for _, k := range []int{0, len(val) / 2, len(val) - 1} {
			orig := val[k]
			eps := float32(1e-2)
			set := func(x float32) {
				c := append([]float32(nil), val...)
				c[k] = x
				v.MustSetValue(tensors.FromFlatDataAndDimensions(c, v.Shape().Dimensions...))
			}
			set(orig + eps)
			up := lossAt()
			set(orig - eps)
			down := lossAt()
			set(orig)
			fd := (up - down) / (2 * float64(eps))
			if diff := math.Abs(fd - float64(g[k])); diff > 2e-3*math.Max(1, math.Abs(fd)) && diff > 5e-4 {
				t.Errorf("%s[%d]: gradient %g, finite difference %g", v.ScopeAndName(), k, g[k], fd)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d gradient entries checked", checked)
	}
}

func testBatch(rng *rand.Rand, n, layers, tokens, dim int) (*hidden.Batch, []int) {
	b := &hidden.Batch{Images: n, Layers: layers, Tokens: tokens, Dim: dim, Data: make([]float32, n*layers*tokens*dim)}
	for i := range b.Data {
		b.Data[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	return b, labels
}

func TestCacheRoundTripAndCorruption(t *testing.T) {
	layout := hidden.Layout{NumRegisters: 1, NumPatches: 2}
	meta := CacheMeta{Layers: 3, Tokens: 4, Dim: 5, Layout: layout, Source: "test"}
	for _, opts := range []CacheOptions{{DType: Float32, Checksum: SHA256, ChunkImages: 4}, {DType: Float16, Checksum: CRC32C, ChunkImages: 3}} {
		t.Run(string(opts.DType), func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewCacheWriter(dir, meta, opts)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			var all []float32
			var allLabels []int
			for _, n := range []int{3, 5, 2} {
				bt, labels := testBatch(rng, n, 3, 4, 5)
				if err := w.Add(bt, labels); err != nil {
					t.Fatal(err)
				}
				all = append(all, bt.Data...)
				allLabels = append(allLabels, labels...)
			}
			if _, err := OpenCache(dir); err == nil {
				t.Fatal("cache opened before Close wrote its manifest")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			c, err := OpenCache(dir)
			if err != nil {
				t.Fatal(err)
			}
			if c.Len() != 10 || c.NumChunks() != (10+opts.ChunkImages-1)/opts.ChunkImages {
				t.Fatalf("%d images in %d chunks", c.Len(), c.NumChunks())
			}
			tol := 0.0
			if opts.DType == Float16 {
				tol = 2e-3 // relative, float16 has 11 significant bits
			}
			err = c.Each(func(bt *hidden.Batch, labels []int, first int) error {
				per := 3 * 4 * 5
				for i := range bt.Images {
					if labels[i] != allLabels[first+i] {
						t.Errorf("image %d: label %d, want %d", first+i, labels[i], allLabels[first+i])
					}
					for k := range per {
						got, want := float64(bt.Data[i*per+k]), float64(all[(first+i)*per+k])
						if math.Abs(got-want) > tol*math.Max(math.Abs(want), 1e-2) {
							t.Fatalf("image %d value %d: %g, want %g", first+i, k, got, want)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Corruption: flip one byte of chunk 1; truncate chunk 2.
			p1 := filepath.Join(dir, c.Manifest.Chunks[1].File)
			raw, _ := os.ReadFile(p1)
			raw[len(raw)/2] ^= 0x40
			os.WriteFile(p1, raw, 0o644)
			if _, _, err := c.ReadChunk(1); err == nil || !strings.Contains(err.Error(), c.Manifest.Chunks[1].File) || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("flipped byte: error %v, want one naming %s as corrupt", err, c.Manifest.Chunks[1].File)
			}
			p2 := filepath.Join(dir, c.Manifest.Chunks[2].File)
			raw, _ = os.ReadFile(p2)
			os.WriteFile(p2, raw[:len(raw)-7], 0o644)
			if _, _, err := c.ReadChunk(2); err == nil || !strings.Contains(err.Error(), c.Manifest.Chunks[2].File) || !strings.Contains(err.Error(), "truncated") {
				t.Errorf("truncated: error %v, want one naming %s as truncated", err, c.Manifest.Chunks[2].File)
			}
			if err := c.Each(func(*hidden.Batch, []int, int) error { return nil }); err == nil {
				t.Error("Each read a corrupt cache without error")
			}
			// No temporary files are left behind.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file %s left", e.Name())
				}
			}
		})
	}
}

func TestSamplerDeterministicAndCovering(t *testing.T) {
	dir := t.TempDir()
	layout := hidden.Layout{NumPatches: 1}
	w, _ := NewCacheWriter(dir, CacheMeta{Layers: 2, Tokens: 2, Dim: 1, Layout: layout}, CacheOptions{ChunkImages: 4})
	// Image i holds value i at every position, label i.
	for i := range 10 {
		bt := &hidden.Batch{Images: 1, Layers: 2, Tokens: 2, Dim: 1, Data: []float32{float32(i), float32(i), float32(i), float32(i)}}
		if err := w.Add(bt, []int{i}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	c, _ := OpenCache(dir)
	s1, _ := NewSampler(c, 5, 7, []int{1})
	s2, _ := NewSampler(c, 5, 7, []int{1})
	seen := map[int]int{}
	for step := range 4 { // two epochs
		a, labels, err := s1.Batch(step)
		if err != nil {
			t.Fatal(err)
		}
		// Random access in another order gives the same batch.
		b, _, _ := s2.Batch(3 - step)
		_ = b
		vals := flat(a)
		for k, l := range labels {
			if vals[2*k] != float32(l) {
				t.Errorf("step %d: value %g with label %d", step, vals[2*k], l)
			}
			seen[l]++
		}
	}
	for i := range 10 {
		if seen[i] != 2 {
			t.Errorf("image %d seen %d times in two epochs, want 2", i, seen[i])
		}
	}
	a1, _, _ := s1.Batch(2)
	a2, _, _ := s2.Batch(2)
	if !bytes.Equal(f32bytes(flat(a1)), f32bytes(flat(a2))) {
		t.Error("the same step gave different batches")
	}
}

func f32bytes(v []float32) []byte {
	out := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b := math.Float32bits(x)
		out = append(out, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
	}
	return out
}

// TestR2Definition checks R² and cosine against hand computations.
func TestR2Definition(t *testing.T) {
	layout := hidden.Layout{NumPatches: 1} // tokens: CLS, 1 patch
	c := NewComparison(1, 2, layout)
	// Two images; teacher CLS = (1,0) and (3,2), predictions (1,1) and (3,2).
	targets := [][]float32{{1, 0, 5, 5}, {3, 2, 5, 5}}
	preds := [][]float32{{1, 1, 5, 5}, {3, 2, 5, 5}}
	for i := range 2 {
		if err := c.Add(&hidden.States{Layers: 1, Tokens: 2, Dim: 2, Data: preds[i]}, &hidden.States{Layers: 1, Tokens: 2, Dim: 2, Data: targets[i]}); err != nil {
			t.Fatal(err)
		}
	}
	// CLS, per feature: SSE = 1; SST = (1−2)²+(3−2)² + (0−1)²+(2−1)² = 4 → R² = 0.75. Grand mean
	// 1.5: mean squared deviation 5/4, MSE 1/4. Prediction's grand mean 1.75: deviation 2.75/4.
	// Patches: constant target 5 predicted exactly (overcomplete: 1 − 0/ε = 1; per feature: NaN).
	// Registers: empty. All tokens: SSE = 1 over 8 entries; per-feature means over 4 tokens (3.5, 3):
	// SST = (6.25+0.25+2.25+2.25) + (9+1+4+4) = 29; grand mean 3.25: Σ(x−3.25)² = 29.5; prediction
	// grand mean 3.375: Σ(p−3.375)² = 23.875.
	nan := math.NaN()
	for _, tc := range []struct {
		name                    string
		g                       int
		r2, trainer, perFeature float64
	}{
		{"cls", 0, 1 - 0.25/(1.25+R2Epsilon), 1 - 0.25/(2.75/4+R2Epsilon), 0.75},
		{"registers", 1, nan, nan, nan},
		{"patches", 2, 1, 1, nan},
		{"all", GroupAll, 1 - 0.125/(29.5/8+R2Epsilon), 1 - 0.125/(23.875/8+R2Epsilon), 1 - 1.0/29},
	} {
		for _, m := range []struct {
			name      string
			got, want float64
		}{{"R2", c.R2(0, tc.g), tc.r2}, {"R2Trainer", c.R2Trainer(0, tc.g), tc.trainer}, {"R2PerFeature", c.R2PerFeature(0, tc.g), tc.perFeature}} {
			if math.IsNaN(m.want) != math.IsNaN(m.got) || math.Abs(m.got-m.want) > 1e-12 {
				t.Errorf("%s %s = %g, want %g", tc.name, m.name, m.got, m.want)
			}
		}
	}
	for _, lg := range [][2]int{{-1, 0}, {1, 0}, {0, 4}, {0, -1}} {
		if v := c.R2(lg[0], lg[1]); !math.IsNaN(v) {
			t.Errorf("R2(%d, %d) = %g out of range, want NaN", lg[0], lg[1], v)
		}
	}
	wantCos := (1/math.Sqrt(2) + 1) / 2
	if got := c.Cosine(0, 0); math.Abs(got-wantCos) > 1e-12 {
		t.Errorf("CLS cosine %g, want %g", got, wantCos)
	}
}

func TestSwapOrders(t *testing.T) {
	p := phases.Partition{{0, 1, 2}, {3, 4}, {5}}
	labels := p.Labels()
	for _, kind := range []SwapKind{Intra, Inter} {
		for n := 1; n <= 3; n++ {
			orders, err := SwapOrders(p, kind, n, 20, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range orders {
				changed := 0
				for l, src := range o {
					if src == l {
						continue
					}
					changed++
					if (labels[src] == labels[l]) != (kind == Intra) {
						t.Errorf("%s: depth %d runs layer %d (phases %d, %d)", kind, l, src, labels[l], labels[src])
					}
				}
				if changed != n {
					t.Errorf("%s n=%d: %d layers changed in %v", kind, n, changed, o)
				}
			}
		}
	}
	if _, err := SwapOrders(p, Intra, 6, 1, 1); err == nil {
		t.Error("6 intra swaps accepted although layer 5 is alone in its phase")
	}
}

// The CLS-weighted Stage-1 loss goes to the block that holds the last layer, whatever its index.
func TestStage1WeightsForLastBlock(t *testing.T) {
	tests := []struct {
		name   string
		assign []int
		last   int
	}{
		{"contiguous K=3", []int{0, 0, 1, 1, 2, 2}, 2},
		{"shuffled, last layer in block 0", []int{1, 0, 2, 1, 2, 0}, 0},
		{"shuffled, last layer in block 1", []int{0, 2, 0, 2, 1, 1}, 1},
		{"one block", []int{0, 0, 0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Assign: tc.assign}
			if got := cfg.LastBlock(); got != tc.last {
				t.Fatalf("LastBlock = %d, want %d", got, tc.last)
			}
			for j := range cfg.K() {
				want := PlainMSE
				if j == tc.last {
					want = Stage1Weights
				}
				if got := Stage1WeightsFor(cfg, j); got != want {
					t.Errorf("block %d: %v, want %v", j, got, want)
				}
			}
		})
	}
	if got := (Config{}).LastBlock(); got != -1 {
		t.Errorf("empty assignment: LastBlock = %d", got)
	}
}
