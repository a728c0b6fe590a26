package recipes

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/phases"
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
	var acc *phases.CLSMeanPatch
	err := StreamHidden(b, t, ds, n, 128, nil, func(eb *vit.ExtractedBatch) error {
		if acc == nil {
			acc = phases.NewCLSMeanPatch(phases.SimilarityOptions{Layout: eb.Layout})
		}
		for i := range eb.States.Images {
			if err := acc.Add(eb.States.Image(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if acc == nil {
		return nil, fmt.Errorf("similarity: no images")
	}
	return acc.Matrix(), nil
}

// PhaseReport is the phase structure of one similarity matrix at one k.
type PhaseReport struct {
	K               int
	Contiguous      phases.Partition // optimal contiguous split into K phases
	Bisection       phases.Partition // released recursive bisection, eps chosen to give K phases (nil if none does)
	BisectionEps    float64          // an eps fraction that gives K phases
	BlockIndex      float64          // mean within / mean between dissimilarity of Contiguous (lower = more block-like)
	DriftBlockIndex float64          // the same on the smooth-drift baseline of the matrix
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
