package probes

import (
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/internal/testimage"
)

// TestADE20kMiniature builds a two-image SceneParse150 copy and reads it back.
func TestADE20kMiniature(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"ADE_val_00000002", "ADE_val_00000001"} {
		testimage.Write(t, filepath.Join(root, "images", "validation", name+".jpg"), image.NewRGBA(image.Rect(0, 0, 4, 2)), jpeg.DefaultQuality)
		ann := image.NewGray(image.Rect(0, 0, 4, 2))
		for i, v := range []uint8{0, 1, 2, 150, 0, 0, 75, 1} {
			ann.SetGray(i%4, i/4, color.Gray{Y: v})
		}
		testimage.Write(t, filepath.Join(root, "annotations", "validation", name+".png"), ann, jpeg.DefaultQuality)
	}
	pairs, err := ADE20kPairs(root, "validation")
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 || !strings.HasSuffix(pairs[0].Image, "ADE_val_00000001.jpg") ||
		!strings.HasSuffix(pairs[0].Target, filepath.Join("annotations", "validation", "ADE_val_00000001.png")) {
		t.Fatalf("pairs %v", pairs)
	}
	labels, h, w, err := ReadADE20kLabels(pairs[1].Target)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{IgnoreLabel, 0, 1, 149, IgnoreLabel, IgnoreLabel, 74, 0}
	if h != 2 || w != 4 {
		t.Fatalf("size %dx%d", h, w)
	}
	for i := range want {
		if labels[i] != want[i] {
			t.Fatalf("labels %v, want %v", labels, want)
		}
	}
	// An image without annotation is refused by name.
	testimage.Write(t, filepath.Join(root, "images", "validation", "orphan.jpg"), image.NewRGBA(image.Rect(0, 0, 2, 2)), jpeg.DefaultQuality)
	if _, err := ADE20kPairs(root, "validation"); err == nil || !strings.Contains(err.Error(), "orphan.jpg") {
		t.Errorf("orphan image: error %v", err)
	}
}

// TestNYUMiniature builds a Kaggle-style copy (CSV in data/, paths relative to the root) with a
// 16-bit (mm) and an 8-bit (0..10 m) depth map.
func TestNYUMiniature(t *testing.T) {
	root := t.TempDir()
	testimage.Write(t, filepath.Join(root, "data", "nyu2_test", "0_colors.png"), image.NewRGBA(image.Rect(0, 0, 3, 1)), jpeg.DefaultQuality)
	d16 := image.NewGray16(image.Rect(0, 0, 3, 1))
	for x, mm := range []uint16{0, 1500, 9999} {
		d16.SetGray16(x, 0, color.Gray16{Y: mm})
	}
	testimage.Write(t, filepath.Join(root, "data", "nyu2_test", "0_depth.png"), d16, jpeg.DefaultQuality)
	testimage.Write(t, filepath.Join(root, "data", "nyu2_train", "a", "1.jpg"), image.NewRGBA(image.Rect(0, 0, 3, 1)), jpeg.DefaultQuality)
	d8 := image.NewGray(image.Rect(0, 0, 3, 1))
	for x, v := range []uint8{0, 51, 255} {
		d8.SetGray(x, 0, color.Gray{Y: v})
	}
	testimage.Write(t, filepath.Join(root, "data", "nyu2_train", "a", "1.png"), d8, jpeg.DefaultQuality)
	csvPath := filepath.Join(root, "data", "split.csv")
	content := "rgb,depth\ndata/nyu2_test/0_colors.png,data/nyu2_test/0_depth.png\nnyu2_train/a/1.jpg,nyu2_train/a/1.png\n"
	if err := os.WriteFile(csvPath, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	pairs, err := NYUPairs(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 {
		t.Fatalf("pairs %v", pairs)
	}
	for i, want := range [][]float32{{0, 1.5, 9.999}, {0, 2, 10}} {
		d, h, w, err := ReadDepthPNG(pairs[i].Target)
		if err != nil {
			t.Fatal(err)
		}
		if h != 1 || w != 3 {
			t.Fatalf("size %dx%d", h, w)
		}
		for k := range want {
			if d[k] != want[k] {
				t.Errorf("pair %d depth %v, want %v", i, d, want)
				break
			}
		}
	}
	if err := os.WriteFile(csvPath, []byte(content+"missing.jpg,missing.png\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NYUPairs(csvPath); err == nil || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "missing.jpg") {
		t.Errorf("missing file: error %v", err)
	}
}
