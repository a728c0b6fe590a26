package data

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkCIFARSplit compares a loaded split with the generated records, pixel by pixel: the pixel
// at (y, x, channel) of image i must be byte channel·1024 + y·32 + x of record i's image.
func checkCIFARSplit(t *testing.T, d *Dataset, want []cifarRecords) {
	t.Helper()
	i := 0
	for _, w := range want {
		for k := range w.fine {
			if d.Labels[i] != w.fine[k] {
				t.Fatalf("image %d: label %d, want %d", i, d.Labels[i], w.fine[k])
			}
			if w.coarse != nil && d.CoarseLabels[i] != w.coarse[k] {
				t.Fatalf("image %d: coarse label %d, want %d", i, d.CoarseLabels[i], w.coarse[k])
			}
			img := d.Image(i)
			for y := range 32 {
				for x := range 32 {
					for c := range 3 {
						if got, want := img[(y*32+x)*3+c], w.chw[k][c*1024+y*32+x]; got != want {
							t.Fatalf("image %d pixel (%d,%d,%d) = %d, want %d", i, y, x, c, got, want)
						}
					}
				}
			}
			i++
		}
	}
	if i != d.Len() {
		t.Fatalf("%d images, want %d", d.Len(), i)
	}
}

func TestLoadCIFAR(t *testing.T) {
	tr100 := genCIFAR(7, 2, 100, 20, 1)
	te100 := genCIFAR(3, 2, 100, 20, 2)
	var tr10 [5]cifarRecords
	for i := range tr10 {
		tr10[i] = genCIFAR(2+i, 1, 10, 0, uint64(10+i))
	}
	te10 := genCIFAR(4, 1, 10, 0, 20)

	entries100 := func() []tarEntry {
		return []tarEntry{
			{name: "cifar-100-binary/", dir: true},
			{name: "cifar-100-binary/train.bin", data: tr100.raw},
			{name: "cifar-100-binary/test.bin", data: te100.raw},
			{name: "cifar-100-binary/fine_label_names.txt", data: nameLines("f", 100)},
			{name: "cifar-100-binary/coarse_label_names.txt", data: nameLines("c", 20)},
		}
	}
	entries10 := func() []tarEntry {
		e := []tarEntry{{name: "cifar-10-batches-bin/batches.meta.txt", data: nameLines("k", 10)},
			{name: "cifar-10-batches-bin/test_batch.bin", data: te10.raw}}
		for i, r := range tr10 {
			e = append(e, tarEntry{name: "cifar-10-batches-bin/" + CIFAR10.TrainFiles[i], data: r.raw})
		}
		return e
	}
	tests := []struct {
		name     string
		spec     CIFARSpec
		entries  []tarEntry
		wrongMD5 bool
		wantErr  []string // substrings of the error; nil: success
		check    func(t *testing.T, s *Splits)
	}{
		{name: "cifar100 ok", spec: CIFAR100, entries: entries100(), check: func(t *testing.T, s *Splits) {
			checkCIFARSplit(t, s.Train, []cifarRecords{tr100})
			checkCIFARSplit(t, s.Test, []cifarRecords{te100})
			if s.Train.ClassNames[27] != "fbb" || s.Train.CoarseClassNames[3] != "cda" || s.Name() != "CIFAR-100" {
				t.Errorf("names: %q %q %q", s.Train.ClassNames[27], s.Train.CoarseClassNames[3], s.Name())
			}
		}},
		{name: "cifar10 ok", spec: CIFAR10, entries: entries10(), check: func(t *testing.T, s *Splits) {
			checkCIFARSplit(t, s.Train, tr10[:])
			checkCIFARSplit(t, s.Test, []cifarRecords{te10})
			if s.Train.CoarseLabels != nil || s.Kind() != KindCIFAR10 {
				t.Errorf("coarse labels %v kind %v", s.Train.CoarseLabels, s.Kind())
			}
		}},
		{name: "truncated", spec: CIFAR100, entries: func() []tarEntry {
			e := entries100()
			e[1].data = e[1].data[:len(e[1].data)-100]
			return e
		}(), wantErr: []string{"train.bin", "truncated"}},
		{name: "wrong checksum", spec: CIFAR100, entries: entries100(), wrongMD5: true,
			wantErr: []string{"cifar-100-binary.tar.gz", "wrong MD5 checksum"}},
		{name: "missing member", spec: CIFAR10, entries: func() []tarEntry {
			e := entries10()
			return append(e[:2], e[3:]...) // no data_batch_1.bin
		}(), wantErr: []string{"data_batch_1.bin", "missing"}},
		{name: "label out of range", spec: CIFAR100, entries: func() []tarEntry {
			e := entries100()
			bad := append([]byte(nil), e[2].data...)
			bad[3074+1] = 100 // fine label of record 1
			e[2].data = bad
			return e
		}(), wantErr: []string{"test.bin", "record 1", "label 100"}},
		{name: "wrong number of class names", spec: CIFAR100, entries: func() []tarEntry {
			e := entries100()
			e[4].data = nameLines("c", 19)
			return e
		}(), wantErr: []string{"coarse_label_names.txt", "19 names"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			spec := tc.spec
			spec.MD5 = makeTarGz(t, filepath.Join(cache, spec.Archive), tc.entries)
			if tc.wrongMD5 {
				spec.MD5 = strings.Repeat("0", 32)
			}
			opts := Options{CacheDir: cache, SharedDir: cache, Offline: true}
			s, err := LoadCIFAR(context.Background(), spec, opts)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want one mentioning %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if s != nil {
					t.Errorf("got a data set along with the error")
				}
				if tc.wrongMD5 {
					if _, err := os.Stat(filepath.Join(cache, spec.Dir)); err == nil {
						t.Errorf("archive with a wrong checksum was extracted")
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
			// A second load reads the extraction (the tarball may even be gone).
			os.Remove(filepath.Join(cache, spec.Archive))
			s2, err := LoadCIFAR(context.Background(), spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s2)
		})
	}
}

func TestLoadCIFAROffline(t *testing.T) {
	cache := t.TempDir()
	start := time.Now()
	_, err := LoadCIFAR(context.Background(), CIFAR100, Options{CacheDir: cache, SharedDir: cache, Offline: true})
	if !errors.Is(err, ErrOffline) || !errors.Is(err, ErrNotAvailable) {
		t.Fatalf("error %v, want ErrOffline and ErrNotAvailable", err)
	}
	if !strings.Contains(err.Error(), "not cached") {
		t.Errorf("error %q does not say the file is not cached", err)
	}
	t.Setenv("BLOCKREC_OFFLINE", "1")
	_, err = LoadCIFAR(context.Background(), CIFAR100, Options{CacheDir: cache, SharedDir: cache})
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("BLOCKREC_OFFLINE=1: error %v, want ErrOffline", err)
	}
	t.Logf("offline failure after %v", time.Since(start))
}

func TestLoadCIFARDownload(t *testing.T) {
	t.Setenv("BLOCKREC_OFFLINE", "") // this test downloads from a local server
	src := t.TempDir()
	tr := genCIFAR(5, 2, 100, 20, 3)
	te := genCIFAR(2, 2, 100, 20, 4)
	spec := CIFAR100
	spec.MD5 = makeTarGz(t, filepath.Join(src, spec.Archive), []tarEntry{
		{name: "cifar-100-binary/train.bin", data: tr.raw},
		{name: "cifar-100-binary/test.bin", data: te.raw},
		{name: "cifar-100-binary/fine_label_names.txt", data: nameLines("f", 100)},
		{name: "cifar-100-binary/coarse_label_names.txt", data: nameLines("c", 20)},
	})
	body, err := os.ReadFile(filepath.Join(src, spec.Archive))
	if err != nil {
		t.Fatal(err)
	}
	var ranged int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranged++
		}
		switch r.URL.Path {
		case "/good":
			http.ServeContent(w, r, "x", time.Time{}, strings.NewReader(string(body)))
		case "/corrupt":
			bad := append([]byte(nil), body...)
			bad[len(bad)/2] ^= 0xff
			http.ServeContent(w, r, "x", time.Time{}, strings.NewReader(string(bad)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		path       string
		partial    int // bytes of a leftover .part file
		wantErr    string
		wantRanged int
	}{
		{name: "fresh", path: "/good"},
		{name: "resume", path: "/good", partial: len(body) / 3, wantRanged: 1},
		{name: "corrupt", path: "/corrupt", wantErr: "wrong MD5 checksum"},
		{name: "not found", path: "/nothing", wantErr: "404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			ranged = 0
			s := spec
			s.URL = srv.URL + tc.path
			dest := filepath.Join(cache, s.Archive)
			if tc.partial > 0 {
				if err := os.WriteFile(dest+".part", body[:tc.partial], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadCIFAR(context.Background(), s, Options{CacheDir: cache, SharedDir: cache})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrNotAvailable) {
					t.Fatalf("error %v, want one containing %q and wrapping ErrNotAvailable", err, tc.wantErr)
				}
				if _, err := os.Stat(dest); err == nil {
					t.Errorf("%s exists after a failed download", dest)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkCIFARSplit(t, got.Train, []cifarRecords{tr})
			checkCIFARSplit(t, got.Test, []cifarRecords{te})
			if ranged != tc.wantRanged {
				t.Errorf("%d range requests, want %d", ranged, tc.wantRanged)
			}
			if _, err := os.Stat(dest + ".part"); err == nil {
				t.Errorf(".part file left behind")
			}
		})
	}
}
