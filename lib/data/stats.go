package data

import (
	"fmt"
	"math"
)

// Stats are per-channel normalisation statistics in units of the [0,1] pixel range:
// a pixel byte p of channel c becomes (p/255 − Mean[c]) / Std[c].
type Stats struct {
	Mean, Std []float32
}

// The usual normalisation statistics.
var (
	CIFAR100Stats = Stats{Mean: []float32{0.5071, 0.4865, 0.4409}, Std: []float32{0.2673, 0.2564, 0.2762}}
	CIFAR10Stats  = Stats{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	ImageNetStats = Stats{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
)

// Table returns, per channel, the normalised value of each of the 256 byte values.
func (s Stats) Table() [][256]float32 {
	t := make([][256]float32, len(s.Mean))
	for c := range s.Mean {
		for p := range 256 {
			t[c][p] = (float32(p)/255 - s.Mean[c]) / s.Std[c]
		}
	}
	return t
}

func (s Stats) check(channels int) error {
	if len(s.Mean) != channels || len(s.Std) != channels {
		return fmt.Errorf("data: normalisation stats have %d means and %d stds for %d channels",
			len(s.Mean), len(s.Std), channels)
	}
	for c, v := range s.Std {
		if !(v > 0) {
			return fmt.Errorf("data: normalisation std of channel %d is %v", c, v)
		}
	}
	return nil
}

// Normalize writes the normalised float32 values of the HWC bytes src into dst (same length).
func Normalize(dst []float32, src []uint8, s Stats) {
	c := len(s.Mean)
	tab := s.Table()
	for i, p := range src {
		dst[i] = tab[i%c][p]
	}
}

// ComputeStats measures the per-channel mean and standard deviation of a data set's pixels in
// [0,1] units (population std). A channel with zero spread gets std 1.
func ComputeStats(d *Dataset) Stats {
	sum := make([]float64, d.C)
	sq := make([]float64, d.C)
	for i, p := range d.Pixels {
		v := float64(p) / 255
		sum[i%d.C] += v
		sq[i%d.C] += v * v
	}
	n := float64(len(d.Pixels) / d.C)
	s := Stats{Mean: make([]float32, d.C), Std: make([]float32, d.C)}
	for c := range d.C {
		m := sum[c] / n
		v := sq[c]/n - m*m
		s.Mean[c] = float32(m)
		s.Std[c] = 1
		if v > 1e-12 {
			s.Std[c] = float32(math.Sqrt(v))
		}
	}
	return s
}
