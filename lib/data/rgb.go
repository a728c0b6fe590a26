package data

import (
	"image"
	"image/color"
)

// ToRGB converts a decoded image to H×W×3 RGB bytes (alpha is dropped, grey is replicated).
func ToRGB(img image.Image) (pix []uint8, h, w int) {
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	pix = make([]uint8, h*w*3)
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o := (y*w + x) * 3
				pix[o], pix[o+1], pix[o+2] = r, g, bl
			}
		}
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				o := (y*w + x) * 3
				pix[o], pix[o+1], pix[o+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				copy(pix[(y*w+x)*3:(y*w+x)*3+3], row[4*x:4*x+3])
			}
		}
	default:
		// General path, also right for premultiplied RGBA: un-premultiply through NRGBA.
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				o := (y*w + x) * 3
				pix[o], pix[o+1], pix[o+2] = c.R, c.G, c.B
			}
		}
	}
	return pix, h, w
}
