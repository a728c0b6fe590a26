package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// MeanSD is the mean and the sample standard deviation (n-1 denominator) of
// xs. The sd is NaN for fewer than two values; the mean is NaN for none.
func MeanSD(xs []float64) (mean, sd float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(n-1))
}

// checkFinite errors, naming fn and what, on the first non-finite value.
func checkFinite(fn, what string, xs []float64) error {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("stats.%s: %s[%d] = %v is not finite", fn, what, i, x)
		}
	}
	return nil
}

// MeanCI is the mean of xs with its Student t interval (n-1 degrees of
// freedom). A single value gives the infinite interval [-Inf, +Inf], on which
// every verdict is [NotTestable]. It errors on an empty slice, a non-finite
// value or a bad level.
func MeanCI(xs []float64, level float64) (Estimate, error) {
	if len(xs) == 0 {
		return Estimate{}, errors.New("stats.MeanCI: no values")
	}
	if err := checkFinite("MeanCI", "xs", xs); err != nil {
		return Estimate{}, err
	}
	if err := checkLevel("MeanCI", level); err != nil {
		return Estimate{}, err
	}
	n := len(xs)
	mean, sd := MeanSD(xs)
	e := Estimate{Value: mean, N: n, CI: Interval{Lo: math.Inf(-1), Hi: math.Inf(1), Level: level, Method: "t"}}
	if n < 2 {
		return e, nil
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-level)/2)
	half := t * sd / math.Sqrt(float64(n))
	e.CI.Lo, e.CI.Hi = mean-half, mean+half
	return e, nil
}
