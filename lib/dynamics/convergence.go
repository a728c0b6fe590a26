package dynamics

import (
	"github.com/blockrec/blockrec/lib/hidden"
)

// Convergence accumulates direction convergence γ_l = cos(x_l, x_L) of every token to its own
// final-layer direction, per token group, over a stream of images.
type Convergence struct {
	groupDists // d is [scope][layer]
}

// ConvergenceResult holds γ per layer l = 0..L for each token group present in the layout.
// Stats are over tokens × images; γ_L = 1 by definition.
type ConvergenceResult struct {
	Images int
	Groups []Series
}

// Group returns the series of one token group.
func (r ConvergenceResult) Group(s Scope) (Series, bool) { return findSeries(r.Groups, s) }

// NewConvergence returns an empty accumulator for states with the given token layout.
func NewConvergence(layout hidden.Layout) *Convergence {
	return &Convergence{groupDists: groupDists{layout: layout, scopes: presentGroups(layout, 1)}}
}

func (c *Convergence) init(layers, tokens, dim int) {
	c.layers, c.tokens, c.dim = layers, tokens, dim
	c.d = make([][]*dist, len(c.scopes))
	for i := range c.d {
		c.d[i] = make([]*dist, layers)
		for l := range c.d[i] {
			c.d[i][l] = newLinearDist(-1, 1)
		}
	}
}

// Add accumulates one image.
func (c *Convergence) Add(s *hidden.States) error {
	if err := checkStates("convergence", c.layout, s, 1); err != nil {
		return err
	}
	if err := checkShape("convergence", c.layers, c.tokens, c.dim, s); err != nil {
		return err
	}
	if c.d == nil {
		c.init(s.Layers, s.Tokens, s.Dim)
	}
	last := s.Layers - 1
	for si, sc := range c.scopes {
		from, to := sc.Range(c.layout)
		for t := from; t < to; t++ {
			final := s.Token(last, t)
			nf := norm32(final)
			for l := 0; l < s.Layers; l++ {
				x := s.Token(l, t)
				nx := norm32(x)
				g := 0.0
				if nx > 0 && nf > 0 {
					g = clamp(dot32(x, final)/(nx*nf), -1, 1)
				}
				c.d[si][l].add(g)
			}
		}
	}
	c.images++
	return nil
}

// Merge adds the images accumulated by o (same layout and shape) into c.
func (c *Convergence) Merge(o *Convergence) error {
	return c.groupDists.merge("convergence", &o.groupDists, c.init)
}

// Result returns γ per layer and group.
func (c *Convergence) Result() ConvergenceResult {
	r := ConvergenceResult{Images: c.images}
	layers := seqInts(0, c.layers)
	for i, sc := range c.scopes {
		if c.d == nil {
			break
		}
		r.Groups = append(r.Groups, seriesOf(sc, layers, c.d[i]))
	}
	return r
}
