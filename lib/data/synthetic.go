package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Synthetic generates n size×size RGB images of a learnable task with the given number of
// classes, deterministically from seed.
//
// Each class has a fixed signature, the same for every seed: a colour (hue spread over the
// classes), a position on a 3×3 grid and a radius. An image of class c is a dim random background
// with a soft disc of c's colour around c's position, jittered in position (±size/8), radius
// (±15%) and brightness, plus Gaussian pixel noise (σ = 12 grey levels). Labels are balanced (the
// class counts differ by at most one) and come in a seeded random order. Stats are measured on
// the images.
func Synthetic(n, size, classes int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 0x5e7e71c))
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i % classes)
	}
	rng.Shuffle(n, func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	names := make([]string, classes)
	for c := range names {
		names[c] = fmt.Sprintf("class%02d", c)
	}
	d := &Dataset{
		Name: "synthetic", Kind: KindSynthetic,
		Source: fmt.Sprintf("Synthetic(n=%d, size=%d, classes=%d, seed=%d)", n, size, classes, seed),
		H:      size, W: size, C: 3, Pixels: make([]uint8, n*size*size*3), Labels: labels,
		NumClasses: classes, ClassNames: names,
	}
	for i := range n {
		drawSynthetic(d.Image(i), size, classSignature(int(labels[i]), classes, size), rng)
	}
	d.Stats = ComputeStats(d)
	return d
}

type signature struct {
	rgb       [3]float64 // in [0,1]
	cy, cx, r float64
}

// classSignature is class c's colour, centre and radius; it does not depend on any seed.
func classSignature(c, classes, size int) signature {
	hue := float64(c) / float64(classes)
	pos := (c * 4) % 9 // 4 is coprime with 9: neighbouring classes sit apart
	s := float64(size)
	return signature{
		rgb: hsvToRGB(hue, 0.85, 0.95),
		cy:  s * (0.25 + 0.25*float64(pos/3)),
		cx:  s * (0.25 + 0.25*float64(pos%3)),
		r:   s * (0.16 + 0.06*float64(c%3)),
	}
}

func drawSynthetic(img []uint8, size int, sig signature, rng *rand.Rand) {
	var bg [3]float64
	for ch := range bg {
		bg[ch] = 20 + 60*rng.Float64()
	}
	jit := float64(size) / 8
	cy := sig.cy + (2*rng.Float64()-1)*jit
	cx := sig.cx + (2*rng.Float64()-1)*jit
	r := sig.r * (0.85 + 0.3*rng.Float64())
	bright := 0.8 + 0.2*rng.Float64()
	for y := range size {
		for x := range size {
			d := math.Hypot(float64(y)+0.5-cy, float64(x)+0.5-cx)
			a := 1 / (1 + math.Exp((d-r)/1.5)) // soft edge
			for ch := range 3 {
				v := (1-a)*bg[ch] + a*255*sig.rgb[ch]*bright + 12*rng.NormFloat64()
				img[(y*size+x)*3+ch] = uint8(max(0, min(255, math.Round(v))))
			}
		}
	}
}

// hsvToRGB converts hue h ∈ [0,1), saturation s and value v to RGB in [0,1].
func hsvToRGB(h, s, v float64) [3]float64 {
	h6 := h * 6
	i := int(h6) % 6
	f := h6 - math.Floor(h6)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch i {
	case 0:
		return [3]float64{v, t, p}
	case 1:
		return [3]float64{q, v, p}
	case 2:
		return [3]float64{p, v, t}
	case 3:
		return [3]float64{p, q, v}
	case 4:
		return [3]float64{t, p, v}
	}
	return [3]float64{v, p, q}
}
