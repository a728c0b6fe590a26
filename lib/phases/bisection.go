package phases

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
)

// BisectionOptions configures RecursiveBisection. The zero value is not useful: set EpsFrac.
type BisectionOptions struct {
	// EpsFrac sets the stopping threshold eps = EpsFrac × TotalWeight(W) (TotalWeight = ΣW/2):
	// a cluster is split only while its best cut exceeds eps. The released notebook used
	// 0.20 (k=2), 0.10 (k=3) and 0.09 (k=4) on DINOv2-B.
	EpsFrac float64
	// MinSize: clusters with fewer than 2·MinSize vertices are never split. 0 means 2, the
	// released default. The halves of a split are not constrained (a cluster of 4 may split 1+3),
	// as in the released code.
	MinSize int
	// MaxPhases, when positive, stops splitting once that many phases exist; clusters are split
	// in order of decreasing pending gain, so the most profitable splits come first. 0 means no
	// limit (then the order does not change the result).
	MaxPhases int
	// MaxCut selects the exact max-cut method.
	MaxCut MaxCutOptions
}

func (o BisectionOptions) minSize() int {
	if o.MinSize <= 0 {
		return 2
	}
	return o.MinSize
}

// Split records one max-cut solved by RecursiveBisection.
type Split struct {
	Cluster  []int   // the cluster (sorted 0-based indices)
	A, B     []int   // its maximum cut; A holds Cluster[0]
	Cut      float64 // the cut value
	Gain     float64 // the cluster's pending gain when it was taken (+Inf for the root)
	Accepted bool    // whether the cluster was replaced by A and B (Cut > eps, and MaxPhases allowed it)
}

// BisectionResult is the outcome of RecursiveBisection.
type BisectionResult struct {
	Partition Partition // the phases, canonical order
	Eps       float64   // the absolute threshold used
	Total     float64   // TotalWeight(W)
	Splits    []Split   // every max-cut solved, in processing order
}

// RecursiveBisection reproduces the released phase discovery (recursive_max_cut): starting from
// one cluster of all rows with gain +Inf, repeatedly take the cluster with the largest pending
// gain; skip it if it has fewer than 2·MinSize vertices; otherwise solve its exact max-cut, and if
// the cut exceeds eps replace it by its two sides, each with gain = that cut; stop when the largest
// pending gain is ≤ eps. Phases need not be contiguous. Ties in gain are taken in insertion order.
func RecursiveBisection(w [][]float64, opts BisectionOptions) (*BisectionResult, error) {
	if err := ValidateMatrix(w); err != nil {
		return nil, err
	}
	if opts.EpsFrac < 0 || math.IsNaN(opts.EpsFrac) {
		return nil, fmt.Errorf("phases: EpsFrac %v must be ≥ 0", opts.EpsFrac)
	}
	res := &BisectionResult{Total: TotalWeight(w)}
	res.Eps = opts.EpsFrac * res.Total
	minSize := opts.minSize()

	q := &clusterQueue{}
	heap.Push(q, pending{cluster: seq(0, len(w)), gain: math.Inf(1)})
	var final Partition
	pushed := 1
	for q.Len() > 0 {
		if (*q)[0].gain <= res.Eps {
			break
		}
		c := heap.Pop(q).(pending)
		if len(c.cluster) < 2*minSize {
			final = append(final, c.cluster)
			continue
		}
		a, b, cut := MaxCut(w, c.cluster, opts.MaxCut)
		sp := Split{Cluster: c.cluster, A: a, B: b, Cut: cut, Gain: c.gain}
		phases := len(final) + q.Len() + 1
		sp.Accepted = cut > res.Eps && len(b) > 0 && (opts.MaxPhases <= 0 || phases < opts.MaxPhases)
		res.Splits = append(res.Splits, sp)
		if !sp.Accepted {
			final = append(final, c.cluster)
			if opts.MaxPhases > 0 && phases >= opts.MaxPhases {
				break
			}
			continue
		}
		heap.Push(q, pending{cluster: a, gain: cut, order: pushed})
		heap.Push(q, pending{cluster: b, gain: cut, order: pushed + 1})
		pushed += 2
	}
	for _, c := range *q {
		final = append(final, c.cluster)
	}
	res.Partition = final.Canonical()
	return res, nil
}

// KForEps returns the number of phases RecursiveBisection finds with this EpsFrac.
func KForEps(w [][]float64, opts BisectionOptions) (int, error) {
	r, err := RecursiveBisection(w, opts)
	if err != nil {
		return 0, err
	}
	return r.Partition.K(), nil
}

// EpsInterval says that RecursiveBisection returns K phases for every EpsFrac in [FracLo, FracHi).
type EpsInterval struct {
	K              int
	FracLo, FracHi float64
}

// EpsIntervals returns, for every reachable number of phases K, the interval of EpsFrac giving it
// (opts.EpsFrac and opts.MaxPhases are ignored). It builds the full bisection tree once (eps = 0):
// a cluster is split at eps exactly when every cut on its path from the root, its own included,
// exceeds eps, so k(eps) = 1 + #{split clusters whose path-minimum cut > eps}. Intervals are in
// decreasing K; the last one (K = 1) has FracHi = +Inf.
func EpsIntervals(w [][]float64, opts BisectionOptions) ([]EpsInterval, error) {
	opts.EpsFrac, opts.MaxPhases = 0, 0
	r, err := RecursiveBisection(w, opts)
	if err != nil {
		return nil, err
	}
	// Path minimum of each accepted split, found through the parent cluster.
	pathMin := map[string]float64{}
	key := func(c []int) string { return fmt.Sprint(c) }
	var mins []float64
	for _, sp := range r.Splits {
		if !sp.Accepted {
			continue
		}
		pm := sp.Cut
		if parent, ok := pathMin[key(sp.Cluster)]; ok {
			pm = min(pm, parent)
		}
		pathMin[key(sp.A)], pathMin[key(sp.B)] = pm, pm
		mins = append(mins, pm)
	}
	slices.Sort(mins)
	slices.Reverse(mins) // v_1 ≥ v_2 ≥ …; k(eps) = 1 + #{v_i > eps}
	var out []EpsInterval
	for k := len(mins) + 1; k >= 1; k-- {
		lo, hi := 0.0, math.Inf(1)
		if k-1 < len(mins) {
			lo = mins[k-1] // eps ≥ v_k
		}
		if k >= 2 {
			hi = mins[k-2] // eps < v_{k−1}
		}
		if lo >= hi {
			continue // unreachable K (equal cuts)
		}
		if r.Total > 0 {
			lo, hi = lo/r.Total, hi/r.Total
		}
		out = append(out, EpsInterval{K: k, FracLo: lo, FracHi: hi})
	}
	return out, nil
}

type pending struct {
	cluster []int
	gain    float64
	order   int
}

// clusterQueue is a max-heap on gain, ties by insertion order.
type clusterQueue []pending

func (q clusterQueue) Len() int { return len(q) }
func (q clusterQueue) Less(i, j int) bool {
	if q[i].gain != q[j].gain {
		return q[i].gain > q[j].gain
	}
	return q[i].order < q[j].order
}
func (q clusterQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *clusterQueue) Push(x any)   { *q = append(*q, x.(pending)) }
func (q *clusterQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
