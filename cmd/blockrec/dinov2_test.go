package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/dinov2"
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

// TestDinov2FlagsMatchLibrary: the flags parsed here are lib/dinov2's own, with the same names,
// defaults and help (the library's -h prints them), so that nothing is lost on the way through.
func TestDinov2FlagsMatchLibrary(t *testing.T) {
	for sub, def := range dinov2Subs {
		var lib bytes.Buffer
		if code := dinov2.Main([]string{sub, "-h"}, &lib, io.Discard); code != 0 || lib.Len() == 0 {
			t.Fatalf("dinov2.Main(%s -h): exit %d, %q", sub, code, lib.String())
		}
		var ours bytes.Buffer
		fs := flag.NewFlagSet(sub, flag.ContinueOnError)
		def.define(fs)
		fs.SetOutput(&ours)
		fs.PrintDefaults()
		if ours.String() != lib.String() {
			t.Errorf("dinov2 %s: flags differ from lib/dinov2's:\nhere:\n%s\nlib/dinov2:\n%s", sub, ours.String(), lib.String())
		}
	}
}

// TestDinov2FlagChecks: out-of-range values are refused here, before the model is loaded (the
// model named does not exist), each with one line naming the flag.
func TestDinov2FlagChecks(t *testing.T) {
	nowhere := filepath.Join(t.TempDir(), "nowhere")
	extract := []string{"dinov2", "extract", "--model", nowhere, "--images", nowhere, "--out", nowhere + ".safetensors"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(extract, "--batch", "0"), "--batch 0: must be a whole number > 0"},
		{append(extract, "--crop", "-4"), "--crop -4: must be a whole number > 0"},
		{append(extract, "--resize", "0"), "--resize 0: must be a whole number > 0"},
		{append(extract, "--resize", "100"), "--resize 100: must be at least the crop (--crop 224)"},
		{[]string{"dinov2", "generate", "--out", nowhere, "--registers", "-1"}, "--registers -1: must be a whole number >= 0"},
		{[]string{"dinov2", "info", "stray", "--model", nowhere}, `unexpected argument "stray"`},
	} {
		var out, errOut bytes.Buffer
		code := dispatch(tc.args, &out, &errOut)
		if code != 2 || !strings.HasPrefix(errOut.String(), "blockrec dinov2 ") || !strings.Contains(errOut.String(), tc.want) ||
			strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", tc.args, code, errOut.String(), tc.want)
		}
		if _, err := os.Stat(filepath.Dir(nowhere)); err != nil || exists(nowhere) || exists(nowhere+".safetensors") {
			t.Fatalf("%q wrote %s", tc.args, nowhere)
		}
	}
	// A valid command goes through with the flags in any order: flags after the subcommand's
	// required ones, in = and space form.
	dir := filepath.Join(t.TempDir(), "m")
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"dinov2", "generate", "-seed=3", "--out", dir, "--registers=2"}, &out, &errOut); code != 0 {
		t.Fatalf("generate: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := dispatch([]string{"dinov2", "info", "--model", dir, "--offline"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "register") {
		t.Errorf("info: exit %d, stdout %q, stderr %q; want the 2 registers described", code, out.String(), errOut.String())
	}
}
