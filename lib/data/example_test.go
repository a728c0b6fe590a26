package data_test

import (
	"context"
	"fmt"

	"github.com/blockrec/blockrec/lib/data"
)

// Open picks the best available data set; here it is told to use only the synthetic one.
func ExampleOpen() {
	splits, err := data.Open(context.Background(), data.Options{
		Only: data.KindSynthetic, SyntheticTrain: 1000, SyntheticTest: 200,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(splits.Name(), splits.Train.Len(), splits.Test.Len(), splits.NumClasses())
	fmt.Println(splits.Provenance())
	// Output:
	// synthetic 1000 200 10
	// synthetic coloured-blob images (no real data set was available): not CIFAR results
}

// A Batcher yields shuffled, augmented, normalised NHWC batches; a new Batcher started at a saved
// Position continues the stream exactly.
func ExampleNewBatcher() {
	train := data.Synthetic(100, 32, 10, 1)
	opts := data.BatcherOptions{BatchSize: 32, Seed: 7, Augment: true}
	b, err := data.NewBatcher(train, opts)
	if err != nil {
		panic(err)
	}
	for range 4 {
		batch := b.Next()
		fmt.Printf("epoch %d step %d: %d images, %d floats\n", batch.Epoch, batch.Step, batch.Size(), len(batch.Images))
	}
	epoch, step := b.Position() // save with the checkpoint
	want := b.Next()
	b.Close()

	opts.Epoch, opts.Step = epoch, step
	resumed, _ := data.NewBatcher(train, opts)
	defer resumed.Close()
	got := resumed.Next()
	fmt.Println("resumed at", epoch, step, "same batch:", fmt.Sprint(got.Labels) == fmt.Sprint(want.Labels) && got.Images[123] == want.Images[123])
	// Output:
	// epoch 0 step 0: 32 images, 98304 floats
	// epoch 0 step 1: 32 images, 98304 floats
	// epoch 0 step 2: 32 images, 98304 floats
	// epoch 1 step 0: 32 images, 98304 floats
	// resumed at 1 1 same batch: true
}

// DINOv2 preprocessing of a CIFAR-sized image: bicubic upscale to 256, centre crop 224.
func ExampleDINOv2Preprocessor() {
	ds := data.Synthetic(2, 32, 2, 1)
	p := data.DINOv2Preprocessor()
	batch, err := p.Batch(ds, []int{0, 1}, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(batch) == 2*224*224*3)
	// Output: true
}
