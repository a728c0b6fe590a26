package phases

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBisectionAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for n := 1; n <= 10; n++ {
		for trial := range 3 {
			w := randSym(n, 0, 1, rng)
			for _, frac := range []float64{0, 0.02, 0.05, 0.1, 0.2, 0.3} {
				for _, minSize := range []int{1, 2, 3} {
					for _, limit := range []int{40, -1} {
						name := fmt.Sprintf("n=%d/%d/frac=%v/min=%d/limit=%d", n, trial, frac, minSize, limit)
						t.Run(name, func(t *testing.T) {
							got, err := RecursiveBisection(w, BisectionOptions{EpsFrac: frac, MinSize: minSize, MaxCut: MaxCutOptions{EnumerationLimit: limit}})
							if err != nil {
								t.Fatal(err)
							}
							want := refBisection(w, seq(0, n), frac*TotalWeight(w), minSize).Canonical()
							if got.Partition.String() != want.String() {
								t.Fatalf("got %s, reference %s", got.Partition, want)
							}
							if err := got.Partition.Validate(n); err != nil {
								t.Fatal(err)
							}
							for _, sp := range got.Splits {
								if sp.Accepted != (sp.Cut > got.Eps) {
									t.Fatalf("split %v: cut %v, eps %v, accepted %v", sp.Cluster, sp.Cut, got.Eps, sp.Accepted)
								}
							}
						})
					}
				}
			}
		}
	}
}

// A planted hierarchy: two halves far apart (1), each made of two sub-blocks at 0.5, 0.05 inside.
func hierarchy(rng *rand.Rand) [][]float64 {
	w := newSquare(12)
	for i := range 12 {
		for j := i + 1; j < 12; j++ {
			v := 0.05
			switch {
			case i/6 != j/6:
				v = 1
			case i/3 != j/3:
				v = 0.5
			}
			v += 0.02 * rng.Float64()
			w[i][j], w[j][i] = v, v
		}
	}
	return w
}

func TestBisectionRecoversPlantedHierarchy(t *testing.T) {
	w := hierarchy(rand.New(rand.NewPCG(12, 13)))
	for _, tc := range []struct {
		opts BisectionOptions
		want string
	}{
		{BisectionOptions{EpsFrac: 0.9}, "1-12"},
		{BisectionOptions{EpsFrac: 0.2}, "1-6 7-12"},
		{BisectionOptions{EpsFrac: 0.05}, "1-3 4-6 7-9 10-12"},
		{BisectionOptions{EpsFrac: 0.05, MinSize: 4}, "1-6 7-12"}, // halves of 6 < 2·4 are not split
		{BisectionOptions{EpsFrac: 0.05, MaxCut: MaxCutOptions{EnumerationLimit: -1}}, "1-3 4-6 7-9 10-12"},
	} {
		got, err := RecursiveBisection(w, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Partition.String() != tc.want {
			t.Errorf("%+v: %s, want %s", tc.opts, got.Partition, tc.want)
		}
	}
	// MaxPhases = 3 splits the root, then the half with the larger gain... both halves carry the
	// root's cut as gain, so the first-inserted (the half holding layer 1) is split first.
	got, err := RecursiveBisection(w, BisectionOptions{EpsFrac: 0.05, MaxPhases: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got.Partition.String() != "1-3 4-6 7-12" {
		t.Errorf("MaxPhases 3: %s", got.Partition)
	}
}

func TestEpsIntervalsMatchKForEps(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for trial := range 8 {
		var w [][]float64
		if trial%2 == 0 {
			w = randSym(9, 0, 1, rng)
		} else {
			w = layerLike([]int{3, 4, 3, 2}, 1, 0.3, 0.1, rng)
		}
		iv, err := EpsIntervals(w, BisectionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for x, in := range iv {
			if x > 0 && iv[x-1].FracHi != in.FracLo {
				t.Errorf("trial %d: intervals %v are not adjacent", trial, iv)
			}
			// Probe inside the interval (its ends are exact only up to rounding of frac × total).
			probes := []float64{in.FracLo + 1}
			if !math.IsInf(in.FracHi, 1) {
				probes = []float64{(in.FracLo + in.FracHi) / 2, in.FracLo + 0.99*(in.FracHi-in.FracLo)}
			}
			for _, frac := range probes {
				k, err := KForEps(w, BisectionOptions{EpsFrac: frac})
				if err != nil {
					t.Fatal(err)
				}
				if k != in.K {
					t.Errorf("trial %d: frac %v gives k=%d, interval %+v", trial, frac, k, in)
				}
			}
		}
		if last := iv[len(iv)-1]; last.K != 1 || !math.IsInf(last.FracHi, 1) {
			t.Errorf("trial %d: last interval %+v", trial, last)
		}
	}
}

func TestBisectionErrors(t *testing.T) {
	w := randSym(4, 0, 1, rand.New(rand.NewPCG(1, 1)))
	if _, err := RecursiveBisection(w, BisectionOptions{EpsFrac: -0.1}); err == nil {
		t.Error("negative EpsFrac accepted")
	}
	w[0][1] = math.NaN()
	if _, err := RecursiveBisection(w, BisectionOptions{EpsFrac: 0.1}); err == nil {
		t.Error("NaN accepted")
	}
}
