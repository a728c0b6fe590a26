package dynamics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// planeImages builds images whose CLS path (and mean patch, as patches are the path ± a shared
// offset) lies in the plane c + span(u, v): x_l = c + a_l·u + b_l·v.
func planeImages(rng *rand.Rand, layout hidden.Layout, n, layers, dim int, sa, sb float64) (imgs []*hidden.States, ab [][][2]float64, u, v []float64) {
	basis := randomOrthonormal(rng, dim, 2)
	u, v = basis[0], basis[1]
	c := make([]float64, dim)
	for j := range c {
		c[j] = 3 * rng.NormFloat64()
	}
	off := make([]float64, dim)
	for j := range off {
		off[j] = rng.NormFloat64()
	}
	from, to := layout.Patches()
	for i := 0; i < n; i++ {
		s := hidden.NewStates(layers, layout.NumTokens(), dim)
		var path [][2]float64
		for l := 0; l < layers; l++ {
			a, b := sa*rng.NormFloat64(), sb*rng.NormFloat64()
			path = append(path, [2]float64{a, b})
			for j := 0; j < dim; j++ {
				x := c[j] + a*u[j] + b*v[j]
				s.Token(l, 0)[j] = float32(x)
				for t := from; t < to; t++ {
					sign := float64(1 - 2*((t-from)%2)) // patches alternate +off, −off: mean = x
					s.Token(l, t)[j] = float32(x + sign*off[j])
				}
			}
		}
		imgs, ab = append(imgs, s), append(ab, path)
	}
	return imgs, ab, u, v
}

func TestPCARecoversPlane(t *testing.T) {
	layout := hidden.Layout{NumPatches: 4}
	for _, c := range []struct {
		name   string
		kind   TrajectoryKind
		sa, sb float64
	}{
		{"CLS 2:1", TrajectoryCLS, 2, 1},
		{"mean patch 3:1", TrajectoryMeanPatch, 3, 1},
		{"CLS isotropic plane", TrajectoryCLS, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 22))
			imgs, ab, u, v := planeImages(rng, layout, 6, 7, 15, c.sa, c.sb)
			fit, err := NewPCAFit(layout, TrajectoryConfig{Kind: c.kind})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range imgs {
				if err := fit.Add(s); err != nil {
					t.Fatal(err)
				}
			}
			p, err := fit.Result(2)
			if err != nil {
				t.Fatal(err)
			}
			if p.Points != 42 {
				t.Errorf("points %d, want 42", p.Points)
			}
			// Both axes lie in span(u, v).
			for _, comp := range p.Components {
				pu, pv := dot64(comp, u), dot64(comp, v)
				near(t, "component in plane", pu*pu+pv*pv, 1, 1e-6)
				near(t, "unit component", dot64(comp, comp), 1, 1e-9)
			}
			near(t, "components orthogonal", dot64(p.Components[0], p.Components[1]), 0, 1e-6)
			near(t, "explained sums to 1", p.Explained[0]+p.Explained[1], 1, 1e-6)
			// The variances are the eigenvalues of the 2×2 sample covariance of (a, b).
			var ma, mb float64
			var all [][2]float64
			for _, path := range ab {
				all = append(all, path...)
			}
			for _, x := range all {
				ma += x[0]
				mb += x[1]
			}
			n := float64(len(all))
			ma, mb = ma/n, mb/n
			var saa, sbb, sab float64
			for _, x := range all {
				saa += (x[0] - ma) * (x[0] - ma) / n
				sbb += (x[1] - mb) * (x[1] - mb) / n
				sab += (x[0] - ma) * (x[1] - mb) / n
			}
			tr, det := saa+sbb, saa*sbb-sab*sab
			l1 := tr/2 + math.Sqrt(tr*tr/4-det)
			near(t, "top variance", p.Variance[0], l1, 1e-5*l1)
			near(t, "second variance", p.Variance[1], tr-l1, 1e-5*l1)

			// Projection preserves in-plane distances and carries the labels.
			tj, err := NewTrajectories(layout, p)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range imgs {
				if err := tj.Add(s, 100+i); err != nil {
					t.Fatal(err)
				}
			}
			res := tj.Result()
			if len(res.Trajectories) != 6 || res.Kind != c.kind {
				t.Fatalf("%d trajectories of kind %v", len(res.Trajectories), res.Kind)
			}
			for i, tr := range res.Trajectories {
				if tr.Label != 100+i || tr.Image != i || len(tr.X) != 7 || len(tr.Y) != 7 {
					t.Fatalf("trajectory %d: label %d image %d, %d/%d points", i, tr.Label, tr.Image, len(tr.X), len(tr.Y))
				}
				for l := 1; l < 7; l++ {
					dp := math.Hypot(tr.X[l]-tr.X[0], tr.Y[l]-tr.Y[0])
					da := math.Hypot(ab[i][l][0]-ab[i][0][0], ab[i][l][1]-ab[i][0][1])
					near(t, "projected distance", dp, da, 1e-4*(1+da))
				}
			}
		})
	}
}

func TestPCANormalizeAndLayers(t *testing.T) {
	layout := hidden.Layout{NumPatches: 2}
	// CLS at layer l is r_l·(cos φ_l, sin φ_l, 0, …): normalised, all points lie on the unit circle.
	s := hidden.NewStates(6, 3, 5)
	for l := 0; l < 6; l++ {
		r, phi := 1+float64(l), 0.4*float64(l)
		s.Token(l, 0)[0], s.Token(l, 0)[1] = float32(r*math.Cos(phi)), float32(r*math.Sin(phi))
	}
	fit, _ := NewPCAFit(layout, TrajectoryConfig{Kind: TrajectoryCLS, Normalize: true, Layers: []int{1, 2, 3, 4, 5}})
	if err := fit.Add(s); err != nil {
		t.Fatal(err)
	}
	p, err := fit.Result(2)
	if err != nil {
		t.Fatal(err)
	}
	tj, _ := NewTrajectories(layout, p)
	if err := tj.Add(s, 0); err != nil {
		t.Fatal(err)
	}
	tr := tj.Result().Trajectories[0]
	if len(tr.Layers) != 5 || tr.Layers[0] != 1 {
		t.Fatalf("layers %v, want 1..5", tr.Layers)
	}
	for l := 1; l < 5; l++ { // consecutive unit points are 2·sin(0.2) apart
		near(t, "chord", math.Hypot(tr.X[l]-tr.X[l-1], tr.Y[l]-tr.Y[l-1]), 2*math.Sin(0.2), 1e-6)
	}
	if _, err := fit.Result(6); err == nil {
		t.Error("more components than dims: want an error")
	}
	bad, _ := NewPCAFit(layout, TrajectoryConfig{Layers: []int{7}})
	if err := bad.Add(s); err == nil {
		t.Error("layer out of range: want an error")
	}
	if _, err := NewPCAFit(hidden.Layout{}, TrajectoryConfig{Kind: TrajectoryMeanPatch}); err == nil {
		t.Error("mean patch without patches: want an error")
	}
}
