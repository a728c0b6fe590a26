package testimage_test

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/blockrec/blockrec/internal/testimage"
)

// TestFormatFollowsExtension writes one image under several names and checks the decoder the
// file's bytes select, and that PNG round-trips exactly.
func TestFormatFollowsExtension(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 37)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	dir := t.TempDir()
	for _, tc := range []struct{ name, format string }{
		{"a.jpg", "jpeg"}, {"b.JPEG", "jpeg"}, {"sub/c.jpeg", "jpeg"}, {"d.png", "png"}, {"e.PNG", "png"},
	} {
		path := filepath.Join(dir, tc.name)
		testimage.Write(t, path, img, 90)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, format, err := image.Decode(f)
		f.Close()
		if err != nil || format != tc.format {
			t.Fatalf("%s: decoded as %q (%v), want %s", tc.name, format, err, tc.format)
		}
		if format == "png" {
			for y := range 2 {
				for x := range 3 {
					if color.NRGBAModel.Convert(got.At(x, y)) != img.At(x, y) {
						t.Fatalf("%s: pixel (%d,%d) changed", tc.name, x, y)
					}
				}
			}
		}
	}
}
