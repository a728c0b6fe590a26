package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file of unsigned bytes with the given shape.
func idxBytes(shape []int, payload []byte) []byte {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 0x08, byte(len(shape))})
	for _, d := range shape {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	buf.Write(payload)
	return buf.Bytes()
}

func writeGz(t *testing.T, path string, raw []byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(raw)
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sha(raw []byte) string {
	s := sha256.Sum256(raw)
	return hex.EncodeToString(s[:])
}

// miniFashion writes a Fashion-MNIST folder with nTrain and nTest images into dir and returns a
// spec holding the checksums of what it wrote. Image i's pixel (y, x) is (i + y + x) mod 256 and
// its label i mod 10.
func miniFashion(t *testing.T, dir string, nTrain, nTest int) FashionMNISTSpec {
	t.Helper()
	spec := FashionMNIST
	files := []struct {
		f      *idxFile
		images bool
		n      int
	}{{&spec.TrainImages, true, nTrain}, {&spec.TrainLabels, false, nTrain}, {&spec.TestImages, true, nTest}, {&spec.TestLabels, false, nTest}}
	for _, f := range files {
		var raw []byte
		if f.images {
			pix := make([]byte, f.n*28*28)
			for i := range f.n {
				for y := range 28 {
					for x := range 28 {
						pix[i*784+y*28+x] = byte(i + y + x)
					}
				}
			}
			raw = idxBytes([]int{f.n, 28, 28}, pix)
		} else {
			lab := make([]byte, f.n)
			for i := range lab {
				lab[i] = byte(i % 10)
			}
			raw = idxBytes([]int{f.n}, lab)
		}
		writeGz(t, filepath.Join(dir, f.f.Name), raw)
		f.f.SHA256 = sha(raw)
	}
	return spec
}

func TestLoadFashionMNIST(t *testing.T) {
	dir := t.TempDir()
	spec := miniFashion(t, dir, 12, 5)
	s, err := LoadFashionMNIST(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != FashionMNISTName || s.Kind() != KindFashionMNIST || s.Train.Len() != 12 || s.Test.Len() != 5 || s.NumClasses() != 10 {
		t.Fatalf("got %q %v %d/%d images, %d classes", s.Name(), s.Kind(), s.Train.Len(), s.Test.Len(), s.NumClasses())
	}
	if !strings.Contains(s.Provenance(), "Fashion-MNIST results") {
		t.Errorf("provenance %q does not say the results are Fashion-MNIST results", s.Provenance())
	}
	tr := s.Train
	if tr.H != 32 || tr.W != 32 || tr.C != 3 {
		t.Fatalf("images %dx%dx%d, want 32x32x3", tr.H, tr.W, tr.C)
	}
	px := func(d *Dataset, i, y, x, c int) byte { return d.Image(i)[(y*32+x)*3+c] }
	cases := []struct {
		name       string
		i, y, x, c int
		want       byte
	}{
		{"border top-left", 3, 0, 0, 0, 0},
		{"border right", 3, 10, 31, 1, 0},
		{"border bottom", 7, 30, 15, 2, 0},
		{"first inner pixel", 3, 2, 2, 0, 3},
		{"inner, green = grey", 4, 2 + 5, 2 + 9, 1, 4 + 5 + 9},
		{"inner, blue = grey", 11, 29, 29, 2, 11 + 27 + 27},
	}
	for _, c := range cases {
		if got := px(tr, c.i, c.y, c.x, c.c); got != c.want {
			t.Errorf("%s: image %d (%d,%d) channel %d = %d, want %d", c.name, c.i, c.y, c.x, c.c, got, c.want)
		}
	}
	for i, l := range s.Test.Labels {
		if int(l) != i%10 {
			t.Fatalf("test label %d = %d, want %d", i, l, i%10)
		}
	}
	if s.Train.ClassNames[9] != "ankle boot" || s.Test.Stats.Mean[0] != s.Train.Stats.Mean[0] {
		t.Errorf("class names %v or test stats %v not those of train %v", s.Train.ClassNames, s.Test.Stats, s.Train.Stats)
	}
	if want := ComputeStats(tr); tr.Stats.Mean[0] != want.Mean[0] || tr.Stats.Std[2] != want.Std[2] {
		t.Errorf("stats %v, want those measured on the training split %v", tr.Stats, want)
	}
}

func TestLoadFashionMNISTErrors(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string, spec *FashionMNISTSpec)
		want   string // in the error
		avail  bool   // the error wraps ErrNotAvailable
		sum    bool   // the error is a ChecksumError
	}{
		{"missing folder", func(t *testing.T, dir string, spec *FashionMNISTSpec) { os.RemoveAll(dir) }, FashionMNISTPackage, true, false},
		{"truncated gzip", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			p := filepath.Join(dir, spec.TrainImages.Name)
			raw, _ := os.ReadFile(p)
			os.WriteFile(p, raw[:len(raw)/2], 0o644)
		}, spec().TrainImages.Name, false, false},
		{"not gzip", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			os.WriteFile(filepath.Join(dir, spec.TestLabels.Name), []byte("hello"), 0o644)
		}, "not a gzip file", false, false},
		{"wrong checksum", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			spec.TestImages.SHA256 = strings.Repeat("0", 64)
		}, spec().TestImages.Name, false, true},
		{"fewer labels than images", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			raw := idxBytes([]int{4}, []byte{1, 2, 3, 4})
			writeGz(t, filepath.Join(dir, spec.TrainLabels.Name), raw)
			spec.TrainLabels.SHA256 = sha(raw)
		}, "4 labels", false, false},
		{"label out of range", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			raw := idxBytes([]int{5}, []byte{1, 2, 10, 4, 5})
			writeGz(t, filepath.Join(dir, spec.TestLabels.Name), raw)
			spec.TestLabels.SHA256 = sha(raw)
		}, "label 10 of image 2", false, false},
		{"wrong image size", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			raw := idxBytes([]int{2, 32, 32}, make([]byte, 2*32*32))
			writeGz(t, filepath.Join(dir, spec.TestImages.Name), raw)
			spec.TestImages.SHA256 = sha(raw)
		}, "32×32 images", false, false},
		{"payload shorter than declared", func(t *testing.T, dir string, spec *FashionMNISTSpec) {
			raw := idxBytes([]int{5, 28, 28}, make([]byte, 4*784))
			writeGz(t, filepath.Join(dir, spec.TestImages.Name), raw)
			spec.TestImages.SHA256 = sha(raw)
		}, "declares", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "fm")
			os.MkdirAll(dir, 0o755)
			spec := miniFashion(t, dir, 6, 5)
			c.break_(t, dir, &spec)
			_, err := LoadFashionMNIST(dir, spec)
			if err == nil {
				t.Fatal("no error")
			}
			var ce *ChecksumError
			if !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrNotAvailable) != c.avail || errors.As(err, &ce) != c.sum {
				t.Fatalf("error %q: want one containing %q, not-available %v, checksum %v", err, c.want, c.avail, c.sum)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func spec() FashionMNISTSpec { return FashionMNIST }

// Open falls to Fashion-MNIST when neither CIFAR-100 nor the stand-in is there, and a broken
// Fashion-MNIST stops it rather than falling through to synthetic images.
func TestOpenFashionMNIST(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fm := filepath.Join(dir, "fm")
	os.MkdirAll(fm, 0o755)
	mini := miniFashion(t, fm, 6, 5)
	t.Setenv(FashionMNISTDirEnv, fm)
	opts := Options{CacheDir: dir, SharedDir: filepath.Join(dir, "none"), Offline: true}
	cases := []struct {
		name    string
		spec    FashionMNISTSpec
		opts    Options
		want    string // dataset name, or "" for an error
		errPart string
	}{
		{"fallback to Fashion-MNIST", mini, opts, FashionMNISTName, ""},
		{"broken files stop Open", FashionMNIST, opts, "", "checksum"},
		{"missing with Only says how to get it", mini, Options{CacheDir: dir, FashionMNISTDir: filepath.Join(dir, "none"), Only: KindFashionMNIST, Offline: true}, "", FashionMNISTPackage},
		{"missing falls through to synthetic", mini, Options{CacheDir: dir, SharedDir: filepath.Join(dir, "none"), FashionMNISTDir: filepath.Join(dir, "none"), Offline: true,
			SyntheticTrain: 20, SyntheticTest: 10}, "synthetic", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			saved := fashionMNISTSpec
			fashionMNISTSpec = c.spec
			defer func() { fashionMNISTSpec = saved }()
			s, err := Open(ctx, c.opts)
			if c.want == "" {
				if err == nil || !strings.Contains(err.Error(), c.errPart) {
					t.Fatalf("error %v, want one containing %q", err, c.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Name() != c.want {
				t.Fatalf("opened %q, want %q", s.Name(), c.want)
			}
		})
	}
}

// The package's files, when installed, load with the recorded checksums.
func TestFashionMNISTPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 30 MB")
	}
	dir := FashionMNISTDir()
	if _, err := os.Stat(filepath.Join(dir, FashionMNIST.TrainImages.Name)); err != nil {
		t.Skipf("%s is not installed (%v); set %s to its folder", FashionMNISTPackage, err, FashionMNISTDirEnv)
	}
	s, err := LoadFashionMNIST(dir, FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Len() != 60000 || s.Test.Len() != 10000 {
		t.Fatalf("%d/%d images, want 60000/10000", s.Train.Len(), s.Test.Len())
	}
	for c, n := range s.Test.ClassCounts() {
		if n != 1000 {
			t.Errorf("class %s: %d test images, want 1000", FashionMNISTClasses[c], n)
		}
	}
}
