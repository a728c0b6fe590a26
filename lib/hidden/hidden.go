// Package hidden holds the common currency of every analysis in blockrec: the hidden states of one
// image at every layer of a transformer, and the layout of its tokens (CLS, registers, patches).
//
// Models produce hidden states; lib/phases, lib/dynamics and lib/raptor consume them and know
// nothing of which model made them.
package hidden

import "fmt"

// Layout says how the tokens of a sequence are arranged: the CLS token first, then the register
// tokens, then the patch tokens in row-major order of the patch grid.
type Layout struct {
	NumRegisters int
	NumPatches   int
}

// NumTokens is 1 (CLS) + registers + patches.
func (l Layout) NumTokens() int { return 1 + l.NumRegisters + l.NumPatches }

// CLS is the index of the CLS token.
func (l Layout) CLS() int { return 0 }

// Registers returns the half-open token range [from, to) of the register tokens.
func (l Layout) Registers() (from, to int) { return 1, 1 + l.NumRegisters }

// Patches returns the half-open token range [from, to) of the patch tokens.
func (l Layout) Patches() (from, to int) { return 1 + l.NumRegisters, l.NumTokens() }

// Group is a token type.
type Group int

const (
	GroupCLS Group = iota
	GroupRegisters
	GroupPatches
)

func (g Group) String() string {
	switch g {
	case GroupCLS:
		return "CLS"
	case GroupRegisters:
		return "registers"
	case GroupPatches:
		return "patches"
	}
	return fmt.Sprintf("Group(%d)", int(g))
}

// Range returns the half-open token range of a group.
func (l Layout) Range(g Group) (from, to int) {
	switch g {
	case GroupCLS:
		return 0, 1
	case GroupRegisters:
		return l.Registers()
	default:
		return l.Patches()
	}
}

// States holds the hidden states of one image: Layers x Tokens x Dim float32 values, row-major.
// Layer 0 is the embedding output (before the first block); layer i is the output of block i.
type States struct {
	Layers, Tokens, Dim int
	Data                []float32
}

// NewStates allocates zeroed states.
func NewStates(layers, tokens, dim int) *States {
	return &States{Layers: layers, Tokens: tokens, Dim: dim, Data: make([]float32, layers*tokens*dim)}
}

// Validate checks that the data length matches the shape.
func (s *States) Validate() error {
	if s.Layers <= 0 || s.Tokens <= 0 || s.Dim <= 0 {
		return fmt.Errorf("hidden states: invalid shape %dx%dx%d", s.Layers, s.Tokens, s.Dim)
	}
	if len(s.Data) != s.Layers*s.Tokens*s.Dim {
		return fmt.Errorf("hidden states: shape %dx%dx%d needs %d values, got %d",
			s.Layers, s.Tokens, s.Dim, s.Layers*s.Tokens*s.Dim, len(s.Data))
	}
	return nil
}

// Layer returns the Tokens x Dim slice of one layer (shared, not copied).
func (s *States) Layer(l int) []float32 {
	n := s.Tokens * s.Dim
	return s.Data[l*n : (l+1)*n]
}

// Token returns the Dim-vector of token t at layer l (shared, not copied).
func (s *States) Token(l, t int) []float32 {
	off := (l*s.Tokens + t) * s.Dim
	return s.Data[off : off+s.Dim]
}

// Batch holds the hidden states of several images: Images x Layers x Tokens x Dim, row-major,
// the layout models write them in.
type Batch struct {
	Images, Layers, Tokens, Dim int
	Data                        []float32
}

// Image returns the states of image i (sharing the batch's memory).
func (b *Batch) Image(i int) *States {
	n := b.Layers * b.Tokens * b.Dim
	return &States{Layers: b.Layers, Tokens: b.Tokens, Dim: b.Dim, Data: b.Data[i*n : (i+1)*n]}
}
