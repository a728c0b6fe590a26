package figures

import (
	"fmt"

	"gonum.org/v1/plot"
)

// WithYRange fixes p's y axis to [lo, hi]. It clamps the axis, not the data: whatever lies
// outside (a curve, an error bar past a bound) is clipped at the edge of the data area. Call it
// after the last p.Add, which would widen the range again. It returns an error for a nil plot or
// a range that is not finite with lo < hi.
func WithYRange(p *plot.Plot, lo, hi float64) error {
	if p == nil {
		return fmt.Errorf("figures.WithYRange: nil plot")
	}
	if bad(lo) || bad(hi) || !(lo < hi) {
		return fmt.Errorf("figures.WithYRange(%q): range [%v, %v] must be finite with lo < hi", p.Title.Text, lo, hi)
	}
	p.Y.Min, p.Y.Max = lo, hi
	return nil
}

// CosineAxis keeps p's y axis within [−1, 1], the range of a cosine: the axis is the data's range
// (error bars included) cut to [−1, 1], so a ±std bar past 1 is clipped at 1 instead of
// stretching the axis to 1.4. Call it after the last p.Add. It returns an error for a nil plot or
// when nothing of the data's range lies within [−1, 1].
func CosineAxis(p *plot.Plot) error {
	if p == nil {
		return fmt.Errorf("figures.CosineAxis: nil plot")
	}
	lo, hi := max(p.Y.Min, -1), min(p.Y.Max, 1)
	if lo == hi { // a constant curve (say at 1): show it inside a visible range
		lo, hi = max(lo-0.1, -1), min(hi+0.1, 1)
	}
	if !(lo < hi) {
		return fmt.Errorf("figures.CosineAxis(%q): the y range [%v, %v] lies outside [-1, 1]", p.Title.Text, p.Y.Min, p.Y.Max)
	}
	return WithYRange(p, lo, hi)
}
