package probes

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Linear is a linear map In → Out: logits = x·W + B, W row-major [In, Out].
type Linear struct {
	In, Out int
	W, B    []float32
}

// NewLinear returns a zero-initialised map.
func NewLinear(in, out int) *Linear {
	return &Linear{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
}

// Logits writes x·W + B for one row x (length In) into dst (length Out).
func (l *Linear) Logits(dst, x []float32) {
	copy(dst, l.B)
	for i, v := range x {
		if v == 0 {
			continue
		}
		row := l.W[i*l.Out : (i+1)*l.Out]
		for o, w := range row {
			dst[o] += v * w
		}
	}
}

// Predict returns the argmax class of each of the n rows of x (n×In).
func (l *Linear) Predict(x []float32, n int) []int32 {
	out := make([]int32, n)
	logits := make([]float32, l.Out)
	for i := range n {
		l.Logits(logits, x[i*l.In:(i+1)*l.In])
		out[i] = int32(argmax(logits))
	}
	return out
}

// TrainOptions configure TrainSoftmax. Zero values take the defaults in brackets.
type TrainOptions struct {
	Epochs      int     // [10]
	BatchSize   int     // [256]
	LR          float64 // peak learning rate [1e-3]
	WeightDecay float64 // decoupled (AdamW) weight decay on W [0]
	Warmup      int     // linear warm-up steps from 0.01·LR [100, at most a tenth of all steps]
	MinLR       float64 // cosine floor [1e-6]
	Seed        uint64  // shuffling seed
	Ignore      int32   // label to skip when UseIgnore is set
	UseIgnore   bool    // skip samples whose label equals Ignore
}

func (o TrainOptions) withDefaults(steps func(batch int) int) TrainOptions {
	if o.Epochs <= 0 {
		o.Epochs = 10
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.LR <= 0 {
		o.LR = 1e-3
	}
	if o.MinLR <= 0 {
		o.MinLR = 1e-6
	}
	total := steps(o.BatchSize) * o.Epochs
	if o.Warmup <= 0 {
		o.Warmup = 100
	}
	o.Warmup = min(o.Warmup, max(total/10, 1))
	return o
}

// LearningRate is the schedule: linear warm-up from 0.01·lr to lr over warmup steps, then cosine
// decay to minLR at step total.
func LearningRate(step, warmup, total int, lr, minLR float64) float64 {
	if step < warmup {
		return lr * (0.01 + 0.99*float64(step)/float64(warmup))
	}
	if total <= warmup {
		return lr
	}
	p := math.Min(float64(step-warmup)/float64(total-warmup), 1)
	return minLR + 0.5*(lr-minLR)*(1+math.Cos(math.Pi*p))
}

// TrainSoftmax fits a softmax-regression probe on n rows of x (n×in) with integer labels in
// [0, classes) by minimising the mean cross-entropy with AdamW (β = 0.9, 0.999).
func TrainSoftmax(x []float32, n, in int, labels []int32, classes int, opts TrainOptions) (*Linear, error) {
	if len(x) != n*in || len(labels) != n {
		return nil, fmt.Errorf("probes: %d feature values and %d labels for %d rows of %d", len(x), len(labels), n, in)
	}
	var rows []int
	for i, y := range labels {
		if opts.UseIgnore && y == opts.Ignore {
			continue
		}
		if y < 0 || int(y) >= classes {
			return nil, fmt.Errorf("probes: label %d of row %d outside [0, %d)", y, i, classes)
		}
		rows = append(rows, i)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("probes: no labelled rows to train on")
	}
	o := opts.withDefaults(func(b int) int { return (len(rows) + b - 1) / b })
	total := o.Epochs * ((len(rows) + o.BatchSize - 1) / o.BatchSize)
	l := NewLinear(in, classes)
	adam := newAdam(len(l.W) + len(l.B))
	gradW, gradB := make([]float64, len(l.W)), make([]float64, len(l.B))
	logits, probs := make([]float32, classes), make([]float64, classes)
	rng := rand.New(rand.NewPCG(o.Seed, 0x70726f6265))
	step := 0
	for range o.Epochs {
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for start := 0; start < len(rows); start += o.BatchSize {
			batch := rows[start:min(start+o.BatchSize, len(rows))]
			clear(gradW)
			clear(gradB)
			for _, r := range batch {
				xr := x[r*in : (r+1)*in]
				l.Logits(logits, xr)
				softmax(probs, logits)
				probs[labels[r]]--
				addOuter(gradW, gradB, xr, probs)
			}
			scale := 1 / float64(len(batch))
			lr := LearningRate(step, o.Warmup, total, o.LR, o.MinLR)
			adam.step(l.W, gradW, scale, lr, o.WeightDecay, 0)
			adam.step(l.B, gradB, scale, lr, 0, len(l.W))
			adam.t++
			step++
		}
	}
	return l, nil
}

// addOuter adds the gradient of a linear map's weights and biases for one input row x whose
// logits have gradient dLogits: gradW += x ⊗ dLogits (zero inputs skipped), gradB += dLogits.
func addOuter(gradW, gradB []float64, x []float32, dLogits []float64) {
	k := len(dLogits)
	for i, v := range x {
		if v == 0 {
			continue
		}
		g := gradW[i*k : (i+1)*k]
		for c, d := range dLogits {
			g[c] += float64(v) * d
		}
	}
	for c, d := range dLogits {
		gradB[c] += d
	}
}

// adam holds AdamW moments for a flat parameter vector.
type adam struct {
	m, v []float64
	t    int
}

func newAdam(n int) *adam { return &adam{m: make([]float64, n), v: make([]float64, n)} }

// step updates params (whose moments start at offset) with gradients grad·scale.
func (a *adam) step(params []float32, grad []float64, scale, lr, wd float64, offset int) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	t := float64(a.t + 1)
	c1, c2 := 1-math.Pow(b1, t), 1-math.Pow(b2, t)
	for i, g := range grad {
		g *= scale
		k := offset + i
		a.m[k] = b1*a.m[k] + (1-b1)*g
		a.v[k] = b2*a.v[k] + (1-b2)*g*g
		p := float64(params[i])
		p -= lr * (a.m[k]/c1/(math.Sqrt(a.v[k]/c2)+eps) + wd*p)
		params[i] = float32(p)
	}
}

// softmax writes the softmax of logits into dst.
func softmax(dst []float64, logits []float32) {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	for i, v := range logits {
		dst[i] = math.Exp(float64(v) - m)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
