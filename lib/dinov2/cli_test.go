package dinov2

import (
	"bytes"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/internal/testimage"
	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
)

func writePNG(t *testing.T, path string, w, h int, seed uint8) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*13) + seed, uint8(y*7) ^ seed, seed * 3, 255})
		}
	}
	testimage.Write(t, path, img, 0) // a .png name: the quality is unused
}

// TestCLIExtract: generate a checkpoint, extract a folder of images to a file, read it back and
// compare with a direct Extract of the same preprocessed pixels.
func TestCLIExtract(t *testing.T) {
	tmp := t.TempDir()
	model, imgs, out := filepath.Join(tmp, "model"), filepath.Join(tmp, "imgs"), filepath.Join(tmp, "acts.safetensors")
	writePNG(t, filepath.Join(imgs, "a", "1.png"), 30, 24, 1)
	writePNG(t, filepath.Join(imgs, "b", "2.png"), 20, 40, 2)
	writePNG(t, filepath.Join(imgs, "3.PNG"), 25, 25, 3)
	var so, se bytes.Buffer
	if code := Main([]string{"generate", "--out", model, "--registers", "2"}, &so, &se); code != 0 {
		t.Fatalf("generate: %d %s", code, se.String())
	}
	args := []string{"extract", "--model", model, "--images", imgs, "--out", out, "--resize", "20", "--crop", "16", "--batch", "2"}
	if code := Main(args, &so, &se); code != 0 {
		t.Fatalf("extract: %d %s", code, se.String())
	}
	acts, paths, err := ReadExtracted(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || !strings.HasSuffix(paths[0], "3.PNG") || acts.Hidden.Layers != 4 || acts.Hidden.Tokens != 1+2+16 {
		t.Fatalf("paths %v, batch %dx%dx%dx%d", paths, acts.Hidden.Images, acts.Hidden.Layers, acts.Hidden.Tokens, acts.Hidden.Dim)
	}
	m, err := LoadDir(model)
	if err != nil {
		t.Fatal(err)
	}
	px, err := LoadImages(paths, data.Preprocessor{Resize: 20, Crop: 16, Filter: data.Bicubic, Stats: data.ImageNetStats})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := Extract(backend.MustNew(), m, px, 3, 16, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	if e := relError(acts.Hidden.Data, direct.Data); e > 1e-6 {
		t.Errorf("file and direct extraction differ: %.3g", e)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage: blockrec dinov2"},
		{[]string{"-h"}, 0, "extract"},
		{[]string{"frobnicate"}, 2, `unknown subcommand "frobnicate"`},
		{[]string{"extract", "--model", "x"}, 2, "--images and --out are required"},
		{[]string{"info", "--model", "facebook/dinov2-small", "--offline"}, 1, "facebook/dinov2-small"},
		{[]string{"info", "--model", "./nowhere"}, 1, "neither a folder nor a hub id"},
	} {
		var so, se bytes.Buffer
		code := Main(tc.args, &so, &se)
		if code != tc.code || !strings.Contains(so.String()+se.String(), tc.msg) {
			t.Errorf("Main(%q) = %d, output %q; want %d with %q", tc.args, code, so.String()+se.String(), tc.code, tc.msg)
		}
	}
}
