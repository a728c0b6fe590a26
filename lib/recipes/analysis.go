package recipes

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/stats"
	"github.com/blockrec/blockrec/lib/vit"
)

// StreamHidden runs the first n images of ds (normalised with the dataset's statistics, no
// augmentation) through the trained model and calls fn with each batch's hidden states. order,
// if not nil, runs the blocks in that order (layer swap).
func StreamHidden(b backends.Backend, t *TrainedViT, ds *data.Dataset, n, batchSize int, order []int, fn func(*vit.ExtractedBatch) error) error {
	if n <= 0 || n > ds.Len() {
		n = ds.Len()
	}
	ex, err := vit.NewExtractor(b, t.Ctx, t.Model, batchSize, order)
	if err != nil {
		return err
	}
	it, err := data.NewEvalIterator(ds.Select(firstN(n)), batchSize, ds.Stats, false)
	if err != nil {
		return err
	}
	offset := 0
	for {
		bt, ok := it.Next()
		if !ok {
			return nil
		}
		err := ex.Run(bt.Images, bt.Size(), ds.H, ds.W, func(eb *vit.ExtractedBatch) error {
			eb.Start += offset
			return fn(eb)
		})
		if err != nil {
			return err
		}
		offset += bt.Size()
	}
}

func firstN(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// Similarity is the paper's layer-by-layer dissimilarity matrix of a trained model over the first
// n images of ds: per image, 1 − cosine between layers for the CLS token and for the mean patch
// token, summed, averaged over images; rows are blocks 1..L.
func Similarity(b backends.Backend, t *TrainedViT, ds *data.Dataset, n int) ([][]float64, error) {
	w, _, err := similarity(b, t, ds, n, false)
	return w, err
}

// SimilarityImages is Similarity with each image's own matrix kept, for bootstrapping over
// images (phases.BootstrapPhases, PhaseOptions).
func SimilarityImages(b backends.Backend, t *TrainedViT, ds *data.Dataset, n int) ([][]float64, *phases.PerImage, error) {
	return similarity(b, t, ds, n, true)
}

func similarity(b backends.Backend, t *TrainedViT, ds *data.Dataset, n int, keep bool) ([][]float64, *phases.PerImage, error) {
	var acc *phases.CLSMeanPatch
	err := StreamHidden(b, t, ds, n, 128, nil, func(eb *vit.ExtractedBatch) error {
		if acc == nil {
			acc = phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: eb.Layout})
			if keep {
				acc.KeepImages()
			}
		}
		for i := range eb.States.Images {
			if err := acc.Add(eb.States.Image(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if acc == nil {
		return nil, nil, fmt.Errorf("similarity: no images")
	}
	return acc.Matrix(), acc.PerImage(), nil
}

// PhaseReport is the phase structure of one similarity matrix at one k.
type PhaseReport struct {
	K               int
	Contiguous      phases.Partition // optimal contiguous split into K phases
	Bisection       phases.Partition // released recursive bisection, eps chosen to give K phases (nil if none does)
	BisectionEps    float64          // an eps fraction that gives K phases
	BlockIndex      float64          // mean within / mean between dissimilarity of Contiguous (lower = more block-like)
	DriftBlockIndex float64          // the same on the stationary smooth-drift matrix (the old null; it cannot fail, see Null)

	// The fields below are filled by AnalysePhasesWith.

	// Used are the phases Raptor is fit on: the released solver's (Bisection) by default, the
	// contiguous DP with PhaseOptions.Method "dp", or when no eps gives K phases.
	Used       phases.Partition `json:"used,omitempty"`
	UsedMethod string           `json:"used_method,omitempty"`
	// BisectionContiguous says whether the released solver's phases came out contiguous.
	BisectionContiguous bool `json:"bisection_contiguous,omitempty"`
	// BlockIndexCI is the bootstrap interval (over images) of the block index, the phases
	// re-found by the DP on every replicate.
	BlockIndexCI *stats.Interval `json:"block_index_ci,omitempty"`
	// Stability is how often each boundary is chosen over bootstrap replicates, for the
	// contiguous DP and for the method of Used.
	Stability     *phases.Stability `json:"stability,omitempty"`
	UsedStability *phases.Stability `json:"used_stability,omitempty"`
	// Null is the warped-drift null test (phases.WarpedDriftNull) of the mean matrix.
	Null *NullSummary `json:"null,omitempty"`
}

// NullSummary is the outcome of the warped-drift null test at one K.
type NullSummary struct {
	Verdict    string  `json:"verdict"` // "blocks" or "drift"
	Stat       float64 `json:"stat"`    // share of the null's residual that K−1 jumps remove
	P          float64 `json:"p"`       // parametric-bootstrap p-value
	Replicates int     `json:"replicates"`
	Alpha      float64 `json:"alpha"`
	NullR2     float64 `json:"null_r2"` // how well the block-free warped drift alone fits W
}

// PhaseOptions configures AnalysePhasesWith.
type PhaseOptions struct {
	// Method picks the phases Raptor trains on: "bisection" (the released solver, the
	// default) or "dp" (the optimal contiguous split).
	Method string
	// NullReplicates of the warped-drift test; 0 skips the test.
	NullReplicates int
	// BootstrapReplicates over images for stability and the block-index interval; 0 skips them
	// (they need the per-image matrices).
	BootstrapReplicates int
	Seed                uint64
}

// Phase methods of PhaseOptions.
const (
	MethodBisection = "bisection"
	MethodDP        = "dp"
)

// AnalysePhasesWith is AnalysePhases plus the choice of the phases Raptor uses, the warped-drift
// null test and, given each image's matrix, bootstrap stability and intervals over images.
func AnalysePhasesWith(w [][]float64, per *phases.PerImage, ks []int, opts PhaseOptions) ([]PhaseReport, error) {
	reports, err := AnalysePhases(w, ks)
	if err != nil {
		return nil, err
	}
	method := opts.Method
	if method == "" {
		method = MethodBisection
	}
	if method != MethodBisection && method != MethodDP {
		return nil, fmt.Errorf("phases: method %q, want %q or %q", method, MethodBisection, MethodDP)
	}
	var dpStab, bisStab []phases.Stability
	if opts.BootstrapReplicates > 0 && per != nil {
		if dpStab, err = phases.BootstrapPhases(per, ks, phases.ContiguousFinder, opts.BootstrapReplicates, opts.Seed); err != nil {
			return nil, err
		}
		if method == MethodBisection {
			// The released solver can skip a K on a replicate; those replicates count as Failed.
			if bisStab, err = phases.BootstrapPhases(per, ks, phases.BisectionFinder, opts.BootstrapReplicates, opts.Seed); err != nil {
				return nil, err
			}
		}
	}
	for i := range reports {
		r := &reports[i]
		r.Used, r.UsedMethod = r.Contiguous, "contiguous DP"
		if method == MethodBisection {
			if r.Bisection != nil {
				r.Used, r.UsedMethod = r.Bisection, fmt.Sprintf("recursive bisection (eps fraction %.4g)", r.BisectionEps)
			} else {
				r.UsedMethod = "contiguous DP (no eps fraction gives this K by bisection)"
			}
		}
		r.BisectionContiguous = r.Bisection != nil && r.Bisection.IsContiguous()
		if dpStab != nil {
			s := dpStab[i]
			r.Stability = &s
			if r.K > 1 {
				iv, err := stats.PercentileInterval(defined(s.BlockIndex), stats.DefaultLevel)
				if err == nil {
					r.BlockIndexCI = &iv
				}
			}
			r.UsedStability = r.Stability
			if bisStab != nil && r.Bisection != nil {
				b := bisStab[i]
				r.UsedStability = &b
			}
		}
		if opts.NullReplicates > 0 && r.K >= 2 && r.K <= len(w)-1 {
			t, err := phases.WarpedDriftNull(w, phases.NullOptions{K: r.K, Replicates: opts.NullReplicates, Seed: opts.Seed + uint64(r.K)})
			if err != nil {
				return nil, fmt.Errorf("phases: drift null at K=%d: %w", r.K, err)
			}
			r.Null = &NullSummary{Verdict: t.Verdict(), Stat: t.Stat, P: t.P, Replicates: t.Replicates, Alpha: t.Alpha, NullR2: t.Null.R2}
		}
	}
	return reports, nil
}

// defined drops the −1 markers of undefined block indices.
func defined(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if x >= 0 {
			out = append(out, x)
		}
	}
	return out
}

// AnalysePhases finds the phases of w for each k, and compares their block structure with the
// smooth-drift null model.
func AnalysePhases(w [][]float64, ks []int) ([]PhaseReport, error) {
	intervals, err := phases.EpsIntervals(w, phases.BisectionOptions{})
	if err != nil {
		return nil, err
	}
	var out []PhaseReport
	for _, k := range ks {
		if k > len(w) {
			return nil, fmt.Errorf("phases: k=%d is more than the %d layers", k, len(w))
		}
		c, err := phases.Contiguous(w, k)
		if err != nil {
			return nil, err
		}
		r := PhaseReport{K: k, Contiguous: c.Partition}
		if k > 1 {
			cmp, err := phases.CompareToDrift(w, c.Partition)
			if err != nil {
				return nil, err
			}
			r.BlockIndex, r.DriftBlockIndex = cmp.Index, cmp.DriftIndex
		}
		for _, iv := range intervals {
			if iv.K == k && !math.IsInf(iv.FracHi, 1) {
				eps := (iv.FracLo + iv.FracHi) / 2
				bis, err := phases.RecursiveBisection(w, phases.BisectionOptions{EpsFrac: eps})
				if err != nil {
					return nil, err
				}
				r.Bisection, r.BisectionEps = bis.Partition, eps
				break
			}
		}
		out = append(out, r)
	}
	return out, nil
}
