package raptor

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Sampler draws training batches from a cache as a deterministic function of the step, so that a
// resumed run sees the batches an uninterrupted one would have. Each epoch visits the chunks in a
// seeded random order and each chunk's images in a seeded random order: reading stays sequential
// (one chunk in memory, plus the previous one for a batch that straddles two).
type Sampler struct {
	cache  *Cache
	batch  int
	seed   uint64
	layers []int

	orders map[int][]int // epoch → chunk order
	loaded [2]struct {
		chunk  int
		states *hidden.Batch
		labels []int
	}
}

// NewSampler returns a sampler of batch images holding the given teacher layers (see Plan.Layers).
func NewSampler(c *Cache, batch int, seed uint64, layers []int) (*Sampler, error) {
	if batch <= 0 || batch > c.Len() {
		return nil, fmt.Errorf("raptor sampler: batch %d for a cache of %d images", batch, c.Len())
	}
	for _, l := range layers {
		if l < 0 || l >= c.Meta().Layers {
			return nil, fmt.Errorf("raptor sampler: layer %d outside the cache's 0..%d", l, c.Meta().Layers-1)
		}
	}
	s := &Sampler{cache: c, batch: batch, seed: seed, layers: append([]int(nil), layers...), orders: map[int][]int{}}
	s.loaded[0].chunk, s.loaded[1].chunk = -1, -1
	return s, nil
}

func (s *Sampler) chunkOrder(epoch int) []int {
	if o, ok := s.orders[epoch]; ok {
		return o
	}
	o := rand.New(rand.NewPCG(s.seed, uint64(epoch)<<20|0xc4a)).Perm(s.cache.NumChunks())
	if len(s.orders) > 4 {
		clear(s.orders)
	}
	s.orders[epoch] = o
	return o
}

func (s *Sampler) imageOrder(epoch, chunk, n int) []int {
	return rand.New(rand.NewPCG(s.seed^uint64(chunk+1)*0x9e3779b97f4a7c15, uint64(epoch))).Perm(n)
}

// image returns the position (chunk, index in chunk) of the p-th image of the stream.
func (s *Sampler) image(p int) (chunk, index int) {
	n := s.cache.Len()
	epoch, r := p/n, p%n
	for _, c := range s.chunkOrder(epoch) {
		size := s.cache.Manifest.Chunks[c].Images
		if r < size {
			return c, s.imageOrder(epoch, c, size)[r]
		}
		r -= size
	}
	panic("raptor sampler: position beyond the cache")
}

func (s *Sampler) chunk(c int) (*hidden.Batch, []int, error) {
	for _, l := range s.loaded {
		if l.chunk == c {
			return l.states, l.labels, nil
		}
	}
	states, labels, err := s.cache.ReadChunk(c)
	if err != nil {
		return nil, nil, err
	}
	s.loaded[1] = s.loaded[0]
	s.loaded[0].chunk, s.loaded[0].states, s.loaded[0].labels = c, states, labels
	return states, labels, nil
}

// Batch returns the states of step's images, [batch, len(layers), tokens, dim], and their labels.
func (s *Sampler) Batch(step int) (*tensors.Tensor, []int, error) {
	m := s.cache.Meta()
	per := m.Tokens * m.Dim
	nl := len(s.layers)
	data := make([]float32, s.batch*nl*per)
	labels := make([]int, s.batch)
	for k := range s.batch {
		c, i := s.image(step*s.batch + k)
		states, ls, err := s.chunk(c)
		if err != nil {
			return nil, nil, err
		}
		img := states.Image(i)
		for j, l := range s.layers {
			copy(data[(k*nl+j)*per:(k*nl+j+1)*per], img.Layer(l))
		}
		labels[k] = ls[i]
	}
	return tensors.FromFlatDataAndDimensions(data, s.batch, nl, m.Tokens, m.Dim), labels, nil
}
