package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// BoundaryTestResult says whether a per-step curve (usually the mean angular speed s_l) jumps at
// given phase boundaries and stays flat inside phases.
//
// With Δ_i = s_{i+1} − s_i, the jump at boundary b is Δ_{b−1} = s_b − s_{b−1} (see the package
// doc for the boundary convention); every other Δ_i is an inside-phase difference.
type BoundaryTestResult struct {
	Boundaries []int
	// Jumps[j] = s_b − s_{b−1} at Boundaries[j].
	Jumps []float64
	// BoundaryMeanAbs = mean |Δ| at boundaries; InsideMeanAbs = mean |Δ| inside phases.
	BoundaryMeanAbs, InsideMeanAbs float64
	// Score = BoundaryMeanAbs / InsideMeanAbs (+Inf when inside differences are all zero and a
	// boundary jumps; NaN when both are zero). Score > 1: speed changes more at boundaries.
	Score float64
	// PhaseR2 = 1 − Σ(s − phase mean)² / Σ(s − overall mean)²: how much of the curve a piecewise
	// constant function on the phases explains (1: flat inside every phase).
	PhaseR2 float64
	// P and PR2 are permutation p-values: the fraction of boundary sets of the same size, drawn
	// uniformly among all valid positions, whose Score (PhaseR2) is at least the observed one.
	// When every set can be enumerated within the permutation budget the test is exact (Exact),
	// and the observed set is one of the Trials; otherwise P = (1 + #{≥}) / (1 + Trials).
	P, PR2 float64
	// NullScoreMean and NullR2Mean are the means of the null distributions.
	NullScoreMean, NullR2Mean float64
	Trials                    int
	Exact                     bool
}

// BoundaryTest tests phase boundaries against a per-step curve s (len(s) = number of blocks).
// Boundaries must be strictly increasing in [1, len(s)-1]. permutations is the budget of random
// boundary sets (e.g. 10000); seed makes the draw reproducible.
func BoundaryTest(s []float64, boundaries []int, permutations int, seed uint64) (BoundaryTestResult, error) {
	n, k := len(s), len(boundaries)
	r := BoundaryTestResult{Boundaries: append([]int(nil), boundaries...)}
	if k == 0 {
		return r, fmt.Errorf("dynamics: boundary test: no boundaries given")
	}
	if n-1 <= k {
		return r, fmt.Errorf("dynamics: boundary test: %d steps leave no inside-phase differences for %d boundaries", n, k)
	}
	for i, b := range boundaries {
		if b < 1 || b > n-1 {
			return r, fmt.Errorf("dynamics: boundary test: boundary %d out of range [1, %d] for %d steps", b, n-1, n)
		}
		if i > 0 && b <= boundaries[i-1] {
			return r, fmt.Errorf("dynamics: boundary test: boundaries %v are not strictly increasing", boundaries)
		}
	}
	for _, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return r, fmt.Errorf("dynamics: boundary test: curve has a non-finite value %v", v)
		}
	}
	if permutations < 1 {
		permutations = 1
	}
	for _, b := range boundaries {
		r.Jumps = append(r.Jumps, s[b]-s[b-1])
	}
	r.BoundaryMeanAbs, r.InsideMeanAbs, r.Score = jumpScore(s, boundaries)
	r.PhaseR2 = phaseR2(s, boundaries)

	var geS, geR, trials int
	var sumS, sumR float64
	obsS, obsR := r.Score, r.PhaseR2
	visit := func(bs []int) {
		_, _, sc := jumpScore(s, bs)
		r2 := phaseR2(s, bs)
		trials++
		if atLeast(sc, obsS) {
			geS++
		}
		if atLeast(r2, obsR) {
			geR++
		}
		if !math.IsInf(sc, 0) && !math.IsNaN(sc) {
			sumS += sc
		}
		sumR += r2
	}
	if binomialAtMost(n-1, k, permutations) {
		r.Exact = true
		bs := make([]int, k)
		var rec func(pos, next int)
		rec = func(pos, next int) {
			if pos == k {
				visit(bs)
				return
			}
			for b := next; b <= n-1-(k-1-pos); b++ {
				bs[pos] = b
				rec(pos+1, b+1)
			}
		}
		rec(0, 1)
		r.P, r.PR2 = float64(geS)/float64(trials), float64(geR)/float64(trials)
	} else {
		rng := rand.New(rand.NewPCG(seed, 0x62_6f_75_6e_64)) // "bound"
		positions := seqInts(1, n)
		bs := make([]int, k)
		for p := 0; p < permutations; p++ {
			// partial Fisher-Yates: the first k positions are a uniform k-subset
			for i := 0; i < k; i++ {
				j := i + rng.IntN(len(positions)-i)
				positions[i], positions[j] = positions[j], positions[i]
			}
			copy(bs, positions[:k])
			sortInts(bs)
			visit(bs)
		}
		r.P, r.PR2 = float64(1+geS)/float64(1+trials), float64(1+geR)/float64(1+trials)
	}
	r.Trials = trials
	r.NullScoreMean, r.NullR2Mean = sumS/float64(trials), sumR/float64(trials)
	return r, nil
}

// atLeast reports v ≥ obs up to rounding (1e-12 relative); NaN scores (flat curves) tie.
func atLeast(v, obs float64) bool {
	switch {
	case math.IsNaN(obs):
		return math.IsNaN(v) || math.IsInf(v, 1)
	case math.IsInf(obs, 1):
		return math.IsInf(v, 1)
	}
	return v >= obs-1e-12*math.Abs(obs)
}

// jumpScore returns mean |Δ| at boundaries, mean |Δ| inside, and their ratio.
func jumpScore(s []float64, boundaries []int) (atB, inside, score float64) {
	isB := make(map[int]bool, len(boundaries))
	for _, b := range boundaries {
		isB[b-1] = true
	}
	var nb, ni int
	for i := 0; i+1 < len(s); i++ {
		d := math.Abs(s[i+1] - s[i])
		if isB[i] {
			atB += d
			nb++
		} else {
			inside += d
			ni++
		}
	}
	atB /= float64(nb)
	inside /= float64(ni)
	switch {
	case inside > 0:
		score = atB / inside
	case atB > 0:
		score = math.Inf(1)
	default:
		score = math.NaN()
	}
	return atB, inside, score
}

// phaseR2 is the fraction of the variance of s explained by per-phase means.
func phaseR2(s []float64, boundaries []int) float64 {
	var mean float64
	for _, v := range s {
		mean += v
	}
	mean /= float64(len(s))
	var tot, within float64
	for _, v := range s {
		tot += (v - mean) * (v - mean)
	}
	start := 0
	ends := append(append([]int(nil), boundaries...), len(s))
	for _, e := range ends { // phase covers steps [start, e)
		var m float64
		for i := start; i < e; i++ {
			m += s[i]
		}
		m /= float64(e - start)
		for i := start; i < e; i++ {
			within += (s[i] - m) * (s[i] - m)
		}
		start = e
	}
	if tot == 0 {
		return 1
	}
	return 1 - within/tot
}

// binomialAtMost reports whether C(n, k) <= limit.
func binomialAtMost(n, k, limit int) bool {
	if k > n-k {
		k = n - k
	}
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
		if c > float64(limit) {
			return false
		}
	}
	return true
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
