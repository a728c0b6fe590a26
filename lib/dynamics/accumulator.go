package dynamics

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Accumulator is any analysis that consumes one image's hidden states at a time.
// Convergence, Speed, UpdateField, SelfCorrection and PCAFit implement it.
type Accumulator interface {
	Add(s *hidden.States) error
}

// Feed gives one image to several accumulators, stopping at the first error.
func Feed(s *hidden.States, accs ...Accumulator) error {
	for _, a := range accs {
		if err := a.Add(s); err != nil {
			return err
		}
	}
	return nil
}

// AddBatch gives every image of a batch, in order, to the accumulators.
func AddBatch(b *hidden.Batch, accs ...Accumulator) error {
	if b == nil {
		return fmt.Errorf("dynamics: nil batch")
	}
	if len(b.Data) != b.Images*b.Layers*b.Tokens*b.Dim {
		return fmt.Errorf("dynamics: batch of %dx%dx%dx%d holds %d values", b.Images, b.Layers, b.Tokens, b.Dim, len(b.Data))
	}
	for i := 0; i < b.Images; i++ {
		if err := Feed(b.Image(i), accs...); err != nil {
			return fmt.Errorf("dynamics: batch image %d: %w", i, err)
		}
	}
	return nil
}
