package dynamics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// exactQuantile is the type-7 quantile of v.
func exactQuantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

func meanStd(v []float64) (float64, float64) {
	m := meanOf(v)
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)))
}

func checkStat(t *testing.T, what string, got Stat, vals []float64, binWidth float64) {
	t.Helper()
	m, sd := meanStd(vals)
	if got.N != int64(len(vals)) {
		t.Errorf("%s: N = %d, want %d", what, got.N, len(vals))
	}
	near(t, what+" mean", got.Mean, m, 1e-10*(1+math.Abs(m)))
	near(t, what+" std", got.Std, sd, 1e-9*(1+sd))
	for _, q := range []struct {
		p   float64
		got float64
	}{{0.1, got.P10}, {0.5, got.P50}, {0.9, got.P90}} {
		// a histogram quantile lies within one bin of the order statistics around it
		want := exactQuantile(vals, q.p)
		tol := binWidth + 1e-12
		if binWidth > 0 {
			lo, hi := exactQuantile(vals, math.Max(q.p-1.0/float64(len(vals)), 0)), exactQuantile(vals, math.Min(q.p+1.0/float64(len(vals)), 1))
			if q.got < lo-tol || q.got > hi+tol {
				t.Errorf("%s P%.0f = %v, outside [%v, %v] ± %v", what, 100*q.p, q.got, lo, hi, tol)
			}
			continue
		}
		near(t, fmt.Sprintf("%s P%.0f", what, 100*q.p), q.got, want, 1e-12)
	}
}

