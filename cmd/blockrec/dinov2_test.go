package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDinov2Command(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"help", "dinov2"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "extract") {
		t.Errorf("help dinov2: %d %q %q", code, out.String(), errOut.String())
	}
	dir := filepath.Join(t.TempDir(), "tiny")
	out.Reset()
	if code := dispatch([]string{"dinov2", "generate", "--out", dir, "--swiglu"}, &out, &errOut); code != 0 {
		t.Fatalf("dinov2 generate: %d %q", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Error(err)
	}
	out.Reset()
	if code := dispatch([]string{"dinov2", "info", "--model", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "swiglu") {
		t.Errorf("dinov2 info: %d %q %q", code, out.String(), errOut.String())
	}
}
