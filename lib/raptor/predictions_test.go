package raptor

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

func TestAgreement(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *EvalResult
		want float64
	}{
		{"itself", &EvalResult{Predictions: []int{0, 2, 1, 1}, TeacherPredictions: []int{0, 2, 1, 1}}, 1},
		{"half", &EvalResult{Predictions: []int{0, 2, 1, 1}, TeacherPredictions: []int{0, 1, 1, 0}}, 0.5},
		{"none", &EvalResult{Predictions: []int{1, 2}, TeacherPredictions: []int{0, 0}}, 0},
		{"no predictions", &EvalResult{}, math.NaN()},
		{"lengths differ", &EvalResult{Predictions: []int{1, 2}, TeacherPredictions: []int{1}}, math.NaN()},
		{"nil result", nil, math.NaN()},
	} {
		got := tc.r.Agreement()
		if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tc.want) {
			t.Errorf("%s: agreement %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPerImagePredictions checks Evaluate's and OrderPredictions' per-image outputs against the
// teacher's own forward pass and against the accuracies they already report.
func TestPerImagePredictions(t *testing.T) {
	b := backend.MustNew()
	cfg := tinyTeacher()
	cfg.HeadInput = vit.HeadCLSMeanPatch
	ctx := testctx.New(t)
	if err := SetTeacher(ctx, cfg, recurrentTeacherWeights(cfg, []int{0, 0, 0, 3, 3, 3}, 1.0, 5)); err != nil {
		t.Fatal(err)
	}
	teacher, err := vit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := 50
	images := randomImages(rand.New(rand.NewPCG(5, 5)), n, cfg.ImageSize, cfg.ImageSize, cfg.Channels)
	own := teacherPredictions(t, b, ctx, teacher, images, n)
	// Labels: the teacher's class, some changed, some unknown.
	labels := make([]int32, n)
	for i, p := range own {
		switch {
		case i%7 == 0:
			labels[i] = -1
		case i%5 == 1:
			labels[i] = (p + 1) % int32(cfg.NumClasses)
		default:
			labels[i] = p
		}
	}
	cache, err := ComputeCache(b, ctx, teacher, imageBatches(cfg, images, labels, 32), filepath.Join(t.TempDir(), "cache"), "test teacher", CacheOptions{ChunkImages: 20})
	if err != nil {
		t.Fatal(err)
	}
	assign, err := AssignFromThresholds([]int{3}, cfg.Depth)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ForTeacher(cfg, assign))
	if err != nil {
		t.Fatal(err)
	}

	// Batches of 16 straddle the chunks of 20; MaxImages stops inside the last chunk.
	const evaluated = 45
	ev, err := Evaluate(b, ctx, teacher, m, cache, EvalOptions{Batch: 16, MaxImages: evaluated})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Images != evaluated || len(ev.Labels) != evaluated || len(ev.Predictions) != evaluated || len(ev.TeacherPredictions) != evaluated {
		t.Fatalf("%d images, %d labels, %d predictions, %d teacher predictions; want %d each",
			ev.Images, len(ev.Labels), len(ev.Predictions), len(ev.TeacherPredictions), evaluated)
	}
	correct, tcorrect, labelled, agree := 0, 0, 0, 0
	for i := range evaluated {
		if ev.Labels[i] != int(labels[i]) {
			t.Errorf("image %d: label %d, cached %d", i, ev.Labels[i], labels[i])
		}
		if ev.TeacherPredictions[i] != int(own[i]) {
			t.Errorf("image %d: teacher prediction %d from the cache, %d from the teacher's forward pass", i, ev.TeacherPredictions[i], own[i])
		}
		if ev.Predictions[i] == ev.TeacherPredictions[i] {
			agree++
		}
		if ev.Labels[i] >= 0 {
			labelled++
			if ev.Predictions[i] == ev.Labels[i] {
				correct++
			}
			if ev.TeacherPredictions[i] == ev.Labels[i] {
				tcorrect++
			}
		}
	}
	if acc := float64(correct) / float64(labelled); acc != ev.Accuracy {
		t.Errorf("accuracy of the predictions %v, Evaluate's %v", acc, ev.Accuracy)
	}
	if acc := float64(tcorrect) / float64(labelled); acc != ev.TeacherAccuracy || acc == 1 {
		t.Errorf("teacher accuracy of the predictions %v, Evaluate's %v (want equal, below 1: some labels are changed)", acc, ev.TeacherAccuracy)
	}
	if a := float64(agree) / evaluated; a != ev.Agreement() {
		t.Errorf("agreement recounted %v, Agreement() %v", a, ev.Agreement())
	}
	self := &EvalResult{Predictions: ev.TeacherPredictions, TeacherPredictions: ev.TeacherPredictions}
	if a := self.Agreement(); a != 1 {
		t.Errorf("the teacher agrees with itself on %v of images", a)
	}
	t.Logf("untrained Raptor: accuracy %.3f, teacher %.3f, agreement %.3f", ev.Accuracy, ev.TeacherAccuracy, ev.Agreement())

	// Layer orders: the identity is the teacher itself; any order's accuracy is that of its
	// predictions.
	batches := imageBatches(cfg, images, labels, 16)
	identity := []int{0, 1, 2, 3, 4, 5}
	for _, order := range [][]int{identity, {0, 1, 4, 3, 4, 5}} {
		preds, gotLabels, err := OrderPredictions(b, ctx, teacher, order, batches)
		if err != nil {
			t.Fatal(err)
		}
		if len(preds) != n || !slices.Equal(gotLabels, int32s(labels)) {
			t.Fatalf("order %v: %d predictions, labels %v; want %d and the batches' labels", order, len(preds), gotLabels, n)
		}
		if slices.Equal(order, identity) && !slices.Equal(preds, int32s(own)) {
			t.Errorf("identity order predicts %v, the teacher %v", preds, own)
		}
		want, err := train.TopOneAccuracy(preds, gotLabels)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := OrderAccuracy(b, ctx, teacher, order, batches)
		if err != nil || acc != want {
			t.Errorf("order %v: OrderAccuracy %v (%v), accuracy of OrderPredictions %v", order, acc, err, want)
		}
	}
	for _, tc := range []struct {
		order []int
		want  string
	}{
		{[]int{0, 1, 2}, "for a teacher of depth 6"},
		{[]int{0, 1, 2, 3, 4, 6}, "runs layer 6"},
		{[]int{0, 1, 2, 3, -1, 5}, "runs layer -1"},
	} {
		if _, _, err := OrderPredictions(b, ctx, teacher, tc.order, batches); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("order %v: error %v, want one containing %q", tc.order, err, tc.want)
		}
	}
}

func int32s(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}
