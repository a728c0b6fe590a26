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
