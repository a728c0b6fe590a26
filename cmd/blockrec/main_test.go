package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

func init() {
	register("zz-echo", "test command: prints its arguments", func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 && args[0] == "-h" {
			io.WriteString(stdout, "zz-echo flags\n")
			return 0
		}
		io.WriteString(stdout, strings.Join(args, "|"))
		return 7
	})
}

func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		args                []string
		code                int
		stdout, stderr      string // substrings expected
		notStdout, noStdErr bool
	}{
		{args: nil, code: 2, stderr: "usage: blockrec COMMAND"},
		{args: []string{"help"}, code: 0, stdout: "test command: prints its arguments", noStdErr: true},
		{args: []string{"--help"}, code: 0, stdout: "env", noStdErr: true},
		{args: []string{"help", "zz-echo"}, code: 0, stdout: "zz-echo flags"},
		{args: []string{"help", "nope"}, code: 2, stderr: `unknown command "nope"`},
		{args: []string{"nope"}, code: 2, stderr: `unknown command "nope"`, notStdout: true},
		{args: []string{"zz-echo", "a", "-b"}, code: 7, stdout: "a|-b", noStdErr: true},
	} {
		var out, errOut bytes.Buffer
		code := dispatch(tc.args, &out, &errOut)
		if code != tc.code {
			t.Errorf("dispatch(%q) = %d, want %d (stderr %q)", tc.args, code, tc.code, errOut.String())
		}
		if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
			t.Errorf("dispatch(%q): stdout %q, stderr %q; want them to contain %q and %q", tc.args, out.String(), errOut.String(), tc.stdout, tc.stderr)
		}
		if tc.notStdout && out.Len() > 0 {
			t.Errorf("dispatch(%q) wrote to stdout: %q", tc.args, out.String())
		}
		if tc.noStdErr && errOut.Len() > 0 {
			t.Errorf("dispatch(%q) wrote to stderr: %q", tc.args, errOut.String())
		}
	}
}

func TestHelpListsEveryCommandSorted(t *testing.T) {
	var out bytes.Buffer
	dispatch([]string{"help"}, &out, io.Discard)
	last := -1
	for _, name := range []string{"env", "version", "zz-echo"} {
		i := strings.Index(out.String(), "\n  "+name+" ")
		if i < 0 {
			t.Errorf("help does not list %q:\n%s", name, out.String())
		} else if i < last {
			t.Errorf("help lists %q out of order", name)
		}
		last = i
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering zz-echo twice did not panic")
		}
	}()
	register("zz-echo", "", func([]string, io.Writer, io.Writer) int { return 0 })
}

func TestEnv(t *testing.T) {
	t.Setenv("BLOCKREC_SCALE", "smoke")
	t.Setenv("GOMLX_BACKEND", "go")
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"env"}, &out, &errOut); code != 0 {
		t.Fatalf("env exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{"go  ", "blockrec", "gomlx", "scale", "smoke (BLOCKREC_SCALE)", "root", "backend", "pure-Go"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("env output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "blockrec: backend") {
		t.Errorf("env did not pass on the backend notice: stderr %q", errOut.String())
	}

	t.Setenv("BLOCKREC_SCALE", "huge")
	out.Reset()
	if code := dispatch([]string{"env", "--no-backend"}, &out, io.Discard); code != 1 || !strings.Contains(out.String(), `"huge"`) {
		t.Errorf("env with a bad scale: exit %d, output %q; want 1 and the bad value named", code, out.String())
	}
	if code := dispatch([]string{"env", "--bogus"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("env --bogus: exit %d, want 2", code)
	}
}

// TestScaleFlag: --scale wins over BLOCKREC_SCALE and is written back to it, so that figure
// folders and caches follow the flag.
func TestScaleFlag(t *testing.T) {
	for _, tc := range []struct {
		flag, env, want, err string
	}{
		{"", "", "cpu", ""},
		{"", "paper", "paper", ""},
		{"smoke", "cpu", "smoke", ""},
		{"huge", "cpu", "", `--scale "huge"`},
		{"", "huge", "", `"huge"`},
	} {
		t.Setenv("BLOCKREC_SCALE", tc.env)
		got, err := scaleFlag(tc.flag)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("scaleFlag(%q) with %q: error %v, want one containing %q", tc.flag, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want || os.Getenv("BLOCKREC_SCALE") != tc.want {
			t.Errorf("scaleFlag(%q) with %q = %q, %v, env now %q; want %q", tc.flag, tc.env, got, err, os.Getenv("BLOCKREC_SCALE"), tc.want)
		}
	}
}
