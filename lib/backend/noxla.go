//go:build noxla

package backend

import (
	"errors"

	"github.com/gomlx/gomlx/backends"
)

func findPlugins() map[string]string { return nil }

func newXLA(string) (backends.Backend, error) {
	return nil, errors.New("this binary was built with -tags noxla: the XLA backend is not compiled in")
}

func readPluginAPIVersion(path string) (int, int, error) {
	return 0, 0, errors.New("this binary was built with -tags noxla: it cannot load PJRT plugin " + path)
}
