package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

// keys is the Keys cubic kernel with a = −0.5, written out in its expanded form.
func keys(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return 1.5*x*x*x - 2.5*x*x + 1
	case x < 2:
		return -0.5*x*x*x + 2.5*x*x - 4*x + 2
	}
	return 0
}

func triangle(x float64) float64 { return math.Max(0, 1-math.Abs(x)) }

// bruteResize evaluates the 2-D antialiased resampling sum directly over every input pixel.
func bruteResize(src []uint8, h, w, c, nh, nw int, k func(float64) float64) []float64 {
	sy, sx := float64(h)/float64(nh), float64(w)/float64(nw)
	fy, fx := math.Max(sy, 1), math.Max(sx, 1)
	out := make([]float64, nh*nw*c)
	for oy := range nh {
		for ox := range nw {
			cy, cx := (float64(oy)+0.5)*sy, (float64(ox)+0.5)*sx
			for ch := range c {
				var num, den float64
				for iy := range h {
					for ix := range w {
						wt := k((float64(iy)+0.5-cy)/fy) * k((float64(ix)+0.5-cx)/fx)
						num += wt * float64(src[(iy*w+ix)*c+ch])
						den += wt
					}
				}
				out[(oy*nw+ox)*c+ch] = math.Max(0, math.Min(255, num/den))
			}
		}
	}
	return out
}

func TestResizeAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		h, w, nh, nw int
		f            Filter
	}{
		{8, 8, 16, 16, Bicubic}, {8, 8, 3, 5, Bicubic}, {7, 11, 13, 4, Bicubic}, {32, 32, 224, 224, Bicubic},
		{8, 8, 16, 16, Bilinear}, {12, 9, 5, 5, Bilinear}, {6, 6, 7, 17, Bilinear},
	}
	for _, tc := range tests {
		const c = 3
		src := make([]uint8, tc.h*tc.w*c)
		for i := range src {
			src[i] = uint8(rng.IntN(256))
		}
		k := keys
		if tc.f == Bilinear {
			k = triangle
		}
		want := bruteResize(src, tc.h, tc.w, c, tc.nh, tc.nw, k)
		got := Resize(src, tc.h, tc.w, c, tc.nh, tc.nw, tc.f)
		for i := range got {
			if math.Abs(float64(got[i])-want[i]) > 0.5+1e-3 {
				t.Fatalf("%v %dx%d→%dx%d: value %d = %d, want %.3f", tc.f, tc.h, tc.w, tc.nh, tc.nw, i, got[i], want[i])
			}
		}
	}
}

func TestResizeConstant(t *testing.T) {
	src := make([]uint8, 5*7*3)
	for i := range src {
		src[i] = []uint8{10, 128, 250}[i%3]
	}
	for _, f := range []Filter{Bilinear, Bicubic} {
		for _, size := range [][2]int{{2, 3}, {11, 13}, {5, 7}} {
			got := Resize(src, 5, 7, 3, size[0], size[1], f)
			for i, v := range got {
				if v != []uint8{10, 128, 250}[i%3] {
					t.Fatalf("%v to %v: value %d = %d", f, size, i, v)
				}
			}
		}
	}
}

func TestShorterSideAndCenterCrop(t *testing.T) {
	sizes := []struct{ h, w, size, nh, nw int }{
		{300, 400, 256, 256, 341}, {400, 300, 256, 341, 256}, {32, 32, 256, 256, 256}, {480, 640, 224, 224, 298},
	}
	for _, s := range sizes {
		if nh, nw := ShorterSide(s.h, s.w, s.size); nh != s.nh || nw != s.nw {
			t.Errorf("ShorterSide(%d,%d,%d) = %d,%d want %d,%d", s.h, s.w, s.size, nh, nw, s.nh, s.nw)
		}
	}
	// 1-channel images whose pixel value is 10·row + column.
	crops := []struct{ h, w, ch, cw, top, left int }{
		{5, 5, 2, 3, 2, 1}, // (5−2)/2 = 1.5 → 2 (Python round), (5−3)/2 = 1
		{7, 6, 2, 2, 2, 2}, // 2.5 → 2, 2
		{4, 4, 4, 4, 0, 0},
	}
	for _, c := range crops {
		src := make([]uint8, c.h*c.w)
		for y := range c.h {
			for x := range c.w {
				src[y*c.w+x] = uint8(10*y + x)
			}
		}
		got, err := CenterCrop(src, c.h, c.w, 1, c.ch, c.cw)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != uint8(10*c.top+c.left) || got[len(got)-1] != uint8(10*(c.top+c.ch-1)+c.left+c.cw-1) {
			t.Errorf("CenterCrop %dx%d→%dx%d: corners %d,%d", c.h, c.w, c.ch, c.cw, got[0], got[len(got)-1])
		}
	}
	if _, err := CenterCrop(make([]uint8, 4), 2, 2, 1, 3, 1); err == nil {
		t.Errorf("oversized crop accepted")
	}
}

func TestDINOv2Preprocessor(t *testing.T) {
	p := DINOv2Preprocessor()
	rng := rand.New(rand.NewPCG(7, 8))
	const h, w = 30, 40
	src := make([]uint8, h*w*3)
	for i := range src {
		src[i] = uint8(rng.IntN(256))
	}
	out := make([]float32, p.OutputSize())
	if err := p.ApplyHWC(out, src, h, w); err != nil {
		t.Fatal(err)
	}
	if len(out) != 224*224*3 {
		t.Fatalf("%d values", len(out))
	}
	// Reference at sampled output pixels: brute-force bicubic to 256×341, crop offset (16, 58).
	nh, nw := 256, 341
	ref := bruteResizeAt(src, h, w, 3, nh, nw, keys)
	for _, yx := range [][2]int{{0, 0}, {100, 17}, {223, 223}, {5, 200}} {
		for c := range 3 {
			v := ref(yx[0]+16, yx[1]+58, c)
			want := (math.Round(v)/255 - float64(ImageNetStats.Mean[c])) / float64(ImageNetStats.Std[c])
			got := float64(out[(yx[0]*224+yx[1])*3+c])
			if math.Abs(got-want) > 1.01/255/0.224 {
				t.Errorf("pixel %v channel %d: %v, want %v", yx, c, got, want)
			}
		}
	}
}

// bruteResizeAt is bruteResize evaluated at single output pixels.
func bruteResizeAt(src []uint8, h, w, c, nh, nw int, k func(float64) float64) func(oy, ox, ch int) float64 {
	return func(oy, ox, ch int) float64 {
		sy, sx := float64(h)/float64(nh), float64(w)/float64(nw)
		cy, cx := (float64(oy)+0.5)*sy, (float64(ox)+0.5)*sx
		var num, den float64
		for iy := range h {
			for ix := range w {
				wt := k((float64(iy)+0.5-cy)/math.Max(sy, 1)) * k((float64(ix)+0.5-cx)/math.Max(sx, 1))
				num += wt * float64(src[(iy*w+ix)*c+ch])
				den += wt
			}
		}
		return math.Max(0, math.Min(255, num/den))
	}
}
