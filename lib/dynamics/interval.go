package dynamics

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a mean over images with a percentile-bootstrap confidence interval.
type Interval struct {
	N      int     // images with a defined value
	Mean   float64 // NaN when N = 0
	Lo, Hi float64 // the (1−Level)/2 and (1+Level)/2 percentiles of bootstrap means; NaN when N < 2
	Level  float64
}

// bootstrapMean resamples the values (one per image) with replacement reps times and returns
// their mean with the percentile interval of the resampled means at the given level. NaNs are
// dropped; values are sorted first, so the interval does not depend on their order.
func bootstrapMean(vals []float64, level float64, reps int, seed uint64) Interval {
	v := make([]float64, 0, len(vals))
	for _, x := range vals {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	slices.Sort(v)
	out := Interval{N: len(v), Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Level: level}
	if len(v) == 0 {
		return out
	}
	out.Mean = meanOf(v)
	if len(v) < 2 {
		return out
	}
	rng := rand.New(rand.NewPCG(seed, 0x62_6f_6f_74)) // "boot"
	means := make([]float64, reps)
	for r := range means {
		var s float64
		for range v {
			s += v[rng.IntN(len(v))]
		}
		means[r] = s / float64(len(v))
	}
	slices.Sort(means)
	out.Lo = percentileSorted(means, (1-level)/2)
	out.Hi = percentileSorted(means, (1+level)/2)
	return out
}

// percentileSorted is the q-quantile (linear interpolation) of sorted values.
func percentileSorted(v []float64, q float64) float64 {
	pos := q * float64(len(v)-1)
	i := int(math.Floor(pos))
	if i >= len(v)-1 {
		return v[len(v)-1]
	}
	f := pos - float64(i)
	return v[i]*(1-f) + v[i+1]*f
}
