package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/blockrec/blockrec/lib/dinov2"
)

func init() {
	register("dinov2", "load DINOv2 checkpoints (folder or HF hub id) and extract per-layer hidden states", runDinov2)
}

// dinov2Sub is one `blockrec dinov2` subcommand as the shared layout shows it: its flags (the
// same names, defaults and help as lib/dinov2's, which TestDinov2FlagsMatchLibrary checks) and
// the range checks made before lib/dinov2 runs it.
type dinov2Sub struct {
	args, about string
	define      func(fs *flag.FlagSet) (check func() error)
}

var dinov2Subs = map[string]dinov2Sub{
	"extract": {"--model M --images DIR --out FILE.safetensors [flags]",
		"Runs a folder of images through a DINOv2 checkpoint and saves every layer's hidden states.",
		func(fs *flag.FlagSet) func() error {
			fs.String("model", "", "checkpoint folder or HF hub id (required)")
			fs.String("images", "", "folder of .jpg/.png images, searched recursively (required)")
			fs.String("out", "", "output .safetensors file (required)")
			resize := fs.Int("resize", 256, "shorter side after the bicubic resize")
			crop := fs.Int("crop", 224, "centre crop side (a multiple of the patch size)")
			batch := fs.Int("batch", 32, "images per forward pass")
			fs.Bool("offline", false, "never download")
			return func() error {
				return checkFlags(fs,
					flagRule{"resize", *resize > 0, "a whole number > 0"},
					flagRule{"crop", *crop > 0, "a whole number > 0"},
					flagRule{"resize", *resize >= *crop, fmt.Sprintf("at least the crop (--crop %d)", *crop)},
					flagRule{"batch", *batch > 0, "a whole number > 0"})
			}
		}},
	"info": {"--model M [--offline]", "Describes a checkpoint (folder or HF hub id).",
		func(fs *flag.FlagSet) func() error {
			fs.String("model", "", "checkpoint folder or HF hub id (required)")
			fs.Bool("offline", false, "never download")
			return func() error { return nil }
		}},
	"generate": {"--out DIR [flags]", "Writes a tiny random checkpoint in HF layout (for tests and notebooks without weights).",
		func(fs *flag.FlagSet) func() error {
			fs.String("out", "", "folder to write config.json and model.safetensors into (required)")
			registers := fs.Int("registers", 0, "register tokens (> 0 makes a Dinov2WithRegistersModel)")
			fs.Bool("swiglu", false, "SwiGLU MLP instead of GELU")
			fs.Uint64("seed", 1, "random seed")
			return func() error {
				return checkFlags(fs, flagRule{"registers", *registers >= 0, "a whole number >= 0 (0: none)"})
			}
		}},
}

// runDinov2 is `blockrec dinov2 extract|info|generate`. The flags are parsed here, in the layout
// every command shares (flags in any order, -h to stdout with status 0, one error line), checked,
// and handed on in canonical form to lib/dinov2, where the logic lives. No arguments, -h, help
// and unknown subcommands go to lib/dinov2 as they are.
func runDinov2(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return dinov2.Main(args, stdout, stderr)
	}
	sub, ok := dinov2Subs[args[0]]
	if !ok {
		return dinov2.Main(args, stdout, stderr)
	}
	name := "dinov2 " + args[0]
	fs := newFlagSet(name, sub.args, sub.about, stderr)
	check := sub.define(fs)
	if code, done := parseFlags(fs, args[1:], 0, stdout); done {
		return code
	}
	if err := check(); err != nil {
		commandError(stderr, name, err)
		return 2
	}
	canonical := []string{args[0]}
	fs.Visit(func(f *flag.Flag) { canonical = append(canonical, "-"+f.Name+"="+f.Value.String()) })
	return dinov2.Main(canonical, stdout, stderr)
}
