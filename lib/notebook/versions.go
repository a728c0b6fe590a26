package notebook

import (
	"runtime"
	"runtime/debug"
)

// Version is one component of the running program and its version.
type Version struct {
	Name, Version string
}

// tracked are the modules whose versions matter for reproducing results, in display order.
var tracked = []struct{ name, module string }{
	{"gomlx", "github.com/gomlx/gomlx"},
	{"go-xla", "github.com/gomlx/go-xla"},
	{"gonum/plot", "gonum.org/v1/plot"},
	{"go-huggingface", "github.com/gomlx/go-huggingface"},
	{"gonb", "github.com/janpfeifer/gonb"},
}

// Versions lists the Go toolchain, blockrec itself (its VCS revision when the binary was built
// from a git checkout) and the key modules linked into the running program. A module not linked
// in is left out.
func Versions() []Version {
	out := []Version{{"go", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	deps := map[string]*debug.Module{}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			r := *d.Replace
			if r.Version == "" {
				r.Version = "local " + r.Path
			}
			deps[d.Path] = &r
		} else {
			deps[d.Path] = d
		}
	}
	self := "(devel)"
	if bi.Main.Path == ModulePath && bi.Main.Version != "" {
		self = bi.Main.Version
	} else if d, ok := deps[ModulePath]; ok {
		self = d.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			self += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			self += " (modified)"
		}
	}
	out = append(out, Version{"blockrec", self})
	for _, t := range tracked {
		if d, ok := deps[t.module]; ok {
			out = append(out, Version{t.name, d.Version})
		}
	}
	return out
}
