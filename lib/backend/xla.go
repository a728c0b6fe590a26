//go:build !noxla

package backend

import (
	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

func init() {
	// Never download plugins: there is no route to GitHub or PyPI on our machines.
	xla.EnableAutoInstall(false)
}

func findPlugins() map[string]string { return pjrt.AvailablePlugins() }

func newXLA(config string) (backends.Backend, error) { return xla.New(config) }
