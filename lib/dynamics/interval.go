package dynamics

import (
	"math"
	"slices"

	"github.com/blockrec/blockrec/lib/stats"
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
	est, err := stats.Bootstrap(len(v), reps, seed, level, func(idx []int) float64 {
		var sum float64
		for _, i := range idx {
			sum += v[i]
		}
		return sum / float64(len(idx))
	})
	if err == nil {
		out.Lo, out.Hi = est.CI.Lo, est.CI.Hi
	}
	return out
}
