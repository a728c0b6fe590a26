package dinov2_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/dinov2"
)

// A notebook without real weights generates a tiny checkpoint in HF layout and runs the same
// pipeline it would run on facebook/dinov2-with-registers-base.
func Example() {
	dir, _ := os.MkdirTemp("", "dinov2")
	defer os.RemoveAll(dir)
	ckpt := filepath.Join(dir, "tiny")
	if err := dinov2.Generate(ckpt, dinov2.TinyHFConfig(4, false), 1); err != nil {
		panic(err)
	}
	m, err := dinov2.Load(ckpt, dinov2.HubOptions{Offline: true})
	if err != nil {
		panic(err)
	}
	images := make([]float32, 2*16*16*3) // two normalised 16×16 NHWC images
	states, err := dinov2.Extract(backend.MustNew(), m, images, 2, 16, 16, 8)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d images, %d layers, %d tokens (CLS + 4 registers + 16 patches), dim %d\n",
		states.Images, states.Layers, states.Tokens, states.Dim)
	// Output: 2 images, 4 layers, 21 tokens (CLS + 4 registers + 16 patches), dim 32
}
