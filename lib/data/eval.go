package data

import "fmt"

// EvalIterator walks a data set once, in order, without shuffling or augmentation.
//
// With Pad false the last batch is shorter when Len is not a multiple of the batch size. With Pad
// true every batch has exactly the batch size: the last one is filled up with zero-valued images
// of label 0 and index -1, and Batch.Valid (or Batch.Mask) tells the real images from the padding;
// use this when the model's graph wants a fixed batch shape, and weight the per-image results by
// the mask.
type EvalIterator struct {
	ds        *Dataset
	batchSize int
	pad       bool
	tab       [][256]float32
	pos       int
	step      int
}

// NewEvalIterator returns an iterator over ds. Zero stats mean the data set's own Stats.
func NewEvalIterator(ds *Dataset, batchSize int, stats Stats, pad bool) (*EvalIterator, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d", batchSize)
	}
	if stats.Mean == nil {
		stats = ds.Stats
	}
	if err := stats.check(ds.C); err != nil {
		return nil, fmt.Errorf("%w (data set %s)", err, ds.Name)
	}
	return &EvalIterator{ds: ds, batchSize: batchSize, pad: pad, tab: stats.Table()}, nil
}

// NumBatches is the number of batches in one pass.
func (it *EvalIterator) NumBatches() int { return (it.ds.Len() + it.batchSize - 1) / it.batchSize }

// Reset starts the pass again.
func (it *EvalIterator) Reset() { it.pos, it.step = 0, 0 }

// Next returns the next batch, or false when the pass is over.
func (it *EvalIterator) Next() (Batch, bool) {
	ds := it.ds
	if it.pos >= ds.Len() {
		return Batch{}, false
	}
	valid := min(it.batchSize, ds.Len()-it.pos)
	size := valid
	if it.pad {
		size = it.batchSize
	}
	n := ds.ImageSize()
	b := Batch{
		Images:  make([]float32, size*n),
		Labels:  make([]int32, size),
		Indices: make([]int, size),
		Valid:   valid,
		Step:    it.step,
		H:       ds.H, W: ds.W, C: ds.C,
	}
	for j := range size {
		if j >= valid {
			b.Indices[j] = -1
			continue
		}
		i := it.pos + j
		b.Indices[j] = i
		b.Labels[j] = ds.Labels[i]
		normalizeTab(b.Images[j*n:(j+1)*n], ds.Image(i), it.tab)
	}
	it.pos += valid
	it.step++
	return b, true
}
