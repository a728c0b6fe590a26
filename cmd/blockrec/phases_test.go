package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plantedCSV writes a matrix with phases of the given sizes (0.1 inside, 1 across, a small drift
// with depth) and returns its path.
func plantedCSV(t *testing.T, dir, name string, sizes ...int) string {
	var lab []int
	for ph, s := range sizes {
		for range s {
			lab = append(lab, ph)
		}
	}
	m := make([][]float64, len(lab))
	for i := range m {
		m[i] = make([]float64, len(lab))
		for j := range m[i] {
			if i != j {
				m[i][j] = 0.1 + 0.01*math.Abs(float64(i-j))
				if lab[i] != lab[j] {
					m[i][j] += 0.9
				}
			}
		}
	}
	return writeCSV(t, dir, name, m)
}

func writeCSV(t *testing.T, dir, name string, m [][]float64) string {
	var b strings.Builder
	for _, row := range m {
		for j, v := range row {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, v)
		}
		b.WriteByte('\n')
	}
	return writeText(t, dir, name, b.String())
}

func writeText(t *testing.T, dir, name, text string) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunPhases(t *testing.T) {
	dir := t.TempDir()
	w12 := plantedCSV(t, dir, "w12.csv", 7, 3, 2)
	halves := plantedCSV(t, dir, "halves.csv", 6, 6)
	// Layers 1,3 alike and 2,4 alike: bisection finds non-contiguous phases.
	inter := writeCSV(t, dir, "interleaved.csv", [][]float64{
		{0, 1, 0.1, 1},
		{1, 0, 1, 0.1},
		{0.1, 1, 0, 1},
		{1, 0.1, 1, 0},
	})
	notSquare := writeText(t, dir, "rect.csv", "0,1,2\n1,0,3\n")
	asym := writeText(t, dir, "asym.csv", "0,1\n2,0\n")
	nan := writeText(t, dir, "nan.csv", "0,NaN\nNaN,0\n")
	text := writeText(t, dir, "text.csv", "0,a\na,0\n")
	missing := filepath.Join(dir, "missing.csv")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // exact
		stderr string // substring of the single stderr line
	}{
		{"contiguous k=3", []string{"--matrix", w12, "--solver", "contiguous", "--k", "3"}, 0, "1-7 8-10 11-12\n", ""},
		{"contiguous k=2", []string{"--matrix", w12, "--solver", "contiguous", "--k", "2"}, 0, "1-7 8-12\n", ""},
		{"contiguous k=1", []string{"--matrix", w12, "--k", "1"}, 0, "1-12\n", ""},
		{"contiguous min-size", []string{"--matrix", w12, "--k", "3", "--min-size", "3"}, 0, "1-6 7-9 10-12\n", ""},
		{"single dash flags", []string{"-matrix", w12, "-solver", "contiguous", "-k", "3"}, 0, "1-7 8-10 11-12\n", ""},
		{"bisection k=2", []string{"--matrix", halves, "--solver", "bisection", "--eps-frac", "0.2"}, 0, "1-6 7-12\n", ""},
		{"bisection stops", []string{"--matrix", halves, "--solver", "bisection", "--eps-frac", "0.95"}, 0, "1-12\n", ""},
		{"bisection non-contiguous", []string{"--matrix", inter, "--solver", "bisection", "--eps-frac", "0.1", "--min-size", "1"}, 0, "1,3 2,4\n", ""},
		{"not square", []string{"--matrix", notSquare, "--k", "1"}, 2, "", "rect.csv: matrix is not square"},
		{"not symmetric", []string{"--matrix", asym, "--k", "1"}, 2, "", "asym.csv: matrix is not symmetric"},
		{"NaN", []string{"--matrix", nan, "--k", "1"}, 2, "", "nan.csv: matrix has a non-finite value NaN"},
		{"not a number", []string{"--matrix", text, "--k", "1"}, 2, "", `text.csv: row 1, column 2: "a" is not a number`},
		{"missing file", []string{"--matrix", missing, "--k", "1"}, 2, "", "missing.csv: no such file"},
		{"k > n", []string{"--matrix", w12, "--k", "13"}, 2, "", "w12.csv: --k 13 is larger than the 12 layers"},
		{"k = 0", []string{"--matrix", w12, "--k", "0"}, 2, "", "--k 0: need at least 1 phase"},
		{"k < 0", []string{"--matrix", w12, "--k", "-2"}, 2, "", "--k -2: need at least 1 phase"},
		{"min-size too big", []string{"--matrix", w12, "--k", "5", "--min-size", "3"}, 2, "", "w12.csv: phases: cannot split 12 layers into 5 phases of at least 3"},
		{"unknown solver", []string{"--matrix", w12, "--solver", "spectral", "--k", "2"}, 2, "", `unknown solver "spectral"`},
		{"no matrix", []string{"--k", "2"}, 2, "", "--matrix is required"},
		{"contiguous without k", []string{"--matrix", w12}, 2, "", "needs --k"},
		{"bisection without eps", []string{"--matrix", w12, "--solver", "bisection"}, 2, "", "needs --eps-frac"},
		{"bisection with k", []string{"--matrix", w12, "--solver", "bisection", "--eps-frac", "0.1", "--k", "3"}, 2, "", "--k applies to --solver contiguous only"},
		{"contiguous with eps", []string{"--matrix", w12, "--k", "3", "--eps-frac", "0.1"}, 2, "", "--eps-frac applies to --solver bisection only"},
		{"negative eps", []string{"--matrix", w12, "--solver", "bisection", "--eps-frac", "-1"}, 2, "", "--eps-frac -1: must be ≥ 0"},
		{"bad min-size", []string{"--matrix", w12, "--k", "2", "--min-size", "0"}, 2, "", "--min-size 0"},
		{"unknown flag", []string{"--matrix", w12, "--k", "2", "--colour", "red"}, 2, "", "flag provided but not defined: -colour"},
		{"extra argument", []string{"--matrix", w12, "--k", "2", "extra"}, 2, "", `unexpected argument "extra"`},
		{"bad figure extension", []string{"--matrix", w12, "--k", "2", "--figure", filepath.Join(dir, "f.gif")}, 2, "", "f.gif: figure must end in .png, .svg or .pdf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runPhases(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if stdout.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if tc.stderr == "" {
				if stderr.Len() != 0 {
					t.Errorf("stderr %q, want nothing", stderr.String())
				}
				return
			}
			line := stderr.String()
			if !strings.Contains(line, tc.stderr) || strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Errorf("stderr %q, want one line containing %q", line, tc.stderr)
			}
		})
	}
}

