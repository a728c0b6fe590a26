package probes

import (
	"fmt"
	"math"
)

// DepthBins are equal-width depth bins over [Min, Max] metres; bin i stands for its centre
// Min + (i+0.5)·(Max−Min)/N.
type DepthBins struct {
	N        int
	Min, Max float64
}

// PaperBins are the 256 linear bins over [0.001, 10] m of the paper's NYUv2 probe.
var PaperBins = DepthBins{N: 256, Min: 0.001, Max: 10}

// Centre is the depth bin i stands for.
func (b DepthBins) Centre(i int) float64 { return b.Min + (float64(i)+0.5)*(b.Max-b.Min)/float64(b.N) }

// Bin returns the bin holding depth d (clamped to the range).
func (b DepthBins) Bin(d float64) int32 {
	i := int(math.Floor((d - b.Min) / (b.Max - b.Min) * float64(b.N)))
	return int32(min(max(i, 0), b.N-1))
}

// Expected is the softmax expectation of the bin centres under logits (length N).
func (b DepthBins) Expected(logits []float32) float64 {
	p := make([]float64, len(logits))
	softmax(p, logits)
	s := 0.0
	for i, v := range p {
		s += v * b.Centre(i)
	}
	return s
}

// PatchDepths averages the valid (> 0) pixels of an h×w depth map over each cell of a gh×gw
// grid; a cell without valid pixels gets 0 (invalid).
func PatchDepths(depth []float32, h, w, gh, gw int) []float32 {
	out := make([]float32, gh*gw)
	for gy := range gh {
		for gx := range gw {
			s, n := 0.0, 0
			for y := gy * h / gh; y < (gy+1)*h/gh; y++ {
				for x := gx * w / gw; x < (gx+1)*w/gw; x++ {
					if d := depth[y*w+x]; d > 0 {
						s += float64(d)
						n++
					}
				}
			}
			if n > 0 {
				out[gy*gw+gx] = float32(s / float64(n))
			}
		}
	}
	return out
}

// TrainDepth fits the depth head on n patch rows (features n×in, target depths n, ≤ 0 meaning
// invalid) by cross-entropy on the bin of each target.
func TrainDepth(x []float32, n, in int, depths []float32, bins DepthBins, opts TrainOptions) (*Linear, error) {
	if len(depths) != n {
		return nil, fmt.Errorf("probes: %d depths for %d rows", len(depths), n)
	}
	labels := make([]int32, n)
	for i, d := range depths {
		labels[i] = -1
		if d > 0 {
			labels[i] = bins.Bin(float64(d))
		}
	}
	opts.UseIgnore, opts.Ignore = true, -1
	return TrainSoftmax(x, n, in, labels, bins.N, opts)
}

// PredictDepth applies the head to one image's patch features (gh·gw×In), upsamples the bin
// logits bilinearly to h×w (equivalent to upsampling the features, the head being linear) and
// returns the softmax-expectation depth of every pixel.
func PredictDepth(head *Linear, bins DepthBins, patches []float32, gh, gw, h, w int) []float32 {
	logits := make([]float32, gh*gw*head.Out)
	for p := range gh * gw {
		head.Logits(logits[p*head.Out:(p+1)*head.Out], patches[p*head.In:(p+1)*head.In])
	}
	up := UpsampleBilinear(logits, gh, gw, head.Out, h, w)
	out := make([]float32, h*w)
	for i := range out {
		out[i] = float32(bins.Expected(up[i*head.Out : (i+1)*head.Out]))
	}
	return out
}

// RMSE accumulates squared depth errors over valid pixels (ground truth > 0, inside an optional
// mask) across images.
type RMSE struct {
	sum float64
	n   int64
}

// Add counts one image; mask (nil: all pixels) selects the evaluated pixels.
func (r *RMSE) Add(pred, gt []float32, mask []bool) error {
	if len(pred) != len(gt) || (mask != nil && len(mask) != len(gt)) {
		return fmt.Errorf("probes: RMSE of %d predictions against %d depths (mask %d)", len(pred), len(gt), len(mask))
	}
	for i, g := range gt {
		if g <= 0 || (mask != nil && !mask[i]) {
			continue
		}
		d := float64(pred[i] - g)
		r.sum += d * d
		r.n++
	}
	return nil
}

// Value is sqrt(mean squared error), NaN with no valid pixel.
func (r *RMSE) Value() float64 {
	if r.n == 0 {
		return math.NaN()
	}
	return math.Sqrt(r.sum / float64(r.n))
}

// EigenCrop is the evaluation mask of Eigen et al. for an h×w map: rows 45..470 and columns
// 41..600 of a 480×640 image, scaled proportionally for other sizes.
func EigenCrop(h, w int) []bool {
	m := make([]bool, h*w)
	y0, y1 := 45*h/480, 471*h/480
	x0, x1 := 41*w/640, 601*w/640
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m[y*w+x] = true
		}
	}
	return m
}
