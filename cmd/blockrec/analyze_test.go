package main

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/internal/testimage"
	"github.com/blockrec/blockrec/lib/dinov2"
)

// analyzeInputs writes a tiny 5-block DINOv2 checkpoint and an image folder with good images, a
// grey PNG, a CMYK JPEG, a corrupt file and a 2×2 image.
func analyzeInputs(t *testing.T) (model, images string) {
	t.Helper()
	dir := t.TempDir()
	model = filepath.Join(dir, "tiny")
	c := dinov2.TinyHFConfig(0, false)
	c.NumHiddenLayers = 5
	if err := dinov2.Generate(model, c, 3); err != nil {
		t.Fatal(err)
	}
	images = filepath.Join(dir, "images")
	for i := range 6 {
		img := image.NewNRGBA(image.Rect(0, 0, 20, 17+i))
		for y := range img.Rect.Dy() {
			for x := range 20 {
				img.Set(x, y, color.NRGBA{uint8(13 * x * (i + 1)), uint8(29 * y), uint8(7 * (x + y + i)), 255})
			}
		}
		testimage.Write(t, filepath.Join(images, "good", string(rune('a'+i))+".png"), img, 0)
	}
	testimage.Write(t, filepath.Join(images, "grey.png"), image.NewGray(image.Rect(0, 0, 16, 16)), 0)
	testimage.Write(t, filepath.Join(images, "tiny.png"), image.NewNRGBA(image.Rect(0, 0, 2, 2)), 0)
	cmyk, err := os.ReadFile(filepath.Join("..", "..", "lib", "data", "testdata", "cmyk.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"cmyk.jpg": cmyk, "corrupt.png": []byte("\x89PNG\r\n\x1a\n broken")} {
		if err := os.WriteFile(filepath.Join(images, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return model, images
}

// TestAnalyzeCommandErrors: bad flags, an unsupported model and a K too large for the model are
// refused with one "blockrec analyze:" line, before --out is created.
func TestAnalyzeCommandErrors(t *testing.T) {
	model, images := analyzeInputs(t)
	hfViT := filepath.Join(t.TempDir(), "swin")
	if err := os.MkdirAll(hfViT, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hfViT, "config.json"), []byte(`{"model_type": "swin"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	base := func(m string, extra ...string) []string {
		return append([]string{"analyze", m, "--images", images, "--out", out}, extra...)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{base(model, "--batch", "0"), 2, "--batch 0: must be a whole number > 0"},
		{base(model, "--bootstrap", "-1"), 2, "--bootstrap -1: must be a whole number >= 0"},
		{base(model, "--null-replicates", "-3"), 2, "--null-replicates -3: must be"},
		{base(model, "--max-images", "-1"), 2, "--max-images -1: must be"},
		{base(model, "--ks", "2,x"), 2, `--ks "2,x": must be whole numbers >= 1`},
		{base(model, "--ks", "2,2"), 2, "2 is given twice"},
		{base(model, "--ks", "5"), 2, "--ks 5: number of phases 5: at most 4 for a model of 5 blocks"},
		{base(model, "--images", filepath.Join(images, "nowhere")), 2, "not a folder"},
		{base(hfViT), 2, `model_type "swin" is not supported; supported families: dinov2`},
		{base("microsoft/swin-tiny-patch4-window7-224"), 2, "supported families: dinov2"},
		{[]string{"analyze", "--images", images, "--out", out}, 2, "0 arguments given, want 1"},
		{[]string{"analyze", model, "--out", out}, 2, "--images and --out are required"},
		{base(model, "--bogus"), 2, "flag provided but not defined: -bogus"},
	} {
		var o, e bytes.Buffer
		code := dispatch(tc.args, &o, &e)
		if code != tc.code || !strings.HasPrefix(e.String(), "blockrec analyze: ") || !strings.Contains(e.String(), tc.want) ||
			strings.Count(e.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want %d and one line with %q", tc.args[1:], code, e.String(), tc.code, tc.want)
		}
		if exists(out) {
			t.Fatalf("%q created %s", tc.args[1:], out)
		}
	}
	var o, e bytes.Buffer
	if code := dispatch([]string{"analyze", "-h"}, &o, &e); code != 0 || !strings.Contains(o.String(), "--null-replicates") && !strings.Contains(o.String(), "-null-replicates") {
		t.Errorf("analyze -h: exit %d, %q", code, o.String())
	}
}
