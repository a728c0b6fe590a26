package phases

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

var testLayout = hidden.Layout{NumRegisters: 2, NumPatches: 5}

// randomImages returns images with a per-layer offset, so layers differ in mean and direction.
func randomImages(count, layers, dim int, seed uint64) []*hidden.States {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []*hidden.States
	for range count {
		s := hidden.NewStates(layers, testLayout.NumTokens(), dim)
		for l := range layers {
			for t := range s.Tokens {
				for d, v := range s.Token(l, t) {
					_ = v
					s.Token(l, t)[d] = float32(rng.NormFloat64() + 0.7*float64(l*(d%3)) - 0.5*float64(d%2))
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

func vec(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// directCLSMeanPatch computes the paper's W over all images at once, straight from the formula.
func directCLSMeanPatch(imgs []*hidden.States, first int) [][]float64 {
	rows := imgs[0].Layers - first
	w := newSquare(rows)
	from, to := testLayout.Patches()
	for _, s := range imgs {
		cls := make([][]float64, rows)
		mean := make([][]float64, rows)
		for r := range rows {
			cls[r] = vec(s.Token(first+r, 0))
			mean[r] = make([]float64, s.Dim)
			for t := from; t < to; t++ {
				for d, x := range s.Token(first+r, t) {
					mean[r][d] += float64(x) / float64(to-from)
				}
			}
		}
		for i := range rows {
			for j := range rows {
				if i != j {
					w[i][j] += ((1 - cosine(cls[i], cls[j])) + (1 - cosine(mean[i], mean[j]))) / float64(len(imgs))
				}
			}
		}
	}
	return w
}

func directTokenCosine(imgs []*hidden.States, first int) [][]float64 {
	rows := imgs[0].Layers - first
	w := newSquare(rows)
	n := float64(len(imgs) * imgs[0].Tokens)
	for _, s := range imgs {
		for i := range rows {
			for j := range rows {
				if i == j {
					continue
				}
				for t := range s.Tokens {
					w[i][j] += (1 - cosine(vec(s.Token(first+i, t)), vec(s.Token(first+j, t)))) / n
				}
			}
		}
	}
	return w
}

// directCKA stacks every token of every image into N×D matrices and computes linear CKA with
// centred N×N Gram matrices: HSIC(K, L) = tr(K H L H).
func directCKA(imgs []*hidden.States, first int) [][]float64 {
	rows := imgs[0].Layers - first
	grams := make([][][]float64, rows)
	for r := range rows {
		var x [][]float64
		for _, s := range imgs {
			for t := range s.Tokens {
				x = append(x, vec(s.Token(first+r, t)))
			}
		}
		n := len(x)
		k := newSquare(n)
		for a := range n {
			for b := range n {
				for d := range x[a] {
					k[a][b] += x[a][d] * x[b][d]
				}
			}
		}
		// Centre: H K H with H = I − 11ᵀ/n.
		rowMean := make([]float64, n)
		all := 0.0
		for a := range n {
			for b := range n {
				rowMean[a] += k[a][b] / float64(n)
			}
			all += rowMean[a] / float64(n)
		}
		for a := range n {
			for b := range n {
				k[a][b] += all - rowMean[a] - rowMean[b]
			}
		}
		grams[r] = k
	}
	hsic := func(a, b [][]float64) float64 {
		s := 0.0
		for i := range a {
			for j := range a {
				s += a[i][j] * b[i][j]
			}
		}
		return s
	}
	w := newSquare(rows)
	for i := range rows {
		for j := range rows {
			if i != j {
				w[i][j] = 1 - hsic(grams[i], grams[j])/math.Sqrt(hsic(grams[i], grams[i])*hsic(grams[j], grams[j]))
			}
		}
	}
	return w
}

func TestSimilarityAgainstDirect(t *testing.T) {
	imgs := randomImages(5, 4, 6, 1)
	for _, embed := range []bool{false, true} {
		opts := SimilarityOptions{Layout: testLayout, IncludeEmbedding: embed}
		first := 1
		if embed {
			first = 0
		}
		for _, tc := range []struct {
			name   string
			acc    Accumulator
			direct func([]*hidden.States, int) [][]float64
		}{
			{"CLSMeanPatch", NewCLSMeanPatch(opts), directCLSMeanPatch},
			{"TokenCosine", NewTokenCosine(opts), directTokenCosine},
			{"CKA", NewCKA(opts), directCKA},
		} {
			if tc.acc.Matrix() != nil {
				t.Errorf("%s: matrix before any image", tc.name)
			}
			for _, s := range imgs { // streamed, one image at a time
				if err := tc.acc.Add(s); err != nil {
					t.Fatal(err)
				}
			}
			got, want := tc.acc.Matrix(), tc.direct(imgs, first)
			if len(got) != 4-first || tc.acc.Images() != len(imgs) {
				t.Fatalf("%s: %d rows from %d images", tc.name, len(got), tc.acc.Images())
			}
			if err := ValidateMatrix(got); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			for i := range want {
				for j := range want {
					if math.Abs(got[i][j]-want[i][j]) > 1e-9 {
						t.Errorf("%s embed=%v: W[%d][%d] = %v, direct %v", tc.name, embed, i, j, got[i][j], want[i][j])
					}
				}
			}
		}
	}
}

// The paper's measure ignores register tokens; the per-token one does not.
func TestRegistersExcluded(t *testing.T) {
	imgs := randomImages(3, 3, 5, 2)
	a, b := NewCLSMeanPatch(SimilarityOptions{Layout: testLayout}), NewTokenCosine(SimilarityOptions{Layout: testLayout})
	for _, s := range imgs {
		_ = a.Add(s)
		_ = b.Add(s)
	}
	before, beforeTok := a.Matrix(), b.Matrix()
	a2, b2 := NewCLSMeanPatch(SimilarityOptions{Layout: testLayout}), NewTokenCosine(SimilarityOptions{Layout: testLayout})
	rf, rt := testLayout.Registers()
	for k, s := range imgs {
		for l := range s.Layers {
			for t := rf; t < rt; t++ {
				for d := range s.Token(l, t) {
					s.Token(l, t)[d] = float32(k*d - l)
				}
			}
		}
		_ = a2.Add(s)
		_ = b2.Add(s)
	}
	if after := a2.Matrix(); math.Abs(after[0][1]-before[0][1]) > 1e-12 {
		t.Errorf("CLSMeanPatch changed with the registers: %v -> %v", before[0][1], after[0][1])
	}
	if after := b2.Matrix(); math.Abs(after[0][1]-beforeTok[0][1]) < 1e-6 {
		t.Errorf("TokenCosine did not change with the registers")
	}
}

func TestSimilarityErrors(t *testing.T) {
	imgs := randomImages(1, 3, 4, 3)
	other := hidden.NewStates(3, testLayout.NumTokens(), 5)
	for name, acc := range map[string]Accumulator{
		"CLSMeanPatch": NewCLSMeanPatch(SimilarityOptions{Layout: testLayout}),
		"TokenCosine":  NewTokenCosine(SimilarityOptions{Layout: testLayout}),
		"CKA":          NewCKA(SimilarityOptions{Layout: testLayout, Tokens: []int{0, 3}}),
	} {
		if err := acc.Add(imgs[0]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := acc.Add(other); err == nil {
			t.Errorf("%s: accepted a different shape", name)
		}
	}
	if err := NewCLSMeanPatch(SimilarityOptions{}).Add(imgs[0]); err == nil {
		t.Error("CLSMeanPatch without patches accepted")
	}
	if err := NewTokenCosine(SimilarityOptions{Tokens: []int{99}}).Add(imgs[0]); err == nil {
		t.Error("token index out of range accepted")
	}
	if err := NewTokenCosine(SimilarityOptions{Layout: hidden.Layout{NumPatches: 3}}).Add(imgs[0]); err == nil {
		t.Error("layout with the wrong token count accepted")
	}
}
