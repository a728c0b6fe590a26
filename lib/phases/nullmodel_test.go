package phases

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBlockIndexByHand(t *testing.T) {
	w := [][]float64{
		{0, 1, 4, 4},
		{1, 0, 4, 4},
		{4, 4, 0, 3},
		{4, 4, 3, 0},
	}
	p := Partition{{0, 1}, {2, 3}}
	got, err := BlockIndex(w, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := ((1.0 + 3) / 2) / 4; !near(got, want) {
		t.Errorf("BlockIndex = %v, want %v", got, want)
	}
	// Smooth drift: diagonal 1 = (1+4+3)/3, diagonal 2 = 4, diagonal 3 = 4.
	d := SmoothDrift(w)
	if !near(d[0][1], 8.0/3) || !near(d[2][3], 8.0/3) || !near(d[0][2], 4) || !near(d[0][3], 4) || d[1][1] != 0 {
		t.Errorf("SmoothDrift = %v", d)
	}
	c, err := CompareToDrift(w, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := (8.0 / 3) / ((3*4 + 8.0/3) / 4); !near(c.DriftIndex, want) || !near(c.Ratio, c.Index/want) {
		t.Errorf("CompareToDrift = %+v, want drift index %v", c, want)
	}
	if _, err := BlockIndex(w, Partition{{0, 1, 2, 3}}); err == nil {
		t.Error("one phase accepted")
	}
	if _, err := BlockIndex(w, Partition{{0}, {1}, {2}, {3}}); err == nil {
		t.Error("singletons accepted")
	}
}

// Planted blocks on top of drift are more block-like than the drift alone; pure drift is not.
func TestNullModelSeparatesBlocksFromDrift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	p, _ := FromSizes([]int{4, 4, 4})
	blocky := layerLike([]int{4, 4, 4}, 0.3, 1, 0.02, rng)
	drift := layerLike([]int{12}, 1, 0, 0.02, rng)
	cb, err := CompareToDrift(blocky, p)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := CompareToDrift(drift, p)
	if err != nil {
		t.Fatal(err)
	}
	if !(cb.Ratio < 0.6) || !(math.Abs(cd.Ratio-1) < 0.1) {
		t.Errorf("blocky ratio %v (want < 0.6), drift ratio %v (want ≈ 1)", cb.Ratio, cd.Ratio)
	}
	bs, err := BoundaryStrengths(blocky, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Ratio < 3 {
			t.Errorf("planted boundary %+v is weak", b)
		}
	}
}

func TestBoundaryStrengthsByHand(t *testing.T) {
	// Adjacent dissimilarities 1, 2 | 6 | 4.
	w := newSquare(5)
	for i, v := range []float64{1, 2, 6, 4} {
		w[i][i+1], w[i+1][i] = v, v
	}
	bs, err := BoundaryStrengths(w, Partition{{0, 1, 2}, {3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].After != 3 || bs[0].Jump != 6 || !near(bs[0].Inside, 7.0/3) ||
		!near(bs[0].Ratio, 18.0/7) || !near(bs[0].Difference, 6-7.0/3) {
		t.Errorf("BoundaryStrengths = %+v", bs)
	}
	bs, _ = BoundaryStrengths(w, Partition{{0, 1, 2}, {3}, {4}})
	if !math.IsNaN(bs[1].Inside) {
		t.Errorf("boundary between single layers: %+v", bs[1])
	}
	if _, err := BoundaryStrengths(w, Partition{{0, 2}, {1, 3, 4}}); err == nil {
		t.Error("non-contiguous partition accepted")
	}
}
