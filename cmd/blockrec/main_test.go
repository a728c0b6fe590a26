package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	t.Setenv("BLOCKREC_EXPECT_BACKEND", "go") // this test asks for pure Go, whichever CI leg runs it
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

// TestParseFlags: the layout every command shares. Flags may follow positional arguments, -h
// exits 0 with the usage on stdout, and errors are one prefixed line and the usage on stderr.
func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		nargs      int
		code       int
		done       bool
		positional string // joined with |
		n          int    // value of -n
		stdout     string
		stderr     string
	}{
		{"flags first", []string{"-n", "3", "a"}, 1, 0, false, "a", 3, "", ""},
		{"flags after the argument", []string{"a", "-n", "4"}, 1, 0, false, "a", 4, "", ""},
		{"flags between arguments", []string{"a", "--n=5", "b"}, -1, 0, false, "a|b", 5, "", ""},
		{"-- ends the flags", []string{"a", "--", "-n", "6"}, -1, 0, false, "a|-n|6", 0, "", ""},
		{"-h exits 0", []string{"a", "-h"}, 1, 0, true, "", 0, "usage: blockrec zz a|b", ""},
		{"--help exits 0", []string{"--help"}, 1, 0, true, "", 0, "flags:", ""},
		{"bad flag", []string{"a", "-bogus"}, 1, 2, true, "", 0, "", "blockrec zz: flag provided but not defined: -bogus (see blockrec zz -h)\n"},
		{"bad value", []string{"-n", "x", "a"}, 1, 2, true, "", 0, "", "blockrec zz: invalid value"},
		{"too many arguments", []string{"a", "b"}, 1, 2, true, "", 0, "", "blockrec zz: 2 arguments given, want 1 (see blockrec zz -h)\n"},
		{"too few arguments", nil, 1, 2, true, "", 0, "", "blockrec zz: 0 arguments given, want 1"},
		{"an argument where none is taken", []string{"-n", "1", "stray"}, 0, 2, true, "", 0, "", `blockrec zz: unexpected argument "stray"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			fs := newFlagSet("zz", "a|b", "A test command.", &errOut)
			n := fs.Int("n", 0, "a number")
			code, done := parseFlags(fs, tc.args, tc.nargs, &out)
			if code != tc.code || done != tc.done {
				t.Fatalf("parseFlags(%q) = %d, %v; want %d, %v (stderr %q)", tc.args, code, done, tc.code, tc.done, errOut.String())
			}
			if !done && (strings.Join(fs.Args(), "|") != tc.positional || *n != tc.n) {
				t.Errorf("positional %q, -n %d; want %q, %d", fs.Args(), *n, tc.positional, tc.n)
			}
			if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stdout %q, stderr %q; want them to contain %q and %q", out.String(), errOut.String(), tc.stdout, tc.stderr)
			}
			if tc.code == 0 && errOut.Len() > 0 {
				t.Errorf("success wrote to stderr: %q", errOut.String())
			}
			if tc.code != 0 && (strings.Count(errOut.String(), "\n") != 1 || out.Len() > 0) {
				t.Errorf("usage error: stdout %q, stderr %q; want one line on stderr only", out.String(), errOut.String())
			}
		})
	}
}

// TestDataCommand: with no real data set reachable, blockrec data lists each source with how to
// get it and says the notebooks will use synthetic images; a broken source fails it.
func TestDataCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BLOCKREC_OFFLINE", "1")
	t.Setenv("BLOCKREC_DATA_DIR", dir)
	t.Setenv("BLOCKREC_SHARED_DATA", filepath.Join(dir, "none"))
	t.Setenv("BLOCKREC_FASHION_MNIST", filepath.Join(dir, "none"))
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"data"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{"Fashion-MNIST  ", "missing", "apt-get install dataset-fashion-mnist", "synthetic  ", "the notebooks will use: synthetic"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	os.MkdirAll(filepath.Join(dir, "fm"), 0o755)
	os.WriteFile(filepath.Join(dir, "fm", "train-images-idx3-ubyte.gz"), []byte("not gzip"), 0o644)
	t.Setenv("BLOCKREC_FASHION_MNIST", filepath.Join(dir, "fm"))
	out.Reset()
	errOut.Reset()
	if code := dispatch([]string{"data"}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "BROKEN") || !strings.Contains(errOut.String(), "blockrec data:") {
		t.Errorf("broken Fashion-MNIST: exit %d, stdout %q, stderr %q; want 1, BROKEN and one error line", code, out.String(), errOut.String())
	}
}

// snapshot describes every file and folder under dir (mode, size, time, content hash); "" when dir
// does not exist.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return ""
	}
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d %v", p, info.Mode(), info.Size(), info.ModTime().UnixNano())
		if !info.IsDir() {
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " sha256 %x", sha256.Sum256(raw))
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestEveryCommandSharesTheLayout runs every registered command (each dinov2 subcommand too)
// through the layout they share: -h and --help exit 0 with "usage: blockrec NAME" on stdout; a
// flag after the positional arguments is honoured; an unknown flag exits 2 with one line
// "blockrec NAME: ..." on stderr; and an out-of-range flag value exits 2 before the output folder
// is created, or, when it exists, touched.
func TestEveryCommandSharesTheLayout(t *testing.T) {
	t.Setenv("BLOCKREC_SCALE", "smoke") // cifar's --scale writes it back
	t.Setenv("GOMLX_BACKEND", "go")
	t.Setenv("BLOCKREC_EXPECT_BACKEND", "go")
	t.Setenv("BLOCKREC_OFFLINE", "1")
	scratch := t.TempDir()
	matrix := plantedCSV(t, scratch, "w.csv", 3, 3)
	o := filepath.Join(scratch, "o") // where a command that wrongly ran would write
	type row struct {
		cmd string // command, and subcommand for dinov2
		// after has a flag after the positional arguments; afterCode and afterWant (in stderr,
		// or in stdout for status 0) show that it was honoured.
		after     []string
		afterCode int
		afterWant string
		// bad gives an out-of-range flag value, with out as the output folder; env, when set, is
		// the variable that points the command at out instead of a flag.
		bad func(out string) []string
		env string
	}
	rows := []row{
		{cmd: "analyze", after: []string{"m", "--images", "i", "--out", o, "--batch", "0"}, afterCode: 2, afterWant: "--batch 0",
			bad: func(out string) []string { return []string{"m", "--images", scratch, "--out", out, "--ks", "0"} }},
		{cmd: "cifar", after: []string{"teachers", "--scale", "bogus"}, afterCode: 2, afterWant: `--scale "bogus"`,
			bad: func(string) []string { return []string{"--sd", "0,2", "teachers"} }, env: "BLOCKREC_CACHE_DIR"},
		{cmd: "data", after: []string{"stray", "-h"}, afterWant: "usage: blockrec data",
			bad: func(string) []string { return []string{"--fetch=maybe"} }, env: "BLOCKREC_DATA_DIR"},
		{cmd: "dinov2", after: []string{"generate", "--registers", "-1", "--out", o}, afterCode: 2, afterWant: "--registers -1"},
		{cmd: "dinov2 extract", after: []string{"--model", "m", "--images", "i", "--out", o, "--batch", "0"}, afterCode: 2, afterWant: "--batch 0",
			bad: func(out string) []string {
				return []string{"--model", "m", "--images", "i", "--out", filepath.Join(out, "acts.safetensors"), "--crop", "0"}
			}},
		{cmd: "dinov2 generate", after: []string{"--registers", "-1", "--out", o}, afterCode: 2, afterWant: "--registers -1",
			bad: func(out string) []string { return []string{"--out", out, "--registers", "-2"} }},
		{cmd: "dinov2 info", after: []string{"stray", "-h"}, afterWant: "usage: blockrec dinov2 info",
			bad: func(string) []string { return []string{"--model", "m", "--offline=maybe"} }},
		{cmd: "env", after: []string{"stray", "--help"}, afterWant: "usage: blockrec env",
			bad: func(string) []string { return []string{"--no-backend=maybe"} }},
		{cmd: "phases", after: []string{"stray", "-h"}, afterWant: "usage: blockrec phases",
			bad: func(out string) []string {
				return []string{"--matrix", matrix, "--k", "0", "--figure", filepath.Join(out, "w.png")}
			}},
		{cmd: "raptor", after: []string{"stray", "-h"}, afterWant: "usage: blockrec raptor",
			bad: func(out string) []string {
				return []string{"--teacher", "none", "--out", out, "--thresholds", "2", "--anneal", "1.5"}
			}},
		{cmd: "train-vit", after: []string{"stray", "-h"}, afterWant: "usage: blockrec train-vit",
			bad: func(out string) []string { return []string{"--out", out, "--data", "synthetic", "--sd", "1"} }},
		{cmd: "version", after: []string{"stray", "-h"}, afterWant: "usage: blockrec version"},
	}
	for _, tc := range rows {
		t.Run(tc.cmd, func(t *testing.T) {
			name := strings.Fields(tc.cmd)
			run := func(args ...string) (int, string, string) {
				var out, errOut bytes.Buffer
				code := dispatch(append(append([]string{}, name...), args...), &out, &errOut)
				return code, out.String(), errOut.String()
			}
			for _, h := range []string{"-h", "--help"} {
				code, out, errOut := run(h)
				if code != 0 || !strings.HasPrefix(out, "usage: blockrec "+tc.cmd+" ") || errOut != "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", h, code, out, errOut)
				}
				if len(name) == 2 || tc.cmd == "data" || tc.cmd == "phases" {
					if !strings.Contains(out, "\nflags:\n  -") {
						t.Errorf("%s: usage lists no flags: %q", h, out)
					}
				}
			}

			code, out, errOut := run(tc.after...)
			if got := map[bool]string{true: out, false: errOut}[tc.afterCode == 0]; code != tc.afterCode || !strings.Contains(got, tc.afterWant) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", tc.after, code, out, errOut, tc.afterCode, tc.afterWant)
			}

			code, out, errOut = run("--no-such-flag")
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 ||
				!strings.HasPrefix(errOut, "blockrec "+tc.cmd+": ") || !strings.Contains(errOut, "no-such-flag") {
				t.Errorf("--no-such-flag: exit %d, stdout %q, stderr %q; want 2 and one line \"blockrec %s: ...\"", code, out, errOut, tc.cmd)
			}

			if tc.bad == nil {
				return
			}
			for _, exists := range []bool{false, true} {
				dir := filepath.Join(t.TempDir(), "out")
				if exists {
					writeText(t, mustMkdir(t, dir), "kept.txt", "already here")
				}
				if tc.env != "" {
					t.Setenv(tc.env, dir)
				}
				before := snapshot(t, dir)
				args := tc.bad(dir)
				code, out, errOut := run(args...)
				if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "blockrec "+tc.cmd+": ") {
					t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one error line", args, code, out, errOut)
				}
				if after := snapshot(t, dir); after != before {
					t.Errorf("%q (folder there before: %v) changed the output folder:\nbefore %q\nafter  %q", args, exists, before, after)
				}
			}
		})
	}
	if exists(o) {
		t.Errorf("a refused command wrote %s", o)
	}
	// Every command, and every dinov2 subcommand, is in the table.
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r.cmd] = true
	}
	for name := range commands {
		if !listed[name] && name != "zz-echo" {
			t.Errorf("command %s is not in the table", name)
		}
	}
	for sub := range dinov2Subs {
		if !listed["dinov2 "+sub] {
			t.Errorf("dinov2 %s is not in the table", sub)
		}
	}
}

func mustMkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
