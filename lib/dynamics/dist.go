package dynamics

import (
	"fmt"
	"math"
	"sort"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Stat summarises a distribution of values.
//
// Mean and Std (population standard deviation) are exact. P10, P50 and P90 are exact for
// per-image quantities (kept value by value) and, for per-token quantities, read from a
// fixed-range histogram: exact to one bin width (angles and cosines: range/4096; relative
// deviations: log-spaced bins, 0.4% relative). Min and Max are exact.
type Stat struct {
	N             int64
	Mean, Std     float64
	Min, Max      float64
	P10, P50, P90 float64
}

// nanStat is the Stat of an empty distribution.
func nanStat() Stat {
	n := math.NaN()
	return Stat{Mean: n, Std: n, Min: n, Max: n, P10: n, P50: n, P90: n}
}

type distKind int

const (
	distExact  distKind = iota // keeps every value
	distLinear                 // histogram over [lo, hi]
	distLog                    // histogram over log10 in [lo, hi]; values <= 0 counted as zero
)

const histBins = 4096

// dist is a streaming distribution: Welford mean/variance, min/max, and either all values or a
// fixed-range histogram for quantiles.
type dist struct {
	kind     distKind
	lo, hi   float64
	n        int64
	mean, m2 float64
	min, max float64
	bins     []int64
	zeros    int64 // distLog: values <= 0
	vals     []float64
}

func newExactDist() *dist { return &dist{kind: distExact, min: math.Inf(1), max: math.Inf(-1)} }

func newLinearDist(lo, hi float64) *dist {
	return &dist{kind: distLinear, lo: lo, hi: hi, bins: make([]int64, histBins), min: math.Inf(1), max: math.Inf(-1)}
}

// newLogDist histograms log10 of positive values over [10^loExp, 10^hiExp].
func newLogDist(loExp, hiExp float64) *dist {
	return &dist{kind: distLog, lo: loExp, hi: hiExp, bins: make([]int64, histBins), min: math.Inf(1), max: math.Inf(-1)}
}

func (d *dist) add(v float64) {
	if math.IsNaN(v) {
		return
	}
	d.n++
	delta := v - d.mean
	d.mean += delta / float64(d.n)
	d.m2 += delta * (v - d.mean)
	if v < d.min {
		d.min = v
	}
	if v > d.max {
		d.max = v
	}
	switch d.kind {
	case distExact:
		d.vals = append(d.vals, v)
	case distLinear:
		d.bins[d.bin(v)]++
	case distLog:
		if v <= 0 {
			d.zeros++
		} else {
			d.bins[d.bin(math.Log10(v))]++
		}
	}
}

func (d *dist) bin(x float64) int {
	b := int(math.Floor((x - d.lo) / (d.hi - d.lo) * histBins))
	if b < 0 {
		return 0
	}
	if b >= histBins {
		return histBins - 1
	}
	return b
}

// merge adds the values of o (same kind and range) into d (Chan et al. parallel variance).
func (d *dist) merge(o *dist) error {
	if d.kind != o.kind || d.lo != o.lo || d.hi != o.hi {
		return fmt.Errorf("dynamics: merging distributions of different kinds or ranges")
	}
	if o.n == 0 {
		return nil
	}
	n := d.n + o.n
	delta := o.mean - d.mean
	d.m2 += o.m2 + delta*delta*float64(d.n)*float64(o.n)/float64(n)
	d.mean += delta * float64(o.n) / float64(n)
	d.n = n
	d.min = math.Min(d.min, o.min)
	d.max = math.Max(d.max, o.max)
	d.zeros += o.zeros
	for i := range o.bins {
		d.bins[i] += o.bins[i]
	}
	d.vals = append(d.vals, o.vals...)
	return nil
}

func (d *dist) stat() Stat {
	if d.n == 0 {
		return nanStat()
	}
	s := Stat{N: d.n, Mean: d.mean, Std: math.Sqrt(math.Max(d.m2/float64(d.n), 0)), Min: d.min, Max: d.max}
	s.P10, s.P50, s.P90 = d.quantile(0.1), d.quantile(0.5), d.quantile(0.9)
	return s
}

// quantile uses linear interpolation between order statistics (exact) or within a bin (histogram),
// clamped to [min, max].
func (d *dist) quantile(q float64) float64 {
	if d.kind == distExact {
		v := append([]float64(nil), d.vals...)
		sort.Float64s(v)
		pos := q * float64(len(v)-1)
		i := int(math.Floor(pos))
		if i >= len(v)-1 {
			return v[len(v)-1]
		}
		return v[i] + (pos-float64(i))*(v[i+1]-v[i])
	}
	target := q * float64(d.n)
	cum := float64(d.zeros)
	if target <= cum && d.zeros > 0 {
		return clamp(0, d.min, d.max)
	}
	w := (d.hi - d.lo) / histBins
	for b, c := range d.bins {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= target {
			x := d.lo + w*(float64(b)+(target-cum)/float64(c))
			if d.kind == distLog {
				x = math.Pow(10, x)
			}
			return clamp(x, d.min, d.max)
		}
		cum += float64(c)
	}
	return d.max
}

// Series is a per-layer statistic: Stats[i] describes layer Layers[i].
type Series struct {
	Scope  Scope
	Layers []int
	Stats  []Stat
}

// Means returns the per-layer means (handy for plotting).
func (s Series) Means() []float64 {
	out := make([]float64, len(s.Stats))
	for i, st := range s.Stats {
		out[i] = st.Mean
	}
	return out
}

// Stds returns the per-layer standard deviations.
func (s Series) Stds() []float64 {
	out := make([]float64, len(s.Stats))
	for i, st := range s.Stats {
		out[i] = st.Std
	}
	return out
}

// X returns the layer indices as float64 (handy for plotting).
func (s Series) X() []float64 {
	out := make([]float64, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = float64(l)
	}
	return out
}

func seriesOf(scope Scope, layers []int, ds []*dist) Series {
	s := Series{Scope: scope, Layers: append([]int(nil), layers...), Stats: make([]Stat, len(ds))}
	for i, d := range ds {
		s.Stats[i] = d.stat()
	}
	return s
}

// findSeries returns the series of a scope.
func findSeries(all []Series, scope Scope) (Series, bool) {
	for _, s := range all {
		if s.Scope == scope {
			return s, true
		}
	}
	return Series{}, false
}

func seqInts(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// groupDists is the state of the accumulators that keep one distribution per token group and
// layer (or step): Convergence and Speed.
type groupDists struct {
	layout              hidden.Layout
	scopes              []Scope
	layers, tokens, dim int
	images              int
	d                   [][]*dist // [scope][layer or step]
}

// merge adds o's images into g; init allocates g's distributions for o's shape if g is empty.
func (g *groupDists) merge(name string, o *groupDists, init func(layers, tokens, dim int)) error {
	if o.d == nil {
		return nil
	}
	if g.layout != o.layout {
		return fmt.Errorf("dynamics: %s: merging accumulators with different layouts", name)
	}
	if g.d == nil {
		init(o.layers, o.tokens, o.dim)
	}
	if g.layers != o.layers || g.tokens != o.tokens || g.dim != o.dim {
		return fmt.Errorf("dynamics: %s: merging %dx%dx%d into %dx%dx%d", name, o.layers, o.tokens, o.dim, g.layers, g.tokens, g.dim)
	}
	for i := range g.d {
		for l := range g.d[i] {
			if err := g.d[i][l].merge(o.d[i][l]); err != nil {
				return err
			}
		}
	}
	g.images += o.images
	return nil
}
