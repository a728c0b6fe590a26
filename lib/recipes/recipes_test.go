package recipes

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/vit"
)

func syntheticSplits() *data.Splits {
	train := data.Synthetic(256, 16, 4, 1)
	test := data.Synthetic(64, 16, 4, 2)
	return &data.Splits{Train: train, Test: test}
}

func tinySpec() ViTSpec {
	m := vit.Config{ImageSize: 16, PatchSize: 8, Channels: 3, Dim: 16, Depth: 4, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, HeadInput: vit.HeadCLS, DropPath: 0.2}
	spec := DefaultViTSpec(m, 2)
	spec.BatchSize = 32
	return spec
}

// TestTrainViTCachesAndRefusesOtherSpecs trains a tiny teacher, loads it back without training,
// and refuses to reuse its folder for a different spec.
func TestTrainViTCachesAndRefusesOtherSpecs(t *testing.T) {
	b := backend.MustNew()
	dir := t.TempDir()
	splits := syntheticSplits()
	first, err := TrainViT(b, dir, tinySpec(), splits, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if first.Result.Steps != 16 { // 2 epochs of 256/32 batches
		t.Errorf("steps = %d, want 16", first.Result.Steps)
	}
	again, err := TrainViT(b, dir, tinySpec(), splits, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Result, first.Result) {
		t.Errorf("reloaded result %+v differs from the trained one %+v", again.Result, first.Result)
	}
	acc, err := EvaluateViT(b, again.Ctx, again.Model, splits.Test, 50)
	if err != nil {
		t.Fatal(err)
	}
	if acc != first.Result.TestAccuracy {
		t.Errorf("reloaded model scores %.4f, trained one %.4f: weights were not restored", acc, first.Result.TestAccuracy)
	}
	other := tinySpec()
	other.Epochs = 3
	if _, err := TrainViT(b, dir, other, splits, io.Discard); err == nil || !strings.Contains(err.Error(), "different run") {
		t.Errorf("reusing the folder for another spec: err = %v", err)
	}

	w, err := Similarity(b, again, splits.Test, 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 4 || len(w[0]) != 4 {
		t.Fatalf("similarity matrix is %dx%d, want 4x4 (blocks 1..4)", len(w), len(w[0]))
	}
	reports, err := AnalysePhases(w, []int{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if len(r.Contiguous) != r.K {
			t.Errorf("k=%d: contiguous partition has %d phases", r.K, len(r.Contiguous))
		}
	}
}
