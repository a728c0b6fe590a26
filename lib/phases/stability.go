package phases

import (
	"fmt"
	"math"
)

// PerImage holds one dissimilarity matrix per image (the upper triangle of each, row-major), the
// raw material for bootstrapping a similarity matrix and everything computed from it over images.
type PerImage struct {
	Rows  int         // layers of each matrix
	Upper [][]float64 // [image][pair], pairs (i, j) with i < j in row-major order
}

// Validate checks the shapes and that every entry is finite.
func (p *PerImage) Validate() error {
	if p == nil || len(p.Upper) == 0 {
		return fmt.Errorf("phases: no per-image matrices")
	}
	if p.Rows < 2 {
		return fmt.Errorf("phases: per-image matrices of %d rows, need at least 2", p.Rows)
	}
	pairs := p.Rows * (p.Rows - 1) / 2
	for i, u := range p.Upper {
		if len(u) != pairs {
			return fmt.Errorf("phases: per-image matrix %d has %d entries, want %d for %d rows", i, len(u), pairs, p.Rows)
		}
		for k, v := range u {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("phases: per-image matrix %d entry %d is %v", i, k, v)
			}
		}
	}
	return nil
}

// Images is the number of images.
func (p *PerImage) Images() int { return len(p.Upper) }

// Mean is the mean matrix over the images idx (repetitions count; nil idx: every image),
// symmetric with a zero diagonal.
func (p *PerImage) Mean(idx []int) [][]float64 {
	n := p.Rows
	sum := make([]float64, n*(n-1)/2)
	count := 0
	add := func(i int) {
		for k, v := range p.Upper[i] {
			sum[k] += v
		}
		count++
	}
	if idx == nil {
		for i := range p.Upper {
			add(i)
		}
	} else {
		for _, i := range idx {
			add(i)
		}
	}
	m := newSquare(n)
	k := 0
	for i := range n {
		for j := i + 1; j < n; j++ {
			m[i][j] = sum[k] / float64(count)
			m[j][i] = m[i][j]
			k++
		}
	}
	return m
}

// Finder splits a dissimilarity matrix into k phases.
type Finder func(w [][]float64, k int) (Partition, error)

// ContiguousFinder is the optimal contiguous split (dynamic programming, Contiguous).
func ContiguousFinder(w [][]float64, k int) (Partition, error) {
	r, err := Contiguous(w, k)
	if err != nil {
		return nil, err
	}
	return r.Partition, nil
}

// BisectionFinder is the released solver, recursive bisection, with an eps fraction in the
// middle of the interval that gives k phases (EpsIntervals); an error when no eps gives k.
func BisectionFinder(w [][]float64, k int) (Partition, error) {
	p, _, err := BisectionForK(w, k)
	return p, err
}

// BisectionForK runs recursive bisection with the eps fraction in the middle of the interval of
// eps that gives k phases, and returns the phases and that eps; an error when no eps gives k
// phases (equal cuts can make some k unreachable).
func BisectionForK(w [][]float64, k int) (Partition, float64, error) {
	intervals, err := EpsIntervals(w, BisectionOptions{})
	if err != nil {
		return nil, 0, err
	}
	for _, iv := range intervals {
		if iv.K != k {
			continue
		}
		eps := iv.FracLo + 1e-3 // K = 1 has FracHi = +Inf
		if !math.IsInf(iv.FracHi, 1) {
			eps = (iv.FracLo + iv.FracHi) / 2
		}
		r, err := RecursiveBisection(w, BisectionOptions{EpsFrac: eps})
		if err != nil {
			return nil, 0, err
		}
		if r.Partition.K() != k {
			return nil, 0, fmt.Errorf("phases: bisection at eps %.4g gave %d phases, want %d", eps, r.Partition.K(), k)
		}
		return r.Partition, eps, nil
	}
	return nil, 0, fmt.Errorf("phases: no eps fraction makes recursive bisection give %d phases", k)
}

// Stability is how stable the k phases of a similarity matrix are when the images it averages
// are resampled with replacement (a nonparametric bootstrap over images).
type Stability struct {
	K          int       `json:"k"`
	Replicates int       `json:"replicates"`
	Partition  Partition `json:"partition"` // the finder's phases on the full-sample matrix
	// BoundaryShare[t−1] is the share of replicates whose phases (when contiguous) have a
	// boundary between rows t−1 and t (0-based), t = 1..n−1.
	BoundaryShare []float64 `json:"boundary_share"`
	// SameShare is the share of replicates whose phases equal Partition exactly.
	SameShare float64 `json:"same_share"`
	// Failed counts replicates where the finder gave no k-phase split (bisection can skip a k).
	Failed int `json:"failed"`
	// BlockIndex of each replicate's own phases on the replicate's matrix (lower = blockier);
	// −1 where undefined (k = 1, or the finder failed), so that the list stays valid JSON and
	// replicate i of two Stabilities bootstrapped with one seed can be paired.
	BlockIndex []float64 `json:"block_index"`
}

// BootstrapPhases resamples the images of per with replacement reps times (seeded) and, for each
// k, runs find on each replicate's mean matrix. A k the finder cannot split the full matrix into
// has a nil Partition and every replicate Failed. rng draws are shared by every k, so the
// replicates of different k use the same resampled images.
func BootstrapPhases(per *PerImage, ks []int, find Finder, reps int, seed uint64) ([]Stability, error) {
	if err := per.Validate(); err != nil {
		return nil, err
	}
	if reps < 1 {
		return nil, fmt.Errorf("phases: bootstrap needs at least 1 replicate, got %d", reps)
	}
	if find == nil {
		find = ContiguousFinder
	}
	full := per.Mean(nil)
	out := make([]Stability, len(ks))
	for i, k := range ks {
		if k < 1 || k > per.Rows {
			return nil, fmt.Errorf("phases: k=%d outside 1..%d", k, per.Rows)
		}
		out[i] = Stability{K: k, Replicates: reps, BoundaryShare: make([]float64, per.Rows-1)}
		// A finder may give no k-phase split of the full matrix (bisection skips some k): then
		// Partition stays nil and every replicate counts as Failed.
		if p, err := find(full, k); err == nil {
			out[i].Partition = p
		}
	}
	rng := NewRand(seed)
	idx := make([]int, per.Images())
	for range reps {
		for j := range idx {
			idx[j] = rng.IntN(len(idx))
		}
		w := per.Mean(idx)
		for i := range out {
			s := &out[i]
			if s.Partition == nil {
				s.Failed++
				s.BlockIndex = append(s.BlockIndex, -1)
				continue
			}
			p, err := find(w, s.K)
			if err != nil {
				s.Failed++
				s.BlockIndex = append(s.BlockIndex, -1)
				continue
			}
			if p.String() == s.Partition.String() {
				s.SameShare++
			}
			if ts, err := p.Thresholds(); err == nil {
				for _, t := range ts {
					s.BoundaryShare[t-1]++
				}
			}
			bi := -1.0
			if s.K > 1 {
				if v, err := BlockIndex(w, p); err == nil {
					bi = v
				}
			}
			s.BlockIndex = append(s.BlockIndex, bi)
		}
	}
	for i := range out {
		s := &out[i]
		s.SameShare /= float64(reps)
		for t := range s.BoundaryShare {
			s.BoundaryShare[t] /= float64(reps)
		}
	}
	return out, nil
}
