package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// tarEntry is one member of a generated tarball. Link, when set, makes it a symlink.
type tarEntry struct {
	name string
	data []byte
	dir  bool
	link string
}

// makeTarGz writes the entries into a gzipped tar file and returns its MD5.
func makeTarGz(t *testing.T, path string, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}
		switch {
		case e.dir:
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		case e.link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// cifarRecords is a generated CIFAR file: raw bytes plus what a reader must return.
type cifarRecords struct {
	raw          []byte
	chw          [][]byte // per image, the 3072 CHW bytes
	fine, coarse []int32
}

func genCIFAR(n, labelBytes, numFine, numCoarse int, seed uint64) cifarRecords {
	rng := rand.New(rand.NewPCG(seed, 1))
	var r cifarRecords
	for range n {
		f := int32(rng.IntN(numFine))
		if labelBytes == 2 {
			c := int32(rng.IntN(numCoarse))
			r.coarse = append(r.coarse, c)
			r.raw = append(r.raw, byte(c))
		}
		r.fine = append(r.fine, f)
		r.raw = append(r.raw, byte(f))
		img := make([]byte, 3072)
		for i := range img {
			img[i] = byte(rng.IntN(256))
		}
		r.chw = append(r.chw, img)
		r.raw = append(r.raw, img...)
	}
	return r
}

func nameLines(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.WriteString(prefix)
		b.WriteByte(byte('a' + i%26))
		b.WriteByte(byte('a' + i/26))
		b.WriteByte('\n')
	}
	b.WriteByte('\n') // trailing blank line, as in the real files
	return b.Bytes()
}