// One accumulator fed image by image, two merged halves, AddBatch, and a brute-force computation
// over all images at once agree.
func TestStreamingEqualsAllAtOnce(t *testing.T) {
	layout := hidden.Layout{NumRegisters: 2, NumPatches: 9}
	const images, layers, dim = 5, 6, 7
	T := layout.NumTokens()
	rng := rand.New(rand.NewPCG(31, 32))
	batch := &hidden.Batch{Images: images, Layers: layers, Tokens: T, Dim: dim}
	for i := 0; i < images; i++ {
		batch.Data = append(batch.Data, randomStates(rng, layers, T, dim).Data...)
	}
	newAll := func() (*Convergence, *Speed, *UpdateField) {
		u, err := NewUpdateField(layout, UpdateFieldConfig{TopK: 3, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		return NewConvergence(layout), NewSpeed(layout), u
	}
	c1, s1, u1 := newAll()
	if err := AddBatch(batch, c1, s1, u1); err != nil {
		t.Fatal(err)
	}
	ca, sa, ua := newAll()
	cb, sb, ub := newAll()
	for i := 0; i < images; i++ {
		var err error
		if i < 2 {
			err = Feed(batch.Image(i), ca, sa, ua)
		} else {
			err = Feed(batch.Image(i), cb, sb, ub)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []error{ca.Merge(cb), sa.Merge(sb), ua.Merge(ub)} {
		if e != nil {
			t.Fatal(e)
		}
	}
	same := func(what string, a, b []Series) {
		if len(a) != len(b) {
			t.Fatalf("%s: %d vs %d series", what, len(a), len(b))
		}
		for i := range a {
			for l := range a[i].Stats {
				x, y := a[i].Stats[l], b[i].Stats[l]
				if x.N != y.N || math.Abs(x.Mean-y.Mean) > 1e-12 || math.Abs(x.Std-y.Std) > 1e-12 || x.P10 != y.P10 || x.P90 != y.P90 || x.P50 != y.P50 {
					t.Errorf("%s %v layer %d: streamed %+v, merged %+v", what, a[i].Scope, l, x, y)
				}
			}
		}
	}
	same("convergence", c1.Result().Groups, ca.Result().Groups)
	same("speed", s1.Result().Groups, sa.Result().Groups)
	same("stable rank", u1.Result().StableRank, ua.Result().StableRank)
	same("pairwise coherence", u1.Result().PairwiseCoherence, ua.Result().PairwiseCoherence)

	// Brute force over all images.
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for j := range a {
			ab += float64(a[j]) * float64(b[j])
			aa += float64(a[j]) * float64(a[j])
			bb += float64(b[j]) * float64(b[j])
		}
		return ab / math.Sqrt(aa*bb)
	}
	conv, speed := c1.Result(), s1.Result()
	upd := u1.Result()
	for _, sc := range GroupScopes {
		from, to := sc.Range(layout)
		cg, _ := conv.Group(sc)
		sg, _ := speed.Group(sc)
		for l := 0; l < layers; l++ {
			var gam, sp []float64
			for i := 0; i < images; i++ {
				s := batch.Image(i)
				for tk := from; tk < to; tk++ {
					gam = append(gam, cos(s.Token(l, tk), s.Token(layers-1, tk)))
					if l+1 < layers {
						sp = append(sp, math.Acos(cos(s.Token(l, tk), s.Token(l+1, tk))))
					}
				}
			}
			checkStat(t, fmt.Sprintf("γ %v layer %d", sc, l), cg.Stats[l], gam, 2.0/histBins)
			if l+1 < layers {
				checkStat(t, fmt.Sprintf("speed %v step %d", sc, l), sg.Stats[l], sp, math.Pi/histBins)
			}
		}
	}
	// Stable rank and coherence by brute force: naive Gram + Jacobi, naive pairwise cosines.
	for _, sc := range []Scope{ScopeAll, ScopePatches, ScopeRegisters} {
		from, to := sc.Range(layout)
		n := to - from
		rk, _ := upd.Rank(sc)
		pw, _ := upd.Pairwise(sc)
		tm, _ := upd.ToMean(sc)
		sv, _ := upd.Singular(sc)
		for l := 0; l+1 < layers; l++ {
			var ranks, pairs, toMeans, sv0 []float64
			for i := 0; i < images; i++ {
				s := batch.Image(i)
				d := make([][]float64, n)
				for k := range d {
					d[k] = make([]float64, dim)
					for j := range d[k] {
						d[k][j] = float64(s.Token(l+1, from+k)[j]) - float64(s.Token(l, from+k)[j])
					}
				}
				g := make([]float64, n*n)
				var fro float64
				for a := 0; a < n; a++ {
					for b := 0; b < n; b++ {
						g[a*n+b] = dot64(d[a], d[b])
					}
					fro += g[a*n+a]
				}
				ev, _ := jacobiEigen(g, n)
				ranks = append(ranks, fro/ev[0])
				sv0 = append(sv0, math.Sqrt(ev[0]))
				var ps float64
				mean := make([]float64, dim)
				for a := 0; a < n; a++ {
					for b := 0; b < n; b++ {
						if a != b {
							ps += g[a*n+b] / math.Sqrt(g[a*n+a]*g[b*n+b])
						}
					}
					for j := range mean {
						mean[j] += d[a][j] / float64(n)
					}
				}
				pairs = append(pairs, ps/float64(n*(n-1)))
				var tms float64
				for a := 0; a < n; a++ {
					tms += dot64(d[a], mean) / math.Sqrt(dot64(d[a], d[a])*dot64(mean, mean))
				}
				toMeans = append(toMeans, tms/float64(n))
			}
			checkStat(t, fmt.Sprintf("stable rank %v step %d", sc, l), rk.Stats[l], ranks, 0)
			checkStat(t, fmt.Sprintf("pairwise %v step %d", sc, l), pw.Stats[l], pairs, 0)
			checkStat(t, fmt.Sprintf("to-mean %v step %d", sc, l), tm.Stats[l], toMeans, 0)
			m0, _ := meanStd(sv0)
			near(t, fmt.Sprintf("σ0 %v step %d", sc, l), sv.Mean[l][0], m0, 1e-9*m0)
		}
	}
}

func TestSelfCorrectionMergeMatchesStream(t *testing.T) {
	layout := hidden.Layout{NumPatches: 4}
	m := contraction{a: 0.8, c: make([]float32, 5*6), layers: 5}
	rng := rand.New(rand.NewPCG(2, 3))
	for i := range m.c {
		m.c[i] = float32(rng.NormFloat64())
	}
	var imgs []*hidden.States
	for i := 0; i < 4; i++ {
		x0 := make([]float32, 5*6)
		for j := range x0 {
			x0[j] = float32(rng.NormFloat64())
		}
		imgs = append(imgs, m.states(x0, 5, 6))
	}
	cfg := PerturbConfig{Epsilon: 0.1, Tokens: ScopeAll, Seed: 3}
	one, _ := NewSelfCorrection(layout, m.runFrom, cfg)
	a, _ := NewSelfCorrection(layout, m.runFrom, cfg)
	b, _ := NewSelfCorrection(layout, m.runFrom, cfg)
	for i, s := range imgs {
		if err := one.Add(s); err != nil {
			t.Fatal(err)
		}
		target := a
		if i >= 2 {
			target = b
		}
		if err := target.AddWithID(s, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	r1, r2 := one.Result(), a.Result()
	for g := range r1.RelL2 {
		for l := range r1.RelL2[g].Stats {
			x, y := r1.RelL2[g].Stats[l], r2.RelL2[g].Stats[l]
			if x.N != y.N || math.Abs(x.Mean-y.Mean) > 1e-12*x.Mean || x.P50 != y.P50 {
				t.Errorf("group %d layer %d: streamed %+v, merged %+v", g, l, x, y)
			}
		}
	}
}
