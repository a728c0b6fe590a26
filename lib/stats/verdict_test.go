package stats

import (
	"math"
	"testing"
)

func TestVerdicts(t *testing.T) {
	inf := math.Inf(1)
	nan := math.NaN()
	cases := []struct {
		lo, hi, threshold float64
		above, below      Verdict
	}{
		{0.40, 0.50, 0.30, Holds, Contradicted},
		{0.10, 0.20, 0.30, Contradicted, Holds},
		{0.20, 0.40, 0.30, NotTestable, NotTestable},
		{0.30, 0.40, 0.30, NotTestable, NotTestable}, // touching the threshold is not enough
		{0.20, 0.30, 0.30, NotTestable, NotTestable},
		{-0.5, -0.1, 0, Contradicted, Holds},
		{0.35, 0.35, 0.30, Holds, Contradicted}, // zero width
		{-inf, inf, 0, NotTestable, NotTestable},
		{1, inf, 0, NotTestable, NotTestable}, // infinite width
		{-inf, -1, 0, NotTestable, NotTestable},
		{nan, 0.5, 0.3, NotTestable, NotTestable},
		{0.4, nan, 0.3, NotTestable, NotTestable},
		{0.4, 0.5, nan, NotTestable, NotTestable},
	}
	for _, c := range cases {
		iv := Interval{Lo: c.lo, Hi: c.hi, Level: 0.95}
		if got := Above(iv, c.threshold); got != c.above {
			t.Errorf("Above([%v, %v], %v) = %q, want %q", c.lo, c.hi, c.threshold, got, c.above)
		}
		if got := Below(iv, c.threshold); got != c.below {
			t.Errorf("Below([%v, %v], %v) = %q, want %q", c.lo, c.hi, c.threshold, got, c.below)
		}
	}
}
