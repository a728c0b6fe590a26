package data

import (
	"slices"
	"testing"
)

func takeBatches(t *testing.T, ds *Dataset, opts BatcherOptions, n int) []Batch {
	t.Helper()
	b, err := NewBatcher(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out := make([]Batch, n)
	for i := range out {
		out[i] = b.Next()
	}
	return out
}

func sameBatch(a, b Batch) bool {
	return a.Epoch == b.Epoch && a.Step == b.Step && slices.Equal(a.Labels, b.Labels) &&
		slices.Equal(a.Indices, b.Indices) && slices.Equal(a.Images, b.Images)
}

func TestBatcherDeterminismAndResume(t *testing.T) {
	ds := Synthetic(50, 8, 5, 1) // 50 images, batch 8: 6 steps per epoch, 2 left out
	for _, augment := range []bool{false, true} {
		opts := BatcherOptions{BatchSize: 8, Seed: 42, Augment: augment, Workers: 2}
		ref := takeBatches(t, ds, opts, 20)
		// Same seed, other worker counts and prefetch depths: identical stream.
		for _, w := range []int{1, 5} {
			o := opts
			o.Workers, o.Prefetch = w, 1
			for i, b := range takeBatches(t, ds, o, 20) {
				if !sameBatch(b, ref[i]) {
					t.Fatalf("augment=%v workers=%d: batch %d differs", augment, w, i)
				}
			}
		}
		// Resume at every position in the first three epochs.
		for g := range 15 {
			o := opts
			o.Epoch, o.Step = g/6, g%6
			got := takeBatches(t, ds, o, 5)
			for i, b := range got {
				if !sameBatch(b, ref[g+i]) {
					t.Fatalf("augment=%v resumed at %d: batch %d differs from the uninterrupted stream", augment, g, i)
				}
			}
		}
		// Another seed: another stream.
		o := opts
		o.Seed = 43
		if sameBatch(takeBatches(t, ds, o, 1)[0], ref[0]) {
			t.Errorf("seeds 42 and 43 give the same first batch")
		}
	}
}

func TestBatcherContents(t *testing.T) {
	ds := Synthetic(50, 8, 5, 2)
	b, err := NewBatcher(ds, BatcherOptions{BatchSize: 8, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.StepsPerEpoch() != 6 {
		t.Fatalf("StepsPerEpoch %d", b.StepsPerEpoch())
	}
	n := ds.ImageSize()
	for epoch := range 2 {
		seen := map[int]bool{}
		for step := range 6 {
			if e, s := b.Position(); e != epoch || s != step {
				t.Fatalf("Position %d,%d want %d,%d", e, s, epoch, step)
			}
			batch := b.Next()
			if batch.Epoch != epoch || batch.Step != step || batch.Valid != 8 || batch.Size() != 8 {
				t.Fatalf("batch %d/%d: %+v", epoch, step, batch.Epoch)
			}
			for j, i := range batch.Indices {
				if seen[i] {
					t.Fatalf("epoch %d visits image %d twice", epoch, i)
				}
				seen[i] = true
				if batch.Labels[j] != ds.Labels[i] {
					t.Fatalf("label mismatch")
				}
				want := make([]float32, n)
				Normalize(want, ds.Image(i), ds.Stats)
				if !slices.Equal(batch.Images[j*n:(j+1)*n], want) {
					t.Fatalf("image %d is not the normalised data set image", i)
				}
			}
		}
		if len(seen) != 48 {
			t.Fatalf("epoch %d saw %d images", epoch, len(seen))
		}
	}
}

// Every augmented image is one of the (2·pad+1)²·2 crops of its source image.
func TestBatcherAugmentation(t *testing.T) {
	ds := Synthetic(16, 6, 4, 3)
	const pad = 2
	b, err := NewBatcher(ds, BatcherOptions{BatchSize: 16, Seed: 1, Augment: true, Pad: pad})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n := ds.ImageSize()
	seenFlip := map[bool]int{}
	for range 4 {
		batch := b.Next()
		for j, i := range batch.Indices {
			got := batch.Images[j*n : (j+1)*n]
			found := 0
			for dy := range 2*pad + 1 {
				for dx := range 2*pad + 1 {
					for _, flip := range []bool{false, true} {
						crop := make([]uint8, n)
						Crop{Pad: pad, DY: dy, DX: dx, Flip: flip}.Apply(crop, ds.Image(i), 6, 6, 3)
						want := make([]float32, n)
						Normalize(want, crop, ds.Stats)
						if slices.Equal(got, want) {
							found++
							seenFlip[flip]++
						}
					}
				}
			}
			if found == 0 {
				t.Fatalf("augmented image %d matches no crop of its source", i)
			}
		}
	}
	if seenFlip[true] == 0 || seenFlip[false] == 0 {
		t.Errorf("flips seen: %v", seenFlip)
	}
}

func TestBatcherErrors(t *testing.T) {
	ds := Synthetic(10, 4, 2, 1)
	bad := []BatcherOptions{
		{BatchSize: 0},
		{BatchSize: 11},
		{BatchSize: 5, Step: 2},
		{BatchSize: 5, Stats: Stats{Mean: []float32{0}, Std: []float32{1}}},
	}
	for _, o := range bad {
		if b, err := NewBatcher(ds, o); err == nil {
			b.Close()
			t.Errorf("options %+v accepted", o)
		}
	}
}

func TestEvalIterator(t *testing.T) {
	ds := Synthetic(10, 4, 3, 5)
	n := ds.ImageSize()
	for _, pad := range []bool{false, true} {
		it, err := NewEvalIterator(ds, 4, Stats{}, pad)
		if err != nil {
			t.Fatal(err)
		}
		if it.NumBatches() != 3 {
			t.Fatalf("NumBatches %d", it.NumBatches())
		}
		for pass := range 2 {
			next := 0
			var sizes, valids []int
			for b, ok := it.Next(); ok; b, ok = it.Next() {
				sizes, valids = append(sizes, b.Size()), append(valids, b.Valid)
				mask := b.Mask()
				for j := range b.Size() {
					if j >= b.Valid {
						if b.Indices[j] != -1 || mask[j] != 0 || slices.ContainsFunc(b.Images[j*n:(j+1)*n], func(v float32) bool { return v != 0 }) {
							t.Fatalf("padding slot %d not empty", j)
						}
						continue
					}
					want := make([]float32, n)
					Normalize(want, ds.Image(next), ds.Stats)
					if b.Indices[j] != next || b.Labels[j] != ds.Labels[next] || mask[j] != 1 || !slices.Equal(b.Images[j*n:(j+1)*n], want) {
						t.Fatalf("pad=%v: slot %d is not image %d", pad, j, next)
					}
					next++
				}
			}
			wantSizes := []int{4, 4, 2}
			if pad {
				wantSizes = []int{4, 4, 4}
			}
			if next != 10 || !slices.Equal(sizes, wantSizes) || !slices.Equal(valids, []int{4, 4, 2}) {
				t.Fatalf("pad=%v pass %d: %d images, sizes %v valid %v", pad, pass, next, sizes, valids)
			}
			it.Reset()
		}
	}
}
