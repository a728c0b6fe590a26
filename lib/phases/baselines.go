package phases

import (
	"fmt"
	"math/rand/v2"
)

// seedStream is the second PCG word; fixed so that a seed alone determines a baseline.
const seedStream = 0x626c6f636b726563 // "blockrec"

// NewRand returns the generator the baselines use for a seed.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seedStream)) }

// RandomContiguous returns a contiguous partition of 0..n−1 into k phases drawn uniformly among
// all C(n−1, k−1) of them (k−1 distinct cut points among the n−1 gaps).
func RandomContiguous(n, k int, seed uint64) (Partition, error) {
	if k < 1 || k > n {
		return nil, fmt.Errorf("phases: random contiguous partition of %d layers into %d phases", n, k)
	}
	rng := NewRand(seed)
	gaps := rng.Perm(n - 1)[:k-1] // gap g lies after index g, i.e. threshold g+1
	cut := make([]bool, n)
	for _, g := range gaps {
		cut[g+1] = true
	}
	var th []int
	for t := 1; t < n; t++ {
		if cut[t] {
			th = append(th, t)
		}
	}
	return FromThresholds(th, n)
}

// RandomContiguousSizes returns the contiguous partition whose phase sizes are a random
// permutation of sizes (the same sizes as, e.g., the max-cut phases, in shuffled order).
func RandomContiguousSizes(sizes []int, seed uint64) (Partition, error) {
	rng := NewRand(seed)
	perm := rng.Perm(len(sizes))
	shuffled := make([]int, len(sizes))
	for i, j := range perm {
		shuffled[i] = sizes[j]
	}
	return FromSizes(shuffled)
}

// RandomShuffled returns a non-contiguous baseline: the layers 0..Σsizes−1 are shuffled uniformly
// and dealt into phases of the given sizes. The result is canonical (phases sorted, ordered by
// first member), so phase order need not match sizes' order.
func RandomShuffled(sizes []int, seed uint64) (Partition, error) {
	n := 0
	for _, s := range sizes {
		if s <= 0 {
			return nil, fmt.Errorf("phases: sizes %v: every size must be positive", sizes)
		}
		n += s
	}
	perm := NewRand(seed).Perm(n)
	p := make(Partition, len(sizes))
	start := 0
	for j, s := range sizes {
		p[j] = perm[start : start+s]
		start += s
	}
	return p.Canonical(), nil
}

// MaxEnumerated is the largest number of contiguous partitions ContiguousBaselines enumerates.
const MaxEnumerated = 50

// ContiguousBaselines returns the random contiguous baselines of n layers into k phases: all
// C(n−1, k−1) contiguous partitions when there are at most MaxEnumerated of them (exhaustive,
// in lexicographic order of the thresholds), else draws uniform draws (at least 10) by
// RandomContiguous with seeds seed, seed+1, …. exhaustive says which.
func ContiguousBaselines(n, k, draws int, seed uint64) (ps []Partition, exhaustive bool, err error) {
	if k < 1 || k > n {
		return nil, false, fmt.Errorf("phases: contiguous baselines of %d layers into %d phases", n, k)
	}
	if binomial(n-1, k-1) <= MaxEnumerated {
		var rec func(th []int, from int)
		rec = func(th []int, from int) {
			if len(th) == k-1 {
				p, _ := FromThresholds(th, n)
				ps = append(ps, p)
				return
			}
			for t := from; t < n; t++ {
				rec(append(th[:len(th):len(th)], t), t+1)
			}
		}
		rec(nil, 1)
		return ps, true, nil
	}
	if draws < 10 {
		return nil, false, fmt.Errorf("phases: %d random draws; at least 10", draws)
	}
	for d := range uint64(draws) {
		p, err := RandomContiguous(n, k, seed+d)
		if err != nil {
			return nil, false, err
		}
		ps = append(ps, p)
	}
	return ps, false, nil
}

// binomial is C(n, k), saturating at MaxEnumerated+1.
func binomial(n, k int) int {
	c := 1
	for i := 1; i <= k; i++ {
		c = c * (n - k + i) / i
		if c > MaxEnumerated {
			return MaxEnumerated + 1
		}
	}
	return c
}

// Percentile is the mid-rank percentile of value among baselines: 100 × (#{b < value} +
// ½·#{b = value}) / len(baselines). For max-cut's score (higher = better) among random
// baselines' scores, 100 means it beats them all.
func Percentile(value float64, baselines []float64) (float64, error) {
	if len(baselines) == 0 {
		return 0, fmt.Errorf("phases: percentile among no baselines")
	}
	below := 0.0
	for _, b := range baselines {
		switch {
		case b < value:
			below++
		case b == value:
			below += 0.5
		}
	}
	return 100 * below / float64(len(baselines)), nil
}
