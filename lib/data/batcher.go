package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Batch is one batch of normalised images.
type Batch struct {
	// Images holds len(Labels) images, each H×W×C, normalised, float32, NHWC contiguous.
	Images []float32
	Labels []int32
	// Indices are the data set indices of the images (-1 for padding).
	Indices []int
	// Valid is the number of real images; the rest (evaluation only) are padding.
	Valid int
	// Epoch and Step locate the batch in a Batcher's stream (Step counts from 0 in each epoch).
	Epoch, Step int
	H, W, C     int
}

// Size is the number of images in the batch, padding included.
func (b *Batch) Size() int { return len(b.Labels) }

// Mask returns 1 for real images and 0 for padding, one value per image.
func (b *Batch) Mask() []float32 {
	m := make([]float32, b.Size())
	for i := range b.Valid {
		m[i] = 1
	}
	return m
}

// BatcherOptions configure a training Batcher.
type BatcherOptions struct {
	BatchSize int
	Seed      uint64
	// Augment turns on random crop with zero padding Pad and a random horizontal flip.
	Augment bool
	Pad     int // zero padding of the random crop; 0 means 4
	// Stats normalise the images; zero means the data set's own Stats.
	Stats Stats
	// Workers is the number of goroutines building batches (0: GOMAXPROCS).
	Workers int
	// Prefetch is how many batches are built ahead of the consumer (0: 2·Workers).
	Prefetch int
	// Epoch and Step are the position of the first batch to yield (to resume training).
	Epoch, Step int
}

// Batcher yields an endless stream of shuffled training batches.
//
// Each epoch is a fresh seeded permutation of the data set cut into StepsPerEpoch full batches;
// the last Len mod BatchSize images of each permutation are left out of that epoch (they are
// different images each epoch). The batch at (epoch, step) depends only on the data set, the
// options' Seed, Augment, Pad and Stats, and (epoch, step): a Batcher started at a saved Position
// yields exactly the batches an uninterrupted one would have. Batches are built ahead by a pool
// of worker goroutines and returned in order.
type Batcher struct {
	ds            *Dataset
	opts          BatcherOptions
	stepsPerEpoch int
	tab           [][256]float32

	order chan chan Batch
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	next  int // global index of the next batch Next returns
}

type batchJob struct {
	g    int
	perm []int
	res  chan Batch
}

// NewBatcher starts a Batcher over ds. Call Close when done with it.
func NewBatcher(ds *Dataset, opts BatcherOptions) (*Batcher, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d", opts.BatchSize)
	}
	if ds.Len() < opts.BatchSize {
		return nil, fmt.Errorf("data: %s has %d images, fewer than one batch of %d", ds.Name, ds.Len(), opts.BatchSize)
	}
	if opts.Stats.Mean == nil {
		opts.Stats = ds.Stats
	}
	if err := opts.Stats.check(ds.C); err != nil {
		return nil, fmt.Errorf("%w (data set %s)", err, ds.Name)
	}
	if opts.Pad <= 0 {
		opts.Pad = 4
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2 * opts.Workers
	}
	b := &Batcher{
		ds:            ds,
		opts:          opts,
		stepsPerEpoch: ds.Len() / opts.BatchSize,
		tab:           opts.Stats.Table(),
		order:         make(chan chan Batch, opts.Prefetch),
		done:          make(chan struct{}),
	}
	if opts.Epoch < 0 || opts.Step < 0 || opts.Step >= b.stepsPerEpoch {
		return nil, fmt.Errorf("data: resume position epoch %d step %d invalid (%d steps per epoch)",
			opts.Epoch, opts.Step, b.stepsPerEpoch)
	}
	b.next = opts.Epoch*b.stepsPerEpoch + opts.Step
	jobs := make(chan batchJob)
	b.wg.Add(1 + opts.Workers)
	go b.dispatch(jobs, b.next)
	for range opts.Workers {
		go b.work(jobs)
	}
	return b, nil
}

// StepsPerEpoch is the number of batches in one epoch.
func (b *Batcher) StepsPerEpoch() int { return b.stepsPerEpoch }

// Position is the (epoch, step) of the batch the next call to Next returns. Save it with a
// checkpoint and pass it back as BatcherOptions.Epoch/Step to resume.
func (b *Batcher) Position() (epoch, step int) {
	return b.next / b.stepsPerEpoch, b.next % b.stepsPerEpoch
}

// Next returns the next batch, blocking until it is built. It must not be called after Close.
func (b *Batcher) Next() Batch {
	res := <-b.order
	batch := <-res
	b.next++
	return batch
}

// Close stops the worker goroutines and waits for them.
func (b *Batcher) Close() {
	b.once.Do(func() { close(b.done) })
	b.wg.Wait()
}

// Permutation returns the order in which epoch visits the data set's images.
func (b *Batcher) Permutation(epoch int) []int {
	return epochPermutation(b.ds.Len(), b.opts.Seed, epoch)
}

func epochPermutation(n int, seed uint64, epoch int) []int {
	return rand.New(rand.NewPCG(seed, 0xe90c0000+uint64(epoch))).Perm(n)
}

func (b *Batcher) dispatch(jobs chan<- batchJob, g int) {
	defer b.wg.Done()
	defer close(jobs)
	permEpoch, perm := -1, []int(nil)
	for ; ; g++ {
		if e := g / b.stepsPerEpoch; e != permEpoch {
			permEpoch, perm = e, epochPermutation(b.ds.Len(), b.opts.Seed, e)
		}
		res := make(chan Batch, 1)
		select {
		case b.order <- res:
		case <-b.done:
			return
		}
		select {
		case jobs <- batchJob{g: g, perm: perm, res: res}:
		case <-b.done:
			return
		}
	}
}

func (b *Batcher) work(jobs <-chan batchJob) {
	defer b.wg.Done()
	for {
		select {
		case job, ok := <-jobs:
			if !ok {
				return
			}
			job.res <- b.build(job.g, job.perm)
		case <-b.done:
			return
		}
	}
}

// build makes global batch g of the stream from the epoch's permutation.
func (b *Batcher) build(g int, perm []int) Batch {
	ds, bs := b.ds, b.opts.BatchSize
	epoch, step := g/b.stepsPerEpoch, g%b.stepsPerEpoch
	idx := perm[step*bs : (step+1)*bs]
	n := ds.ImageSize()
	batch := Batch{
		Images:  make([]float32, bs*n),
		Labels:  make([]int32, bs),
		Indices: append([]int(nil), idx...),
		Valid:   bs,
		Epoch:   epoch, Step: step,
		H: ds.H, W: ds.W, C: ds.C,
	}
	var rng *rand.Rand
	if b.opts.Augment {
		rng = rand.New(rand.NewPCG(b.opts.Seed^0xa5a5a5a5a5a5a5a5, uint64(g)))
	}
	for j, i := range idx {
		batch.Labels[j] = ds.Labels[i]
		dst := batch.Images[j*n : (j+1)*n]
		if rng != nil {
			RandomCrop(rng, b.opts.Pad, true).applyNormalized(dst, ds.Image(i), ds.H, ds.W, ds.C, b.tab)
		} else {
			normalizeTab(dst, ds.Image(i), b.tab)
		}
	}
	return batch
}

func normalizeTab(dst []float32, src []uint8, tab [][256]float32) {
	c := len(tab)
	for i := 0; i < len(src); i += c {
		for ch := range c {
			dst[i+ch] = tab[ch][src[i+ch]]
		}
	}
}
