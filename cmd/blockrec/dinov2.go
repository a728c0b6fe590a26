package main

import (
	"io"

	"github.com/blockrec/blockrec/lib/dinov2"
)

func init() {
	register("dinov2", "load DINOv2 checkpoints (folder or HF hub id) and extract per-layer hidden states", runDinov2)
}

// runDinov2 is `blockrec dinov2 extract|info|generate`; the logic lives in lib/dinov2.
func runDinov2(args []string, stdout, stderr io.Writer) int { return dinov2.Main(args, stdout, stderr) }
