package recipes

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/phases"
	"github.com/blockrec/blockrec/lib/raptor"
)

// SwapRun is the accuracy of a teacher with n layers swapped.
type SwapRun struct {
	SD       float64   `json:"sd"`
	Kind     string    `json:"kind"` // "intra" or "inter"
	N        int       `json:"n"`
	Accuracy []float64 `json:"accuracy"` // one per trial
	Teacher  float64   `json:"teacher"`  // unswapped accuracy on the same images
}

// swapMeans returns the mean accuracy over every trial of the intra-phase swaps and of the
// inter-phase swaps among swaps.
func swapMeans(swaps []SwapRun) (intra, inter float64) {
	var in, out []float64
	for _, s := range swaps {
		if s.Kind == "intra" {
			in = append(in, s.Accuracy...)
		} else {
			out = append(out, s.Accuracy...)
		}
	}
	intra, _ = meanStd(in)
	inter, _ = meanStd(out)
	return intra, inter
}

// LayerSwaps measures, without training, the teacher's accuracy on val when 1..3 of its layers
// run the weights of another layer of the same max-cut phase (intra) or of another phase
// (inter), on the K=3 phases of reports (or the largest K below 3), `trials` random draws each.
func LayerSwaps(b backends.Backend, t *TrainedViT, reports []PhaseReport, val *data.Dataset, trials, batch int) (*[]SwapRun, error) {
	var part phases.Partition
	for _, rep := range reports {
		if rep.K >= 2 && rep.K <= 3 {
			part = rep.Contiguous
		}
	}
	out := []SwapRun{}
	if part == nil {
		return &out, nil
	}
	tctx, err := teacherContext(t)
	if err != nil {
		return nil, err
	}
	// Each evaluation needs its own pass over the images.
	accuracy := func(order []int) (float64, error) {
		batches, err := datasetBatches(val, batch)
		if err != nil {
			return 0, err
		}
		return raptor.OrderAccuracy(b, tctx, t.Model, order, batches)
	}
	identity := make([]int, t.Model.Config.Depth)
	for i := range identity {
		identity[i] = i
	}
	base, err := accuracy(identity)
	if err != nil {
		return nil, err
	}
	for _, kind := range []raptor.SwapKind{raptor.Intra, raptor.Inter} {
		for n := 1; n <= 3; n++ {
			orders, err := raptor.SwapOrders(part, kind, n, trials, uint64(n))
			if err != nil {
				continue // not enough eligible layers for n swaps of this kind
			}
			run := SwapRun{Kind: string(kind), N: n, Teacher: base}
			for _, order := range orders {
				acc, err := accuracy(order)
				if err != nil {
					return nil, err
				}
				run.Accuracy = append(run.Accuracy, acc)
			}
			out = append(out, run)
		}
	}
	return &out, nil
}

// SwapSet is every single layer swap of one teacher: layer ℓ runs the weights of layer o, all
// ℓ ≠ o, with each image's prediction, so that drops can be compared image by image.
type SwapSet struct {
	SD float64 `json:"sd"`
	// Partition is the K=3 phases (or the largest K below 3) that define "same phase"; the
	// phases Raptor uses (PhaseReport.Used).
	Partition string `json:"partition"`
	K         int    `json:"k"`
	Labels    []int  `json:"labels"`
	Teacher   []int  `json:"teacher"` // the unswapped teacher's predictions
	Swaps     []SingleSwap
}

// SingleSwap is one swap: layer Layer (1-based) runs the weights of layer Source.
type SingleSwap struct {
	Layer       int   `json:"layer"`
	Source      int   `json:"source"`
	SamePhase   bool  `json:"same_phase"`
	Predictions []int `json:"predictions"`
}

// SingleSwaps measures, without training, every single layer swap of the teacher on val.
func SingleSwaps(b backends.Backend, t *TrainedViT, reports []PhaseReport, val *data.Dataset, batch int, progress io.Writer) (*SwapSet, error) {
	if progress == nil {
		progress = io.Discard
	}
	var part phases.Partition
	k := 0
	for _, rep := range reports {
		if rep.K >= 2 && rep.K <= 3 {
			part, k = rep.Used, rep.K
			if part == nil {
				part = rep.Contiguous
			}
		}
	}
	if part == nil {
		return nil, fmt.Errorf("layer swaps: no phases with K = 2 or 3 to tell same-phase swaps")
	}
	tctx, err := teacherContext(t)
	if err != nil {
		return nil, err
	}
	predict := func(order []int) ([]int, []int, error) {
		batches, err := datasetBatches(val, batch)
		if err != nil {
			return nil, nil, err
		}
		return raptor.OrderPredictions(b, tctx, t.Model, order, batches)
	}
	depth := t.Model.Config.Depth
	identity := make([]int, depth)
	for i := range identity {
		identity[i] = i
	}
	base, labels, err := predict(identity)
	if err != nil {
		return nil, err
	}
	labelOf := part.Labels()
	set := &SwapSet{Partition: part.String(), K: k, Labels: labels, Teacher: base}
	began, total := time.Now(), depth*(depth-1)
	for l := range depth {
		if l > 0 { // one line per swapped layer, with an ETA from the swaps so far
			done := l * (depth - 1)
			left := time.Duration(float64(time.Since(began)) / float64(done) * float64(total-done))
			fmt.Fprintf(progress, "layer swaps: %d/%d done in %s, ETA %s\n", done, total, time.Since(began).Round(time.Second), left.Round(time.Second))
		}
		for o := range depth {
			if o == l {
				continue
			}
			order := slices.Clone(identity)
			order[l] = o
			preds, _, err := predict(order)
			if err != nil {
				return nil, err
			}
			set.Swaps = append(set.Swaps, SingleSwap{Layer: l + 1, Source: o + 1, SamePhase: labelOf[l] == labelOf[o], Predictions: preds})
		}
	}
	return set, nil
}
