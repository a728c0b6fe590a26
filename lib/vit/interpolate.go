package vit

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// InterpolationMatrix returns the [outH*outW, inH*inW] float32 matrix that resizes a row-major
// inH×inW grid to outH×outW with bicubic interpolation (align_corners=False, as PyTorch's
// F.interpolate): the Kronecker product of the two 1-D resize matrices.
func InterpolationMatrix(inH, inW, outH, outW int, antialias bool) *tensors.Tensor {
	rh := ResizeMatrix1D(inH, outH, antialias)
	rw := ResizeMatrix1D(inW, outW, antialias)
	data := make([]float32, outH*outW*inH*inW)
	cols := inH * inW
	for oy := range outH {
		for ox := range outW {
			row := (oy*outW + ox) * cols
			for iy := range inH {
				wy := rh[oy][iy]
				if wy == 0 {
					continue
				}
				for ix := range inW {
					data[row+iy*inW+ix] = float32(wy * rw[ox][ix])
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(data, outH*outW, inH*inW)
}

// cubic is the Keys cubic convolution kernel with parameter a.
func cubic(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// ResizeMatrix1D returns the [out][in] weights of 1-D bicubic resizing with PyTorch's conventions:
// without antialias, a = -0.75 with the 4 nearest samples clamped at the borders
// (F.interpolate mode="bicubic", align_corners=False); with antialias, a = -0.5 with the kernel
// stretched by the downscale factor and weights renormalised at the borders
// (antialias=True; for upsampling the support stays 2).
func ResizeMatrix1D(in, out int, antialias bool) [][]float64 {
	m := make([][]float64, out)
	scale := float64(in) / float64(out)
	for o := range out {
		m[o] = make([]float64, in)
		if !antialias {
			src := (float64(o)+0.5)*scale - 0.5
			i0 := int(math.Floor(src))
			t := src - float64(i0)
			for k := -1; k <= 2; k++ {
				idx := min(max(i0+k, 0), in-1)
				m[o][idx] += cubic(float64(k)-t, -0.75)
			}
			continue
		}
		support := 2.0
		invScale := 1.0
		if scale > 1 {
			support *= scale
			invScale = 1 / scale
		}
		center := (float64(o) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		total := 0.0
		for j := lo; j < hi; j++ {
			w := cubic((float64(j)-center+0.5)*invScale, -0.5)
			m[o][j] = w
			total += w
		}
		if total != 0 {
			for j := lo; j < hi; j++ {
				m[o][j] /= total
			}
		}
	}
	return m
}
