package probes_test

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/probes"
)

// Scoring a segmentation: per-class IoU and their mean over the classes present.
func ExampleConfusion() {
	cm := probes.NewConfusion(3)
	gt := []int32{0, 0, 1, 1, probes.IgnoreLabel}
	pred := []int32{0, 1, 1, 1, 2}
	if err := cm.Add(pred, gt); err != nil {
		panic(err)
	}
	fmt.Printf("IoU %.3f, mIoU %.3f\n", cm.IoU()[:2], cm.MeanIoU())
	// Output: IoU [0.500 0.667], mIoU 0.583
}

// A linear probe on precomputed features.
func ExampleTrainSoftmax() {
	x := []float32{1, 0, 0, 1, 2, 0, 0, 2} // 4 rows of 2 features
	y := []int32{0, 1, 0, 1}
	head, err := probes.TrainSoftmax(x, 4, 2, y, 2, probes.TrainOptions{Epochs: 50, BatchSize: 2, LR: 0.1})
	if err != nil {
		panic(err)
	}
	acc, _ := probes.Top1(head.Predict(x, 4), y)
	fmt.Println("train top-1:", acc)
	// Output: train top-1: 1
}
