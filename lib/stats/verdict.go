package stats

import "math"

// Verdict is the judgement of a claim, computed from an interval.
type Verdict string

// The three verdicts.
const (
	Holds        Verdict = "holds"
	Contradicted Verdict = "contradicted"
	NotTestable  Verdict = "not testable at this scale"
)

// testable reports whether iv and threshold can support a verdict: no NaN
// and a finite width.
func testable(iv Interval, threshold float64) bool {
	return !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) && !math.IsNaN(threshold) &&
		!math.IsInf(iv.Width(), 0) && !math.IsNaN(iv.Width())
}

// Above judges the claim "the quantity is greater than threshold": [Holds]
// if iv.Lo > threshold, [Contradicted] if iv.Hi < threshold, [NotTestable]
// otherwise, and also when the interval (or threshold) is NaN or the interval
// has infinite width.
func Above(iv Interval, threshold float64) Verdict {
	switch {
	case !testable(iv, threshold):
		return NotTestable
	case iv.Lo > threshold:
		return Holds
	case iv.Hi < threshold:
		return Contradicted
	}
	return NotTestable
}

// Below is the mirror image of [Above], for the claim "the quantity is less
// than threshold": [Holds] if iv.Hi < threshold, [Contradicted] if
// iv.Lo > threshold.
func Below(iv Interval, threshold float64) Verdict {
	switch {
	case !testable(iv, threshold):
		return NotTestable
	case iv.Hi < threshold:
		return Holds
	case iv.Lo > threshold:
		return Contradicted
	}
	return NotTestable
}
