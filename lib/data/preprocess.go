package data

import (
	"fmt"
	"image"
)

// Preprocessor is DINOv2-style evaluation preprocessing: resize so that the shorter side is
// Resize pixels (Filter, bicubic for DINOv2), cut the central Crop×Crop window, and normalise
// with Stats. The output is Crop×Crop×3 float32, HWC.
type Preprocessor struct {
	Resize, Crop int
	Filter       Filter
	Stats        Stats
}

// DINOv2Preprocessor is Resize(256, bicubic) → CenterCrop(224) → ImageNet normalisation.
func DINOv2Preprocessor() Preprocessor {
	return Preprocessor{Resize: 256, Crop: 224, Filter: Bicubic, Stats: ImageNetStats}
}

// OutputSize is the number of float32 values of one preprocessed image.
func (p Preprocessor) OutputSize() int { return p.Crop * p.Crop * len(p.Stats.Mean) }

// ApplyHWC preprocesses the h×w×C bytes src into dst (length OutputSize).
func (p Preprocessor) ApplyHWC(dst []float32, src []uint8, h, w int) error {
	c := len(p.Stats.Mean)
	if err := p.Stats.check(c); err != nil {
		return err
	}
	if len(src) != h*w*c {
		return fmt.Errorf("data: preprocess: %d bytes for a %dx%dx%d image", len(src), h, w, c)
	}
	if len(dst) != p.OutputSize() {
		return fmt.Errorf("data: preprocess: output has %d values, want %d", len(dst), p.OutputSize())
	}
	nh, nw := ShorterSide(h, w, p.Resize)
	resized := Resize(src, h, w, c, nh, nw, p.Filter)
	crop, err := CenterCrop(resized, nh, nw, c, p.Crop, p.Crop)
	if err != nil {
		return err
	}
	normalizeTab(dst, crop, p.Stats.Table())
	return nil
}

// Apply preprocesses a decoded image (converted to RGB) and returns Crop×Crop×3 float32 HWC.
func (p Preprocessor) Apply(img image.Image) ([]float32, error) {
	pix, h, w := ToRGB(img)
	dst := make([]float32, p.OutputSize())
	return dst, p.ApplyHWC(dst, pix, h, w)
}

// Batch preprocesses the images idx of ds into one NHWC float32 batch, using workers goroutines
// (0: GOMAXPROCS).
func (p Preprocessor) Batch(ds *Dataset, idx []int, workers int) ([]float32, error) {
	n := p.OutputSize()
	out := make([]float32, len(idx)*n)
	err := parallelFor(len(idx), workers, func(j int) error {
		return p.ApplyHWC(out[j*n:(j+1)*n], ds.Image(idx[j]), ds.H, ds.W)
	})
	return out, err
}
