package dinov2

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolve covers a plain folder, both HF cache layouts (Python's refs/main and
// go-huggingface's info/main) and the offline error.
func TestResolve(t *testing.T) {
	cache := t.TempDir()
	makeSnapshot := func(id, commit string) string {
		dir := filepath.Join(cache, "models--"+strings.ReplaceAll(id, "/", "--"), "snapshots", commit)
		if err := Generate(dir, TinyHFConfig(0, false), 1); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	pyDir := makeSnapshot("facebook/dinov2-small", "abc123")
	writeFile(t, filepath.Join(cache, "models--facebook--dinov2-small", "refs", "main"), "abc123\n")
	goDir := makeSnapshot("facebook/dinov2-base", "def456")
	writeFile(t, filepath.Join(cache, "models--facebook--dinov2-base", "info", "main"), `{"id":"facebook/dinov2-base","sha":"def456"}`)

	opts := HubOptions{CacheDir: cache, Offline: true}
	for _, tc := range []struct{ ref, want string }{
		{pyDir, pyDir},
		{"facebook/dinov2-small", pyDir},
		{"facebook/dinov2-base", goDir},
	} {
		got, err := Resolve(tc.ref, opts)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
	}
	m, err := Load("facebook/dinov2-small", opts)
	if err != nil || m.Source != "facebook/dinov2-small" {
		t.Errorf("Load: %v, %v", m, err)
	}
	_, err = Resolve("facebook/dinov2-giant", opts)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "facebook/dinov2-giant") || !strings.Contains(err.Error(), cache) {
		t.Errorf("offline miss: error %v", err)
	}
	if _, err := Resolve("no-such-folder", opts); err == nil || !strings.Contains(err.Error(), "neither a folder nor a hub id") {
		t.Errorf("bad ref: error %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
