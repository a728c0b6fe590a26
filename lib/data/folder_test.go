package data

import (
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/internal/testimage"
)

func randomNRGBA(h, w int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

// referenceRGB decodes a file through the generic image.At path, independently of ToRGB's fast paths.
func referenceRGB(t *testing.T, path string) []uint8 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	var out []uint8
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
		}
	}
	return out
}

func TestReadImageFolder(t *testing.T) {
	root := t.TempDir()
	files := []struct {
		path  string
		class int32
	}{
		{"apple/b.jpg", 0}, {"apple/a.JPEG", 0}, {"apple/c.png", 0},
		{"mango/x.png", 1},
		{"zebra/1.jpeg", 2}, {"zebra/2.png", 2},
	}
	for i, f := range files {
		testimage.Write(t, filepath.Join(root, f.path), randomNRGBA(8, 8, uint64(i)), 90)
	}
	os.WriteFile(filepath.Join(root, "mango", "notes.txt"), []byte("not an image"), 0o644)
	os.MkdirAll(filepath.Join(root, ".hidden"), 0o755)
	os.WriteFile(filepath.Join(root, "README.txt"), []byte("top-level file"), 0o644)
	// Expected order: classes by name, files by name within a class.
	order := []string{"apple/a.JPEG", "apple/b.jpg", "apple/c.png", "mango/x.png", "zebra/1.jpeg", "zebra/2.png"}
	wantLabels := []int32{0, 0, 0, 1, 2, 2}

	for _, workers := range []int{1, 3} {
		d, err := ReadImageFolder(context.Background(), root, FolderOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(d.ClassNames, ",") != "apple,mango,zebra" || d.Len() != 6 || d.H != 8 || d.W != 8 || d.C != 3 {
			t.Fatalf("classes %v, %d images of %dx%dx%d", d.ClassNames, d.Len(), d.H, d.W, d.C)
		}
		for i, p := range order {
			if d.Labels[i] != wantLabels[i] {
				t.Errorf("%s: label %d, want %d", p, d.Labels[i], wantLabels[i])
			}
			want := referenceRGB(t, filepath.Join(root, p))
			if string(d.Image(i)) != string(want) {
				t.Errorf("%s (workers=%d): pixels differ from the reference decoding", p, workers)
			}
		}
	}

	// PNG is lossless: the pixels are exactly those written.
	d, _ := ReadImageFolder(context.Background(), root, FolderOptions{})
	src := randomNRGBA(8, 8, 3) // mango/x.png
	for p := range 64 {
		for c := range 3 {
			if d.Image(3)[p*3+c] != src.Pix[p*4+c] {
				t.Fatalf("png pixel %d channel %d: %d, want %d", p, c, d.Image(3)[p*3+c], src.Pix[p*4+c])
			}
		}
	}

	// MaxPerClass keeps the first files by name.
	d, err := ReadImageFolder(context.Background(), root, FolderOptions{MaxPerClass: 1})
	if err != nil || d.Len() != 3 || d.Labels[2] != 2 {
		t.Fatalf("MaxPerClass: %v, %d images", err, d.Len())
	}
}

func TestReadImageFolderResizeAndErrors(t *testing.T) {
	root := t.TempDir()
	uniform := image.NewNRGBA(image.Rect(0, 0, 16, 12))
	for i := 0; i < len(uniform.Pix); i += 4 {
		copy(uniform.Pix[i:], []uint8{200, 100, 50, 255})
	}
	testimage.Write(t, filepath.Join(root, "a", "big.png"), uniform, 90)
	testimage.Write(t, filepath.Join(root, "b", "small.png"), randomNRGBA(8, 8, 1), 90)

	// Mixed sizes without Size: an error naming the odd file.
	_, err := ReadImageFolder(context.Background(), root, FolderOptions{})
	if err == nil || !strings.Contains(err.Error(), "small.png") {
		t.Fatalf("error %v, want one naming small.png", err)
	}
	// With Size, all are resized; a uniform image stays uniform.
	d, err := ReadImageFolder(context.Background(), root, FolderOptions{Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	for p := range 64 {
		if got := d.Image(0)[p*3 : p*3+3]; got[0] != 200 || got[1] != 100 || got[2] != 50 {
			t.Fatalf("resized uniform image pixel %d = %v", p, got)
		}
	}
	// The 8×8 image is untouched by a same-size "resize".
	src := randomNRGBA(8, 8, 1)
	for p := range 64 {
		if d.Image(1)[p*3] != src.Pix[p*4] {
			t.Fatalf("same-size image changed at pixel %d", p)
		}
	}

	// A broken image file and an empty class folder are errors naming them.
	os.WriteFile(filepath.Join(root, "b", "broken.jpg"), []byte("not a jpeg"), 0o644)
	if _, err := ReadImageFolder(context.Background(), root, FolderOptions{Size: 8}); err == nil || !strings.Contains(err.Error(), "broken.jpg") {
		t.Fatalf("error %v, want one naming broken.jpg", err)
	}
	os.Remove(filepath.Join(root, "b", "broken.jpg"))
	os.MkdirAll(filepath.Join(root, "c"), 0o755)
	if _, err := ReadImageFolder(context.Background(), root, FolderOptions{Size: 8}); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Fatalf("error %v, want one naming class folder c", err)
	}
}

func TestToRGBGray(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.SetGray(1, 0, color.Gray{Y: 77})
	pix, h, w := ToRGB(g)
	if h != 1 || w != 2 || string(pix) != string([]uint8{0, 0, 0, 77, 77, 77}) {
		t.Fatalf("ToRGB(gray) = %v %dx%d", pix, h, w)
	}
}
