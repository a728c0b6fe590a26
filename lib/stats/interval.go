package stats

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultLevel is the confidence level used throughout blockrec.
const DefaultLevel = 0.95

// Interval is a confidence interval [Lo, Hi] at confidence Level, computed by
// Method (e.g. "Wilson", "Clopper-Pearson", "t",
// "percentile bootstrap (2000 reps)").
type Interval struct {
	Lo, Hi float64
	Level  float64
	Method string
}

// Contains reports whether Lo <= x <= Hi.
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// Width is Hi - Lo.
func (iv Interval) Width() float64 { return iv.Hi - iv.Lo }

// String formats the interval with three decimals, e.g. "[0.312, 0.354]".
func (iv Interval) String() string { return fmt.Sprintf("[%.3f, %.3f]", iv.Lo, iv.Hi) }

// Estimate is a point value with its confidence interval and the sample size
// it was computed from.
type Estimate struct {
	Value float64
	CI    Interval
	N     int
}

// Format multiplies the value and the interval by scale and prints them with
// digits decimals, e.g. scale 100, digits 1: "33.3 [31.2, 35.4]". It adds no
// unit; the caller does. A negative digits counts as 0.
func (e Estimate) Format(scale float64, digits int) string {
	if digits < 0 {
		digits = 0
	}
	f := func(x float64) string { return strconv.FormatFloat(x*scale, 'f', digits, 64) }
	return f(e.Value) + " [" + f(e.CI.Lo) + ", " + f(e.CI.Hi) + "]"
}

// checkLevel returns an error naming fn unless level is in (0, 1).
func checkLevel(fn string, level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("stats.%s: level %v is not in (0, 1)", fn, level)
	}
	return nil
}

// checkCounts validates a binomial count for fn.
func checkCounts(fn string, successes, n int, level float64) error {
	if n <= 0 {
		return fmt.Errorf("stats.%s: n = %d, want n > 0", fn, n)
	}
	if successes < 0 || successes > n {
		return fmt.Errorf("stats.%s: successes = %d is outside 0..n = 0..%d", fn, successes, n)
	}
	return checkLevel(fn, level)
}

// zQuantile is the two-sided standard normal critical value for level.
func zQuantile(level float64) float64 {
	return distuv.UnitNormal.Quantile(1 - (1-level)/2)
}

// Wilson is the Wilson score interval for a binomial proportion
// successes/n at confidence level. It errors if n <= 0, successes is outside
// 0..n or level is not in (0, 1).
func Wilson(successes, n int, level float64) (Interval, error) {
	if err := checkCounts("Wilson", successes, n, level); err != nil {
		return Interval{}, err
	}
	z := zQuantile(level)
	nf := float64(n)
	p := float64(successes) / nf
	z2n := z * z / nf
	center := (p + z2n/2) / (1 + z2n)
	half := z / (1 + z2n) * math.Sqrt(p*(1-p)/nf+z2n/(4*nf))
	iv := Interval{Lo: center - half, Hi: center + half, Level: level, Method: "Wilson"}
	// The limits are exactly 0 and 1 at the edges; avoid rounding noise there.
	if successes == 0 {
		iv.Lo = 0
	}
	if successes == n {
		iv.Hi = 1
	}
	iv.Lo, iv.Hi = math.Max(iv.Lo, 0), math.Min(iv.Hi, 1)
	return iv, nil
}

// ClopperPearson is the exact (conservative) Clopper-Pearson interval for a
// binomial proportion, from beta quantiles. Lo = 0 when successes = 0 and
// Hi = 1 when successes = n. Errors as for [Wilson].
func ClopperPearson(successes, n int, level float64) (Interval, error) {
	if err := checkCounts("ClopperPearson", successes, n, level); err != nil {
		return Interval{}, err
	}
	alpha := 1 - level
	k, nf := float64(successes), float64(n)
	iv := Interval{Lo: 0, Hi: 1, Level: level, Method: "Clopper-Pearson"}
	if successes > 0 {
		iv.Lo = distuv.Beta{Alpha: k, Beta: nf - k + 1}.Quantile(alpha / 2)
	}
	if successes < n {
		iv.Hi = distuv.Beta{Alpha: k + 1, Beta: nf - k}.Quantile(1 - alpha/2)
	}
	return iv, nil
}

// Proportion is the fraction of true values in correct with its Wilson
// interval. It errors on an empty slice or a bad level.
func Proportion(correct []bool, level float64) (Estimate, error) {
	if len(correct) == 0 {
		return Estimate{}, errors.New("stats.Proportion: no outcomes")
	}
	k := 0
	for _, c := range correct {
		if c {
			k++
		}
	}
	iv, err := Wilson(k, len(correct), level)
	if err != nil {
		return Estimate{}, fmt.Errorf("stats.Proportion: %w", err)
	}
	return Estimate{Value: float64(k) / float64(len(correct)), CI: iv, N: len(correct)}, nil
}
