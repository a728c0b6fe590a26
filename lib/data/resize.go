package data

import (
	"fmt"
	"math"
)

// Filter is a resampling kernel for Resize.
type Filter int

const (
	Bilinear Filter = iota // triangle kernel, support 1
	Bicubic                // Keys cubic with a = −0.5 (as PIL), support 2
)

func (f Filter) String() string {
	switch f {
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	}
	return fmt.Sprintf("Filter(%d)", int(f))
}

func (f Filter) support() float64 {
	if f == Bicubic {
		return 2
	}
	return 1
}

func (f Filter) eval(x float64) float64 {
	x = math.Abs(x)
	if f == Bicubic {
		const a = -0.5
		switch {
		case x < 1:
			return ((a+2)*x-(a+3))*x*x + 1
		case x < 2:
			return ((a*x-5*a)*x+8*a)*x - 4*a
		}
		return 0
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// weights are the resampling weights of one output coordinate: inputs first, first+1, ...
type weights struct {
	first int
	w     []float32
}

// resampleWeights computes, for each of out output samples over in input samples, the input
// range and normalised weights. Sample centres sit at half-integers (pixel-area alignment, like
// PIL and torchvision's align_corners=False); when shrinking, the kernel is stretched by the
// scale factor so that every input pixel contributes (antialiasing), as PIL does.
func resampleWeights(in, out int, f Filter) []weights {
	scale := float64(in) / float64(out)
	fscale := max(scale, 1)
	support := f.support() * fscale
	ws := make([]weights, out)
	for o := range out {
		center := (float64(o) + 0.5) * scale
		lo := max(int(math.Floor(center-support+0.5)), 0)
		hi := min(int(math.Floor(center+support+0.5)), in)
		var sum float64
		raw := make([]float64, hi-lo)
		for i := range raw {
			raw[i] = f.eval((float64(i+lo) - center + 0.5) / fscale)
			sum += raw[i]
		}
		w := make([]float32, len(raw))
		for i := range raw {
			if sum != 0 {
				w[i] = float32(raw[i] / sum)
			}
		}
		ws[o] = weights{first: lo, w: w}
	}
	return ws
}

// Resize resamples the H×W×C bytes src to nh×nw×C with the filter f, separably (rows, then
// columns), rounding and clamping the result to bytes. A same-size resize returns a copy.
func Resize(src []uint8, h, w, c, nh, nw int, f Filter) []uint8 {
	if nh == h && nw == w {
		return append([]uint8(nil), src...)
	}
	wx := resampleWeights(w, nw, f)
	wy := resampleWeights(h, nh, f)
	// Horizontal pass: h × nw × c floats.
	tmp := make([]float32, h*nw*c)
	for y := range h {
		row := src[y*w*c : (y+1)*w*c]
		for x, wt := range wx {
			out := tmp[(y*nw+x)*c : (y*nw+x)*c+c]
			for k, v := range wt.w {
				in := row[(wt.first+k)*c : (wt.first+k)*c+c]
				for ch := range c {
					out[ch] += v * float32(in[ch])
				}
			}
		}
	}
	// Vertical pass.
	dst := make([]uint8, nh*nw*c)
	acc := make([]float32, nw*c)
	for y, wt := range wy {
		clear(acc)
		for k, v := range wt.w {
			in := tmp[(wt.first+k)*nw*c : (wt.first+k+1)*nw*c]
			for i, p := range in {
				acc[i] += v * p
			}
		}
		out := dst[y*nw*c : (y+1)*nw*c]
		for i, a := range acc {
			out[i] = clampByte(a)
		}
	}
	return dst
}

func clampByte(v float32) uint8 {
	v = float32(math.Round(float64(v)))
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// ShorterSide returns the size (nh, nw) that scales the shorter side of an h×w image to size and
// the longer one in proportion, truncated as torchvision's Resize(size) does.
func ShorterSide(h, w, size int) (nh, nw int) {
	if h <= w {
		return size, int(float64(size) * float64(w) / float64(h))
	}
	return int(float64(size) * float64(h) / float64(w)), size
}

// CenterCrop cuts the central ch×cw window out of the H×W×C bytes src, with torchvision's
// rounding of the offsets. The crop must fit inside the image.
func CenterCrop(src []uint8, h, w, c, ch, cw int) ([]uint8, error) {
	if ch > h || cw > w || ch <= 0 || cw <= 0 {
		return nil, fmt.Errorf("data: centre crop %dx%d does not fit a %dx%d image", ch, cw, h, w)
	}
	top := int(math.RoundToEven(float64(h-ch) / 2)) // Python round(), as torchvision
	left := int(math.RoundToEven(float64(w-cw) / 2))
	dst := make([]uint8, ch*cw*c)
	for y := range ch {
		copy(dst[y*cw*c:(y+1)*cw*c], src[((top+y)*w+left)*c:((top+y)*w+left+cw)*c])
	}
	return dst, nil
}
