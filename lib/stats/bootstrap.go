package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Bootstrap estimates stat on n items and its percentile-bootstrap interval.
//
// Value is stat on the full sample (idx = 0, 1, ..., n-1). Each of the reps
// replicates calls stat on n indices drawn from 0..n-1 with replacement; the
// interval runs between the (1-level)/2 and (1+level)/2 quantiles of the
// replicates (linear interpolation between order statistics). The draws come
// from math/rand/v2's PCG seeded with (seed, seed), so a seed always gives the
// same result. stat must not keep idx: its backing array is reused.
//
// It errors if n <= 0, reps <= 0, stat is nil, the level is bad, or stat
// returns NaN on the full sample or on any replicate.
func Bootstrap(n, reps int, seed uint64, level float64, stat func(idx []int) float64) (Estimate, error) {
	switch {
	case n <= 0:
		return Estimate{}, fmt.Errorf("stats.Bootstrap: n = %d, want n > 0", n)
	case reps <= 0:
		return Estimate{}, fmt.Errorf("stats.Bootstrap: reps = %d, want reps > 0", reps)
	case stat == nil:
		return Estimate{}, errors.New("stats.Bootstrap: stat is nil")
	}
	if err := checkLevel("Bootstrap", level); err != nil {
		return Estimate{}, err
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	value := stat(idx)
	if math.IsNaN(value) {
		return Estimate{}, errors.New("stats.Bootstrap: stat is NaN on the full sample")
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	reps64 := make([]float64, reps)
	for r := range reps64 {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		v := stat(idx)
		if math.IsNaN(v) {
			return Estimate{}, fmt.Errorf("stats.Bootstrap: stat is NaN on replicate %d of %d", r, reps)
		}
		reps64[r] = v
	}
	slices.Sort(reps64)
	alpha := 1 - level
	iv := Interval{
		Lo:     quantileSorted(reps64, alpha/2),
		Hi:     quantileSorted(reps64, 1-alpha/2),
		Level:  level,
		Method: fmt.Sprintf("percentile bootstrap (%d reps)", reps),
	}
	return Estimate{Value: value, CI: iv, N: n}, nil
}

// quantileSorted is the q-quantile of sorted xs by linear interpolation
// between order statistics (position q*(len-1), numpy's default).
func quantileSorted(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(math.Floor(pos))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	frac := pos - float64(i)
	if frac == 0 {
		return xs[i]
	}
	return xs[i] + frac*(xs[i+1]-xs[i])
}

// PairedDiff is the mean of a[i]-b[i] with a paired percentile-bootstrap
// interval: each replicate resamples items i and uses the same i for a and
// b, so the per-item variation they share cancels. See [Bootstrap] for the
// seed and the interval. It errors on unequal or zero lengths, non-finite
// values, reps <= 0 or a bad level.
func PairedDiff(a, b []float64, reps int, seed uint64, level float64) (Estimate, error) {
	if len(a) != len(b) {
		return Estimate{}, fmt.Errorf("stats.PairedDiff: len(a) = %d but len(b) = %d", len(a), len(b))
	}
	if len(a) == 0 {
		return Estimate{}, errors.New("stats.PairedDiff: no pairs")
	}
	if err := checkFinite("PairedDiff", "a", a); err != nil {
		return Estimate{}, err
	}
	if err := checkFinite("PairedDiff", "b", b); err != nil {
		return Estimate{}, err
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	e, err := Bootstrap(len(d), reps, seed, level, func(idx []int) float64 {
		var s float64
		for _, i := range idx {
			s += d[i]
		}
		return s / float64(len(idx))
	})
	if err != nil {
		return Estimate{}, fmt.Errorf("stats.PairedDiff: %w", err)
	}
	e.CI.Method = "paired " + e.CI.Method
	return e, nil
}

// PercentileInterval is the central level-interval of replicate values computed elsewhere (for
// example several statistics of one bootstrap loop): the alpha/2 and 1−alpha/2 quantiles by
// the same interpolation as Bootstrap. NaN replicates are an error, as in Bootstrap.
func PercentileInterval(replicates []float64, level float64) (Interval, error) {
	if len(replicates) == 0 {
		return Interval{}, errors.New("stats.PercentileInterval: no replicates")
	}
	if err := checkLevel("PercentileInterval", level); err != nil {
		return Interval{}, err
	}
	xs := slices.Clone(replicates)
	for i, x := range xs {
		if math.IsNaN(x) {
			return Interval{}, fmt.Errorf("stats.PercentileInterval: replicate %d of %d is NaN", i, len(xs))
		}
	}
	slices.Sort(xs)
	alpha := 1 - level
	return Interval{Lo: quantileSorted(xs, alpha/2), Hi: quantileSorted(xs, 1-alpha/2), Level: level,
		Method: fmt.Sprintf("percentile bootstrap (%d reps)", len(xs))}, nil
}
