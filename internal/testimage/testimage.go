// Package testimage writes image files for tests that build miniature data sets on disk.
package testimage

import (
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write encodes img to path, creating its folder: as JPEG at jpegQuality (1–100) when the name
// ends in .jpg or .jpeg (any case), otherwise as PNG. Any failure fails the test.
func Write(t testing.TB, path string, img image.Image, jpegQuality int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg":
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: jpegQuality})
	default:
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}
