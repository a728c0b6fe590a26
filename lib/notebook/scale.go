package notebook

import (
	"fmt"
	"os"
	"strings"
)

// ScaleEnv is the environment variable holding the scale knob.
const ScaleEnv = "BLOCKREC_SCALE"

// Level is how much compute a run spends: the same notebook or command runs at any level, only
// its sizes (images, steps, layers, seeds) change.
type Level string

const (
	// Smoke is the smallest run that exercises every code path: seconds to a few minutes on a
	// laptop. Tests and CI use it. Its numbers mean nothing.
	Smoke Level = "smoke"
	// CPU is the largest run that fits a few hours on a laptop CPU with the pure-Go backend.
	// Its figures show the shapes of the effects, on small models and data.
	CPU Level = "cpu"
	// Paper is the configuration of the paper (real DINOv2 weights, full data): a GPU is needed.
	Paper Level = "paper"
)

// DefaultScale is the level used when BLOCKREC_SCALE is unset or empty.
const DefaultScale = CPU

// Levels lists the valid levels, smallest first.
var Levels = []Level{Smoke, CPU, Paper}

// ParseScale validates a scale name; the empty string gives DefaultScale.
func ParseScale(s string) (Level, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultScale, nil
	}
	for _, l := range Levels {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("blockrec: %s=%q is not a scale: use one of smoke, cpu, paper", ScaleEnv, s)
}

// LookupScale returns the level set by BLOCKREC_SCALE (DefaultScale when unset), or an error
// naming the bad value.
func LookupScale() (Level, error) { return ParseScale(os.Getenv(ScaleEnv)) }

// Scale returns the level set by BLOCKREC_SCALE (DefaultScale when unset). It panics with a clear
// message on an unknown value, which in a notebook fails the cell; commands should use
// LookupScale and report the error.
func Scale() Level {
	l, err := LookupScale()
	if err != nil {
		panic(err)
	}
	return l
}

// ByScale picks the value for the current level (see Scale): the usual way for a notebook to set a
// size, e.g. steps := notebook.ByScale(20, 2_000, 100_000).
func ByScale[T any](smoke, cpu, paper T) T {
	return Pick(Scale(), smoke, cpu, paper)
}

// Pick returns the value for level l.
func Pick[T any](l Level, smoke, cpu, paper T) T {
	switch l {
	case Smoke:
		return smoke
	case Paper:
		return paper
	default:
		return cpu
	}
}
