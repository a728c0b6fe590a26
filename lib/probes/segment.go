package probes

import (
	"fmt"
	"math"
)

// IgnoreLabel marks pixels without a class (ADE20k's background after remapping).
const IgnoreLabel = 255

// UpsampleBilinear resizes a gh×gw×c field (row-major, channels last) to h×w×c with bilinear
// interpolation, align_corners=False (PyTorch's F.interpolate convention: source coordinate
// (y+0.5)·gh/h − 0.5, clamped at 0).
func UpsampleBilinear(src []float32, gh, gw, c, h, w int) []float32 {
	out := make([]float32, h*w*c)
	ys, xs := linearTaps(gh, h), linearTaps(gw, w)
	for y, ty := range ys {
		for x, tx := range xs {
			dst := out[(y*w+x)*c : (y*w+x+1)*c]
			for _, a := range [2]tap{{ty.i0, 1 - ty.f}, {ty.i1, ty.f}} {
				for _, b := range [2]tap{{tx.i0, 1 - tx.f}, {tx.i1, tx.f}} {
					wgt := float32(a.f * b.f)
					if wgt == 0 {
						continue
					}
					s := src[(a.i0*gw+b.i0)*c : (a.i0*gw+b.i0+1)*c]
					for k, v := range s {
						dst[k] += wgt * v
					}
				}
			}
		}
	}
	return out
}

type tap struct {
	i0 int
	f  float64
}

type taps struct {
	i0, i1 int
	f      float64
}

func linearTaps(in, out int) []taps {
	t := make([]taps, out)
	scale := float64(in) / float64(out)
	for o := range out {
		s := math.Max((float64(o)+0.5)*scale-0.5, 0)
		i0 := min(int(s), in-1)
		t[o] = taps{i0: i0, i1: min(i0+1, in-1), f: s - float64(i0)}
	}
	return t
}

// PatchLabels assigns each cell of a gh×gw patch grid the majority label of its pixels in an
// h×w label map, ignoring IgnoreLabel pixels (a cell with none gets IgnoreLabel). Cell (gy, gx)
// covers rows gy·h/gh ... (gy+1)·h/gh − 1 and the same for columns.
func PatchLabels(labels []int32, h, w, gh, gw int) []int32 {
	out := make([]int32, gh*gw)
	counts := map[int32]int{}
	for gy := range gh {
		for gx := range gw {
			clear(counts)
			for y := gy * h / gh; y < (gy+1)*h/gh; y++ {
				for x := gx * w / gw; x < (gx+1)*w/gw; x++ {
					if l := labels[y*w+x]; l != IgnoreLabel {
						counts[l]++
					}
				}
			}
			best, bestN := int32(IgnoreLabel), 0
			for l, n := range counts {
				if n > bestN || (n == bestN && l < best) {
					best, bestN = l, n
				}
			}
			out[gy*gw+gx] = best
		}
	}
	return out
}

// PredictSegmentation applies the per-patch head to one image's patch features (gh·gw×In),
// upsamples the logits bilinearly to h×w and returns the argmax class of every pixel.
func PredictSegmentation(head *Linear, patches []float32, gh, gw, h, w int) []int32 {
	logits := make([]float32, gh*gw*head.Out)
	for p := range gh * gw {
		head.Logits(logits[p*head.Out:(p+1)*head.Out], patches[p*head.In:(p+1)*head.In])
	}
	up := UpsampleBilinear(logits, gh, gw, head.Out, h, w)
	out := make([]int32, h*w)
	for i := range out {
		out[i] = int32(argmax(up[i*head.Out : (i+1)*head.Out]))
	}
	return out
}

// Confusion is a C×C confusion matrix: M[gt·C + pred] counts pixels.
type Confusion struct {
	C int
	M []int64
}

// NewConfusion returns an empty matrix for c classes.
func NewConfusion(c int) *Confusion { return &Confusion{C: c, M: make([]int64, c*c)} }

// Add counts the pixels of one prediction; ground-truth pixels equal to IgnoreLabel are skipped.
func (cm *Confusion) Add(pred, gt []int32) error {
	if len(pred) != len(gt) {
		return fmt.Errorf("probes: %d predicted pixels for %d labelled ones", len(pred), len(gt))
	}
	for i, g := range gt {
		if g == IgnoreLabel {
			continue
		}
		p := pred[i]
		if g < 0 || int(g) >= cm.C || p < 0 || int(p) >= cm.C {
			return fmt.Errorf("probes: pixel %d has label %d / prediction %d outside [0, %d)", i, g, p, cm.C)
		}
		cm.M[int(g)*cm.C+int(p)]++
	}
	return nil
}

// IoU returns each class's intersection over union TP/(TP+FP+FN), NaN for a class that appears
// neither in the ground truth nor in the predictions.
func (cm *Confusion) IoU() []float64 {
	iou := make([]float64, cm.C)
	for c := range cm.C {
		var row, col int64
		for k := range cm.C {
			row += cm.M[c*cm.C+k]
			col += cm.M[k*cm.C+c]
		}
		tp := cm.M[c*cm.C+c]
		union := row + col - tp
		if union == 0 {
			iou[c] = math.NaN()
			continue
		}
		iou[c] = float64(tp) / float64(union)
	}
	return iou
}

// MeanIoU averages IoU over the classes present (in ground truth or predictions).
func (cm *Confusion) MeanIoU() float64 {
	s, n := 0.0, 0
	for _, v := range cm.IoU() {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