func TestRunPhasesFigure(t *testing.T) {
	dir := t.TempDir()
	w12 := plantedCSV(t, dir, "w12.csv", 7, 3, 2)
	inter := writeCSV(t, dir, "interleaved.csv", [][]float64{{0, 1, 0.1, 1}, {1, 0, 1, 0.1}, {0.1, 1, 0, 1}, {1, 0.1, 1, 0}})
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"c.png", []string{"--matrix", w12, "--k", "3"}},
		{"c.svg", []string{"--matrix", w12, "--k", "3"}},
		{"c.PDF", []string{"--matrix", w12, "--k", "3"}},
		{"b.png", []string{"--matrix", inter, "--solver", "bisection", "--eps-frac", "0.1", "--min-size", "1"}},
	} {
		out := filepath.Join(dir, tc.file)
		var stdout, stderr bytes.Buffer
		if code := runPhases(append(tc.args, "--figure", out), &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.file, code, stderr.String())
		}
		if strings.Count(stdout.String(), "\n") != 1 {
			t.Errorf("%s: stdout %q is not one line", tc.file, stdout.String())
		}
		st, err := os.Stat(out)
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v, %v", tc.file, st, err)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := runPhases([]string{"-h"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "usage: blockrec phases ") ||
		!strings.Contains(stdout.String(), "bisection   the released recursive exact max-cut") || stderr.Len() > 0 {
		t.Errorf("-h: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// --null prints one more line after the phases: blocks for planted phases, drift for a smoothly
// decelerating drift (τ_l = 1 − e^{−l/3}, the counter-example), each with symmetric noise.
func TestRunPhasesNull(t *testing.T) {
	dir := t.TempDir()
	noisy := func(f func(i, j int) float64) [][]float64 {
		m := make([][]float64, 8)
		for i := range m {
			m[i] = make([]float64, 8)
		}
		for i := range 8 {
			for j := i + 1; j < 8; j++ {
				v := f(i, j) + 0.01*math.Sin(float64(7*i+13*j)) // deterministic, symmetric noise
				m[i][j], m[j][i] = v, v
			}
		}
		return m
	}
	tau := func(l int) float64 { return 1 - math.Exp(-float64(l+1)/3) }
	lab := []int{0, 0, 0, 1, 1, 1, 1, 1}
	tests := []struct {
		name, verdict string
		m             [][]float64
	}{
		{"blocks", "blocks", noisy(func(i, j int) float64 {
			return 0.05*float64(j-i) + 0.6*float64(lab[j]-lab[i])
		})},
		{"drift", "drift", noisy(func(i, j int) float64 { return tau(j) - tau(i) })},
	}
	for _, tc := range tests {
		path := writeCSV(t, dir, tc.name+".csv", tc.m)
		var out, errb bytes.Buffer
		if rc := runPhases([]string{"--matrix", path, "--k", "2", "--null"}, &out, &errb); rc != 0 {
			t.Fatalf("%s: rc %d: %s", tc.name, rc, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: output %q, want 2 lines", tc.name, out.String())
		}
		var verdict string
		var stat, p float64
		if n, err := fmt.Sscanf(lines[1], "null: %s stat=%g p=%g", &verdict, &stat, &p); n != 3 || err != nil {
			t.Fatalf("%s: null line %q: %v", tc.name, lines[1], err)
		}
		t.Logf("%s: %s / %s", tc.name, lines[0], lines[1])
		if verdict != tc.verdict || !(p > 0 && p <= 1) || !(stat >= 0 && stat <= 1) {
			t.Errorf("%s: %q, want verdict %s", tc.name, lines[1], tc.verdict)
		}
	}
	// K = 1 has no boundary to test.
	path := writeCSV(t, dir, "one.csv", tests[0].m)
	var out, errb bytes.Buffer
	if rc := runPhases([]string{"--matrix", path, "--k", "1", "--null"}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "--null") {
		t.Errorf("--k 1 --null: rc %d, stderr %q", rc, errb.String())
	}
}
