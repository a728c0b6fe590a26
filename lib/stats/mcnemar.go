package stats

import (
	"errors"
	"fmt"
	"math"
)

// McNemarResult is the outcome of [McNemar]: B counts the items a got right
// and b got wrong, C the items a got wrong and b got right, and P is the
// exact two-sided p-value of the hypothesis that both kinds of disagreement
// are equally likely.
type McNemarResult struct {
	B, C int
	P    float64
}

// McNemar is the exact two-sided McNemar test of paired binary outcomes
// (a[i], b[i]: item i correct under each condition). P is twice the
// Binomial(B+C, 1/2) probability of at most min(B, C), capped at 1; it is 1
// when B+C = 0. Items on which a and b agree carry no information and are
// ignored. It errors on unequal lengths or empty input.
func McNemar(a, b []bool) (McNemarResult, error) {
	if len(a) != len(b) {
		return McNemarResult{}, fmt.Errorf("stats.McNemar: len(a) = %d but len(b) = %d", len(a), len(b))
	}
	if len(a) == 0 {
		return McNemarResult{}, errors.New("stats.McNemar: no pairs")
	}
	var r McNemarResult
	for i := range a {
		switch {
		case a[i] && !b[i]:
			r.B++
		case !a[i] && b[i]:
			r.C++
		}
	}
	r.P = math.Min(1, 2*binomHalfCDF(min(r.B, r.C), r.B+r.C))
	return r, nil
}

// binomHalfCDF is P(X <= k) for X ~ Binomial(n, 1/2), summed term by term in
// log space (exact up to rounding for any n).
func binomHalfCDF(k, n int) float64 {
	if n == 0 {
		return 1
	}
	lgN1, _ := math.Lgamma(float64(n) + 1)
	logHalfN := float64(n) * math.Ln2
	var s float64
	for i := 0; i <= k; i++ {
		a, _ := math.Lgamma(float64(i) + 1)
		b, _ := math.Lgamma(float64(n-i) + 1)
		s += math.Exp(lgN1 - a - b - logHalfN)
	}
	return s
}
