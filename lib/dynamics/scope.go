package dynamics

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Scope is a set of tokens: one of the three token groups of a hidden.Layout, or all tokens.
type Scope int

const (
	ScopeCLS Scope = iota
	ScopeRegisters
	ScopePatches
	ScopeAll
)

// GroupScopes are the scopes of the three token groups, in layout order.
var GroupScopes = []Scope{ScopeCLS, ScopeRegisters, ScopePatches}

func (s Scope) String() string {
	switch s {
	case ScopeCLS:
		return "CLS"
	case ScopeRegisters:
		return "registers"
	case ScopePatches:
		return "patches"
	case ScopeAll:
		return "all"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ScopeOf converts a token group to its scope.
func ScopeOf(g hidden.Group) Scope {
	switch g {
	case hidden.GroupCLS:
		return ScopeCLS
	case hidden.GroupRegisters:
		return ScopeRegisters
	}
	return ScopePatches
}

// Range returns the half-open token range [from, to) of a scope in a layout.
func (s Scope) Range(l hidden.Layout) (from, to int) {
	switch s {
	case ScopeCLS:
		return l.Range(hidden.GroupCLS)
	case ScopeRegisters:
		return l.Range(hidden.GroupRegisters)
	case ScopePatches:
		return l.Range(hidden.GroupPatches)
	}
	return 0, l.NumTokens()
}

// Size is the number of tokens in the scope.
func (s Scope) Size(l hidden.Layout) int {
	from, to := s.Range(l)
	return to - from
}

func (s Scope) valid() bool { return s >= ScopeCLS && s <= ScopeAll }

// presentGroups returns the group scopes that hold at least minTokens tokens in the layout.
func presentGroups(l hidden.Layout, minTokens int) []Scope {
	var out []Scope
	for _, s := range GroupScopes {
		if s.Size(l) >= minTokens {
			out = append(out, s)
		}
	}
	return out
}

// checkStates validates one image's states against a layout; who names the caller in errors.
func checkStates(who string, l hidden.Layout, s *hidden.States, minLayers int) error {
	if s == nil {
		return fmt.Errorf("dynamics: %s: nil states", who)
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("dynamics: %s: %w", who, err)
	}
	if s.Tokens != l.NumTokens() {
		return fmt.Errorf("dynamics: %s: states have %d tokens, layout (1 CLS + %d registers + %d patches) needs %d",
			who, s.Tokens, l.NumRegisters, l.NumPatches, l.NumTokens())
	}
	if s.Layers < minLayers {
		return fmt.Errorf("dynamics: %s: states have %d layers, need at least %d", who, s.Layers, minLayers)
	}
	return nil
}

// checkShape checks that an image has the same layers/tokens/dim as the first one an accumulator saw.
func checkShape(who string, layers, tokens, dim int, s *hidden.States) error {
	if layers != 0 && (s.Layers != layers || s.Tokens != tokens || s.Dim != dim) {
		return fmt.Errorf("dynamics: %s: states are %dx%dx%d but earlier images were %dx%dx%d",
			who, s.Layers, s.Tokens, s.Dim, layers, tokens, dim)
	}
	return nil
}
