package data

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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

// writeBytes writes raw bytes to dir/name and returns the path.
func writeBytes(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadImageRGB: every colour model comes out as RGB, checked pixel by pixel against the
// standard library's own conversions (color.GrayModel replication, color.CMYKToRGB) and, for the
// CMYK JPEG written by Pillow, against the RGB that Pillow itself converts it to; bad files are
// refused with an error naming them.
func TestReadImageRGB(t *testing.T) {
	dir := t.TempDir()
	grey := image.NewGray(image.Rect(0, 0, 7, 5))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(30 * i)
	}
	testimage.Write(t, filepath.Join(dir, "grey.png"), grey, 0)
	testimage.Write(t, filepath.Join(dir, "grey.jpg"), grey, 90)
	testimage.Write(t, filepath.Join(dir, "rgb.png"), randomNRGBA(6, 9, 3), 0)
	testimage.Write(t, filepath.Join(dir, "tiny.png"), randomNRGBA(3, 9, 4), 0)
	good, err := os.ReadFile(filepath.Join(dir, "rgb.png"))
	if err != nil {
		t.Fatal(err)
	}
	writeBytes(t, dir, "garbage.jpg", []byte("this is not an image"))
	writeBytes(t, dir, "truncated.png", good[:len(good)/2])
	writeBytes(t, dir, "empty.png", nil)

	for _, tc := range []struct {
		name    string
		path    string
		h, w    int
		wantErr string // "" for success
	}{
		{"grey PNG", filepath.Join(dir, "grey.png"), 5, 7, ""},
		{"grey JPEG", filepath.Join(dir, "grey.jpg"), 5, 7, ""},
		{"RGB PNG", filepath.Join(dir, "rgb.png"), 6, 9, ""},
		{"CMYK JPEG (Pillow)", filepath.Join("testdata", "cmyk.jpg"), 6, 8, ""},
		{"smaller than minSide", filepath.Join(dir, "tiny.png"), 0, 0, "smaller than the 4 px minimum side"},
		{"not an image", filepath.Join(dir, "garbage.jpg"), 0, 0, "unreadable or corrupt"},
		{"truncated", filepath.Join(dir, "truncated.png"), 0, 0, "unreadable or corrupt"},
		{"empty", filepath.Join(dir, "empty.png"), 0, 0, "unreadable or corrupt"},
		{"missing", filepath.Join(dir, "missing.png"), 0, 0, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pix, h, w, err := ReadImageRGB(tc.path, 4)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.path) {
					t.Fatalf("err %v, want one naming %s with %q", err, tc.path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.h || w != tc.w || len(pix) != h*w*3 {
				t.Fatalf("%dx%d (%d bytes), want %dx%d", w, h, len(pix), tc.w, tc.h)
			}
			if got, want := pix, referenceRGB(t, tc.path); !slices.Equal(got, want) {
				t.Errorf("pixels differ from the image.At reference")
			}
		})
	}
	if _, _, _, err := ReadImageRGB(filepath.Join(dir, "tiny.png"), 4); !errors.Is(err, ErrImageTooSmall) {
		t.Errorf("tiny image: %v does not wrap ErrImageTooSmall", err)
	}
	if _, _, _, err := ReadImageRGB(filepath.Join(dir, "tiny.png"), 3); err != nil {
		t.Errorf("tiny image at its own size: %v", err)
	}
}

// TestCMYKJPEG: the CMYK JPEG decodes as CMYK (so the conversion is exercised), each pixel is
// color.CMYKToRGB of its CMYK value, and the colours are those Pillow converts the file to
// (Pillow printed (51,235,180) at (1,1) and (235,69,180) at (6,5) when it wrote the file).
func TestCMYKJPEG(t *testing.T) {
	path := filepath.Join("testdata", "cmyk.jpg")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cm, ok := img.(*image.CMYK)
	if !ok {
		t.Fatalf("decoded as %T, want *image.CMYK", img)
	}
	pix, h, w := ToRGB(cm)
	for y := range h {
		for x := range w {
			c := cm.CMYKAt(x, y)
			r, g, b := color.CMYKToRGB(c.C, c.M, c.Y, c.K)
			o := (y*w + x) * 3
			if pix[o] != r || pix[o+1] != g || pix[o+2] != b {
				t.Fatalf("(%d,%d): %v, want %v", x, y, pix[o:o+3], []uint8{r, g, b})
			}
		}
	}
	for _, tc := range []struct {
		x, y    int
		r, g, b int
	}{{1, 1, 51, 235, 180}, {6, 5, 235, 69, 180}} {
		o := (tc.y*w + tc.x) * 3
		for i, want := range []int{tc.r, tc.g, tc.b} {
			if d := int(pix[o+i]) - want; d < -12 || d > 12 {
				t.Errorf("(%d,%d) channel %d: %d, Pillow says %d", tc.x, tc.y, i, pix[o+i], want)
			}
		}
	}
}

// TestPreprocessFiles: bad files are skipped with their errors, the kept images come out in
// order and equal to preprocessing them one by one.
func TestPreprocessFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, size := range []int{10, 3, 12, 9} {
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i))
		testimage.Write(t, p, randomNRGBA(size, size+2, uint64(i)), 0)
		paths = append(paths, p)
	}
	paths = append(paths, writeBytes(t, dir, "bad.jpg", []byte{0xff, 0xd8, 0xff, 0x00}))
	p := Preprocessor{Resize: 8, Crop: 8, Filter: Bicubic, Stats: ImageNetStats}
	for _, workers := range []int{1, 3} {
		out, kept, skipped := PreprocessFiles(paths, p, 4, workers)
		if !slices.Equal(kept, []int{0, 2, 3}) {
			t.Fatalf("workers %d: kept %v, want [0 2 3]", workers, kept)
		}
		if len(skipped) != 2 || skipped[0].Path != paths[1] || !errors.Is(skipped[0].Err, ErrImageTooSmall) || skipped[1].Path != paths[4] {
			t.Fatalf("workers %d: skipped %v", workers, skipped)
		}
		n := p.OutputSize()
		if len(out) != len(kept)*n {
			t.Fatalf("%d values, want %d", len(out), len(kept)*n)
		}
		for j, i := range kept {
			pix, h, w, err := ReadImageRGB(paths[i], 0)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, n)
			if err := p.ApplyHWC(want, pix, h, w); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out[j*n:(j+1)*n], want) {
				t.Errorf("workers %d: image %d differs from preprocessing it alone", workers, i)
			}
		}
	}
}
