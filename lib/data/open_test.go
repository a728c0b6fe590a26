package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeStandIn writes a miniature cifar10-jpg.tar.gz (classes dog and cat, 3 train and 2 test
// PNG images each, in the real archive's layout) and its SHA256SUMS into dir.
func makeStandIn(t *testing.T, dir string) {
	t.Helper()
	entries := []tarEntry{{name: "cifar10-jpg/README.txt", data: []byte("mini stand-in")}}
	for _, split := range []struct {
		name string
		n    int
	}{{"train", 3}, {"test", 2}} {
		for _, class := range []string{"dog", "cat"} {
			for i := range split.n {
				var buf bytes.Buffer
				if err := png.Encode(&buf, randomNRGBA(32, 32, uint64(i))); err != nil {
					t.Fatal(err)
				}
				entries = append(entries, tarEntry{name: fmt.Sprintf("cifar10-jpg/%s/%s/%04d.png", split.name, class, i), data: buf.Bytes()})
			}
		}
	}
	tarball := filepath.Join(dir, StandInArchive)
	makeTarGz(t, tarball, entries)
	raw, _ := os.ReadFile(tarball)
	sum := sha256.Sum256(raw)
	os.WriteFile(filepath.Join(dir, SHA256SumsFile), []byte(hex.EncodeToString(sum[:])+"  "+StandInArchive+"\n"), 0o644)
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("synthetic fallback", func(t *testing.T) {
		dir := t.TempDir()
		var log []string
		s, err := Open(ctx, Options{CacheDir: dir, SharedDir: filepath.Join(dir, "none"), FashionMNISTDir: filepath.Join(dir, "none"), Offline: true,
			SyntheticTrain: 50, SyntheticTest: 20, Logf: func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != "synthetic" || s.Train.Len() != 50 || s.Test.Len() != 20 || !strings.Contains(s.Provenance(), "not CIFAR") {
			t.Fatalf("got %q (%d/%d): %s", s.Name(), s.Train.Len(), s.Test.Len(), s.Provenance())
		}
		if len(log) != 4 || !strings.Contains(log[0], "CIFAR-100 not available") || !strings.Contains(log[2], "Fashion-MNIST not available") {
			t.Errorf("log %q", log)
		}
	})
	t.Run("no synthetic", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Open(ctx, Options{CacheDir: dir, SharedDir: dir, FashionMNISTDir: dir, Offline: true, NoSynthetic: true})
		if !errors.Is(err, ErrNotAvailable) || !strings.Contains(err.Error(), StandInArchive) || !strings.Contains(err.Error(), FashionMNISTPackage) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("stand-in", func(t *testing.T) {
		shared, cache := t.TempDir(), t.TempDir()
		makeStandIn(t, shared)
		t.Setenv("BLOCKREC_SHARED_DATA", shared)
		for range 2 { // the second time reads the extraction
			s, err := Open(ctx, Options{CacheDir: cache, Offline: true})
			if err != nil {
				t.Fatal(err)
			}
			if s.Name() != StandInName || s.Kind() != KindCIFAR10JPEG || s.Train.Len() != 6 || s.Test.Len() != 4 ||
				strings.Join(s.Train.ClassNames, ",") != "cat,dog" || !strings.Contains(s.Provenance(), "CIFAR-10 results") {
				t.Fatalf("got %q %v %d/%d %v", s.Name(), s.Kind(), s.Train.Len(), s.Test.Len(), s.Train.ClassNames)
			}
			if s.Train.Stats.Mean[0] != CIFAR10Stats.Mean[0] {
				t.Errorf("stand-in not normalised with CIFAR-10 stats")
			}
		}
	})
	t.Run("stand-in wrong checksum", func(t *testing.T) {
		shared, cache := t.TempDir(), t.TempDir()
		makeStandIn(t, shared)
		os.WriteFile(filepath.Join(shared, SHA256SumsFile), []byte(strings.Repeat("ab", 32)+"  "+StandInArchive+"\n"), 0o644)
		_, err := Open(ctx, Options{CacheDir: cache, SharedDir: shared, Offline: true})
		var ce *ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), StandInArchive) {
			t.Fatalf("error %v, want a checksum error naming the archive", err)
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("cache not empty after a checksum failure")
		}
	})
	t.Run("cifar100 cached", func(t *testing.T) {
		shared, cache := t.TempDir(), t.TempDir()
		makeStandIn(t, shared)
		dir := filepath.Join(cache, CIFAR100.Dir)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "train.bin"), genCIFAR(4, 2, 100, 20, 1).raw, 0o644)
		os.WriteFile(filepath.Join(dir, "test.bin"), genCIFAR(2, 2, 100, 20, 2).raw, 0o644)
		os.WriteFile(filepath.Join(dir, "fine_label_names.txt"), nameLines("f", 100), 0o644)
		os.WriteFile(filepath.Join(dir, "coarse_label_names.txt"), nameLines("c", 20), 0o644)
		os.WriteFile(extractedMarker(filepath.Join(cache, CIFAR100.Archive), cache), nil, 0o644)
		s, err := Open(ctx, Options{CacheDir: cache, SharedDir: shared, Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != "CIFAR-100" || s.Train.Len() != 4 || s.Train.CoarseLabels == nil || s.Train.Stats.Mean[0] != CIFAR100Stats.Mean[0] {
			t.Fatalf("got %q with %d images", s.Name(), s.Train.Len())
		}
		// A broken cached release is an error, not a silent fallback to the stand-in.
		os.Remove(filepath.Join(dir, "test.bin"))
		if _, err := Open(ctx, Options{CacheDir: cache, SharedDir: shared, Offline: true}); err == nil || !strings.Contains(err.Error(), "test.bin") {
			t.Fatalf("error %v, want one naming test.bin", err)
		}
	})
}
