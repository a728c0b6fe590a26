// Package testctx gives tests GoMLX contexts whose random initialisers draw from a fixed seed, so
// a test's random parameters (and any tolerance checked on them) are the same on every run.
package testctx

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Seed is the seed every context from New starts from.
const Seed = 1234

// New returns a new context seeded with Seed; a failure to seed fails the test.
func New(t testing.TB) *context.Context {
	t.Helper()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(Seed); err != nil {
		t.Fatal(err)
	}
	return ctx
}
