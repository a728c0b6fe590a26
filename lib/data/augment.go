package data

import "math/rand/v2"

// Crop describes one random-crop-and-flip augmentation of an H×W image: the image is padded with
// Pad zero pixels on every side, the H×W window whose top-left corner is (DY, DX) in the padded
// image is cut out (0 ≤ DY, DX ≤ 2·Pad), and it is mirrored left-right if Flip.
//
// This is torchvision's RandomCrop(size, padding=Pad) followed by RandomHorizontalFlip, applied to
// pixel bytes before normalisation (so the padding is black, value 0).
type Crop struct {
	Pad, DY, DX int
	Flip        bool
}

// RandomCrop draws a crop offset uniformly in [0, 2·pad]² and a flip with probability ½.
func RandomCrop(rng *rand.Rand, pad int, flip bool) Crop {
	cr := Crop{Pad: pad}
	if pad > 0 {
		cr.DY = rng.IntN(2*pad + 1)
		cr.DX = rng.IntN(2*pad + 1)
	}
	if flip {
		cr.Flip = rng.IntN(2) == 1
	}
	return cr
}

// Identity is the crop that changes nothing.
func (cr Crop) Identity() bool { return cr.DY == cr.Pad && cr.DX == cr.Pad && !cr.Flip }

// Apply writes the augmented H×W×C image src into dst (same size).
func (cr Crop) Apply(dst, src []uint8, h, w, c int) {
	for y := range h {
		sy := y + cr.DY - cr.Pad
		row := dst[y*w*c : (y+1)*w*c]
		if sy < 0 || sy >= h {
			clear(row)
			continue
		}
		for x := range w {
			xo := x
			if cr.Flip {
				xo = w - 1 - x
			}
			sx := x + cr.DX - cr.Pad
			out := row[xo*c : xo*c+c]
			if sx < 0 || sx >= w {
				clear(out)
				continue
			}
			copy(out, src[(sy*w+sx)*c:(sy*w+sx)*c+c])
		}
	}
}

// applyNormalized is Apply followed by normalisation with the per-channel tables tab, fused.
func (cr Crop) applyNormalized(dst []float32, src []uint8, h, w, c int, tab [][256]float32) {
	for y := range h {
		sy := y + cr.DY - cr.Pad
		for x := range w {
			xo := x
			if cr.Flip {
				xo = w - 1 - x
			}
			sx := x + cr.DX - cr.Pad
			out := dst[(y*w+xo)*c : (y*w+xo)*c+c]
			if sy < 0 || sy >= h || sx < 0 || sx >= w {
				for ch := range c {
					out[ch] = tab[ch][0]
				}
				continue
			}
			in := src[(sy*w+sx)*c : (sy*w+sx)*c+c]
			for ch := range c {
				out[ch] = tab[ch][in[ch]]
			}
		}
	}
}
