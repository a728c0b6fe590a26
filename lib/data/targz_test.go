package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExtractTarGz(t *testing.T) {
	good := []tarEntry{
		{name: "./", dir: true},
		{name: "top/", dir: true},
		{name: "top/a.txt", data: []byte("alpha")},
		{name: "top/sub/b.txt", data: []byte("beta")}, // parent has no entry of its own
		{name: "other.txt", data: []byte("gamma")},
	}
	tests := []struct {
		name    string
		entries []tarEntry
		wantErr string
	}{
		{name: "ok", entries: good},
		{name: "dotdot", entries: []tarEntry{{name: "top/a.txt", data: []byte("x")}, {name: "../evil.txt", data: []byte("x")}}, wantErr: "leaves the destination"},
		{name: "inner dotdot", entries: []tarEntry{{name: "top/../../evil.txt", data: []byte("x")}}, wantErr: "leaves the destination"},
		{name: "absolute", entries: []tarEntry{{name: "/tmp/evil.txt", data: []byte("x")}}, wantErr: "absolute"},
		{name: "symlink", entries: []tarEntry{{name: "top/link", link: "/etc/passwd"}}, wantErr: "unsupported type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tarball := filepath.Join(dir, "in", "x.tar.gz")
			makeTarGz(t, tarball, tc.entries)
			dest := filepath.Join(dir, "out")
			err := ExtractTarGz(tarball, dest)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "x.tar.gz") {
					t.Fatalf("error %v, want one naming x.tar.gz and containing %q", err, tc.wantErr)
				}
				left, _ := os.ReadDir(dest)
				if len(left) != 0 {
					t.Errorf("destination not left empty after a failure: %v", left)
				}
				if _, err := os.Stat(filepath.Join(dir, "evil.txt")); err == nil {
					t.Errorf("path traversal wrote evil.txt")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.entries {
				if e.dir {
					continue
				}
				got, err := os.ReadFile(filepath.Join(dest, e.name))
				if err != nil || string(got) != string(e.data) {
					t.Errorf("%s: %q, %v; want %q", e.name, got, err, e.data)
				}
			}
			if !IsExtracted(tarball, dest) {
				t.Errorf("no extraction marker")
			}
			// Idempotent: a second call does nothing, even with the archive gone.
			os.Remove(tarball)
			if err := ExtractTarGz(tarball, dest); err != nil {
				t.Fatalf("second extraction: %v", err)
			}
			entries, _ := os.ReadDir(dest)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if strings.Join(names, ",") != ".x.tar.gz.extracted,other.txt,top" {
				t.Errorf("dest holds %v", names)
			}
		})
	}
}

func TestExtractTarGzExistingEntry(t *testing.T) {
	dir := t.TempDir()
	tarball := filepath.Join(dir, "x.tar.gz")
	makeTarGz(t, tarball, []tarEntry{{name: "top/a.txt", data: []byte("a")}})
	dest := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(dest, "top"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := ExtractTarGz(tarball, dest)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("error %v, want 'already exists'", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "top", "a.txt")); err == nil {
		t.Errorf("extracted into an existing foreign folder")
	}
}

func TestVerifySHA256Sums(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.bin")
	os.WriteFile(file, []byte("abc"), 0o644)
	// sha256("abc"), computed independently (FIPS 180-2 test vector).
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	tests := []struct {
		name, sums, wantErr string
	}{
		{"ok", abc + "  f.bin\n", ""},
		{"binary mode star", "00  other\n" + abc + " *f.bin\n", ""},
		{"wrong", strings.Replace(abc, "ba", "bb", 1) + "  f.bin\n", "wrong SHA-256"},
		{"absent", abc + "  g.bin\n", "no checksum line for f.bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sums := filepath.Join(dir, "SUMS-"+tc.name)
			os.WriteFile(sums, []byte(tc.sums), 0o644)
			err := VerifySHA256Sums(sums, file)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
