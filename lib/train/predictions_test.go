package train

import (
	"math"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
)

// firstPixelLogits classifies an image by the channels of its first pixel: the synthetic task adds
// 1 to the label's channel of every pixel, so this is a fair but imperfect classifier whose answer
// is easy to recompute.
func firstPixelLogits(_ *context.Context, images *Node) *Node {
	first := Slice(images, AxisRange(), AxisElem(0), AxisElem(0), AxisRange())
	return Reshape(first, images.Shape().Dim(0), images.Shape().Dim(3))
}

// evalBatchesOf splits one synthetic draw of sum(sizes) images into batches of the given sizes.
func evalBatchesOf(t *testing.T, sizes []int, seed uint64) (func(yield func(EvalBatch) bool), []float32, []int32) {
	total := 0
	for _, s := range sizes {
		total += s
	}
	in, err := syntheticBatches(total, 8, seed)(0)
	if err != nil {
		t.Fatal(err)
	}
	images, labels := tensors.MustCopyFlatData[float32](in[0]), tensors.MustCopyFlatData[int32](in[1])
	per := 8 * 8 * 3
	return func(yield func(EvalBatch) bool) {
		start := 0
		for _, s := range sizes {
			if !yield(EvalBatch{Images: images[start*per : (start+s)*per], Labels: labels[start : start+s], H: 8, W: 8}) {
				return
			}
			start += s
		}
	}, images, labels
}

func TestEvaluatePredictions(t *testing.T) {
	b := backend.MustNew()
	sizes := []int{17, 9, 0, 1}
	batches, images, labels := evalBatchesOf(t, sizes, 5)
	preds, gotLabels, err := EvaluatePredictions(b, context.New(), 3, firstPixelLogits, batches)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != len(labels) || len(gotLabels) != len(labels) {
		t.Fatalf("%d predictions and %d labels for %d images", len(preds), len(gotLabels), len(labels))
	}
	// Brute force: arg-max of the first pixel's channels, image by image.
	correct := 0
	for i := range labels {
		sum := images[i*64*3 : i*64*3+3]
		want := 0
		for c := range 3 {
			if sum[c] > sum[want] {
				want = c
			}
		}
		if preds[i] != want || gotLabels[i] != int(labels[i]) {
			t.Errorf("image %d: prediction %d label %d, want %d and %d", i, preds[i], gotLabels[i], want, labels[i])
		}
		if want == int(labels[i]) {
			correct++
		}
	}
	acc, err := EvaluateLogits(b, context.New(), 3, firstPixelLogits, batches)
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(correct) / float64(len(labels)); acc != want {
		t.Errorf("EvaluateLogits accuracy %v, brute force %v", acc, want)
	}
	if acc == 1 || acc < 0.5 {
		t.Errorf("accuracy %v: the test classifier should be good but imperfect", acc)
	}

	// A ViT: Evaluate's accuracy is exactly the accuracy of its predictions.
	m := tinyModel(t, 0)
	ctx := context.New()
	vitLogits := func(ctx *context.Context, images *Node) *Node { return m.Forward(ctx, images).Logits }
	vp, vl, err := EvaluatePredictions(b, ctx, 3, vitLogits, batches)
	if err != nil {
		t.Fatal(err)
	}
	vacc, err := Evaluate(b, ctx, m, batches)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := TopOneAccuracy(vp, vl); err != nil || vacc != want {
		t.Errorf("Evaluate accuracy %v, accuracy of EvaluatePredictions %v (%v)", vacc, want, err)
	}
}

func TestEvaluatePredictionsErrors(t *testing.T) {
	b := backend.MustNew()
	for _, tc := range []struct {
		name    string
		batches func(yield func(EvalBatch) bool)
		want    string
	}{
		{"no batches", func(yield func(EvalBatch) bool) {}, "no images"},
		{"empty batch", func(yield func(EvalBatch) bool) { yield(EvalBatch{H: 8, W: 8}) }, "no images"},
		{"short images", func(yield func(EvalBatch) bool) {
			yield(EvalBatch{Images: make([]float32, 8*8*3), Labels: []int32{0, 1}, H: 8, W: 8})
		}, "batch of 2 labels has 192 pixel values, want 384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := EvaluatePredictions(b, context.New(), 3, firstPixelLogits, tc.batches)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestTopOneAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name          string
		preds, labels []int
		want          float64
		err           string
	}{
		{"all right", []int{1, 2, 0}, []int{1, 2, 0}, 1, ""},
		{"one of four", []int{1, 2, 0, 0}, []int{1, 0, 1, 2}, 0.25, ""},
		{"lengths", []int{1}, []int{1, 2}, math.NaN(), "1 predictions for 2 labels"},
		{"empty", nil, nil, math.NaN(), "no images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TopOneAccuracy(tc.preds, tc.labels)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}
