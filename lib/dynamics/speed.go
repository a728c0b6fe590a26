package dynamics

import (
	"math"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Speed accumulates the angular speed s_l = ∠(x_l, x_{l+1}) (radians, on the unit sphere) of
// every token, per token group, over a stream of images. s_l is the step made by block l+1.
type Speed struct {
	groupDists // d is [scope][step]
	norms      []float64
}

// SpeedResult holds s_l for l = 0..L-1 (Series.Layers[i] = l, the step from layer l to l+1) for
// each token group present. Stats are over tokens × images.
type SpeedResult struct {
	Images int
	Groups []Series
}

// Group returns the series of one token group.
func (r SpeedResult) Group(s Scope) (Series, bool) { return findSeries(r.Groups, s) }

// NewSpeed returns an empty accumulator for states with the given token layout.
func NewSpeed(layout hidden.Layout) *Speed {
	return &Speed{groupDists: groupDists{layout: layout, scopes: presentGroups(layout, 1)}}
}

func (c *Speed) init(layers, tokens, dim int) {
	c.layers, c.tokens, c.dim = layers, tokens, dim
	c.d = make([][]*dist, len(c.scopes))
	for i := range c.d {
		c.d[i] = make([]*dist, layers-1)
		for l := range c.d[i] {
			c.d[i][l] = newLinearDist(0, math.Pi)
		}
	}
}

// Add accumulates one image (at least 2 layers).
func (c *Speed) Add(s *hidden.States) error {
	if err := checkStates("speed", c.layout, s, 2); err != nil {
		return err
	}
	if err := checkShape("speed", c.layers, c.tokens, c.dim, s); err != nil {
		return err
	}
	if c.d == nil {
		c.init(s.Layers, s.Tokens, s.Dim)
	}
	if cap(c.norms) < s.Layers*s.Tokens {
		c.norms = make([]float64, s.Layers*s.Tokens)
	}
	norms := c.norms[:s.Layers*s.Tokens]
	for l := 0; l < s.Layers; l++ {
		tokenNorms(s.Layer(l), s.Tokens, s.Dim, norms[l*s.Tokens:(l+1)*s.Tokens])
	}
	for si, sc := range c.scopes {
		from, to := sc.Range(c.layout)
		for t := from; t < to; t++ {
			for l := 0; l+1 < s.Layers; l++ {
				a := angle32(s.Token(l, t), s.Token(l+1, t), norms[l*s.Tokens+t], norms[(l+1)*s.Tokens+t])
				c.d[si][l].add(a)
			}
		}
	}
	c.images++
	return nil
}

// Merge adds the images accumulated by o (same layout and shape) into c.
func (c *Speed) Merge(o *Speed) error {
	return c.groupDists.merge("speed", &o.groupDists, c.init)
}

// Result returns s_l per step and group.
func (c *Speed) Result() SpeedResult {
	r := SpeedResult{Images: c.images}
	if c.d == nil {
		return r
	}
	steps := seqInts(0, c.layers-1)
	for i, sc := range c.scopes {
		r.Groups = append(r.Groups, seriesOf(sc, steps, c.d[i]))
	}
	return r
}
