package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/phases"
	"gonum.org/v1/plot/vg"
)

func init() {
	register("phases", "discover phases from a dissimilarity matrix", runPhases)
}

// phasesAbout is the text under the usage line of `blockrec phases -h`.
const phasesAbout = `Reads a square, symmetric CSV of layer-by-layer dissimilarities (no header; row i = layer i+1)
and prints the phases on one line, 1-indexed and inclusive, e.g. "1-7 8-10 11-12".

  contiguous  the k contiguous phases maximising the dissimilarity across phases (exact DP);
              --min-size M makes every phase at least M layers (default 1).
  bisection   the released recursive exact max-cut: split while the best cut exceeds
              F x (sum of W / 2); clusters under 2 x M layers are never split (default M = 2).
              Its phases need not be contiguous; then each phase lists its members as runs
              separated by commas, e.g. "1,3-4 2,5".

--null also tests the phases against a block-free warped drift (phases.WarpedDriftNull, K = the
number of phases, 199 bootstrap replicates of the null's own residuals, alpha 0.05) and prints
one more line: "null: blocks|drift stat=<value> p=<value>".

--figure OUT.{png,svg,pdf} also draws the matrix as a heat map with the phase boundaries
(boundaries only for contiguous phases).

Exit status: 0 on success, 2 on bad arguments or a bad matrix (one line on stderr), 1 if the
figure cannot be written.`

// runPhases implements `blockrec phases`.
func runPhases(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("phases", "--matrix W.csv (--k K | --solver bisection --eps-frac F) [--min-size M] [--null] [--figure OUT.png]",
		phasesAbout, stderr)
	matrix := fs.String("matrix", "", "square CSV of dissimilarities (no header)")
	solver := fs.String("solver", "contiguous", "contiguous or bisection")
	k := fs.Int("k", 0, "number of phases (contiguous)")
	epsFrac := fs.Float64("eps-frac", 0, "stop splitting when the best cut is at most this fraction of ΣW/2 (bisection)")
	minSize := fs.Int("min-size", 0, "contiguous: smallest phase (default 1); bisection: clusters under 2×M are not split (default 2)")
	null := fs.Bool("null", false, "also test the phases against the warped-drift null and print one line")
	figure := fs.String("figure", "", "also write the heat map with phase boundaries to this .png, .svg or .pdf")
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "blockrec phases: "+format+"\n", a...)
		return 2
	}
	if code, done := parseFlags(fs, args, 0, stdout); done {
		return code
	}
	set := setFlags(fs)
	switch {
	case *matrix == "":
		return fail("--matrix is required (see blockrec phases -h)")
	case *solver != "contiguous" && *solver != "bisection":
		return fail("unknown solver %q: want contiguous or bisection", *solver)
	case *solver == "contiguous" && !set["k"]:
		return fail("--solver contiguous needs --k")
	case *solver == "contiguous" && set["eps-frac"]:
		return fail("--eps-frac applies to --solver bisection only")
	case *solver == "contiguous" && *k < 1:
		return fail("--k %d: need at least 1 phase", *k)
	case *solver == "bisection" && !set["eps-frac"]:
		return fail("--solver bisection needs --eps-frac")
	case *solver == "bisection" && set["k"]:
		return fail("--k applies to --solver contiguous only (bisection's k follows from --eps-frac)")
	case *solver == "bisection" && !(*epsFrac >= 0):
		return fail("--eps-frac %v: must be ≥ 0", *epsFrac)
	case set["min-size"] && *minSize < 1:
		return fail("--min-size %d: must be ≥ 1", *minSize)
	}
	if *figure != "" {
		switch strings.ToLower(filepath.Ext(*figure)) {
		case ".png", ".svg", ".pdf":
		default:
			return fail("%s: figure must end in .png, .svg or .pdf", *figure)
		}
	}

	w, err := readDissimilarity(*matrix)
	if err != nil {
		return fail("%s: %v", *matrix, err)
	}
	n := len(w)
	var p phases.Partition
	title := filepath.Base(*matrix)
	if *solver == "contiguous" {
		if *k > n {
			return fail("%s: --k %d is larger than the %d layers of the matrix", *matrix, *k, n)
		}
		res, err := phases.ContiguousMinSize(w, *k, max(*minSize, 1))
		if err != nil {
			return fail("%s: %v", *matrix, err)
		}
		p = res.Partition
		title += fmt.Sprintf(": contiguous, k=%d", *k)
	} else {
		res, err := phases.RecursiveBisection(w, phases.BisectionOptions{EpsFrac: *epsFrac, MinSize: *minSize})
		if err != nil {
			return fail("%s: %v", *matrix, err)
		}
		p = res.Partition
		title += fmt.Sprintf(": bisection, eps-frac=%g, k=%d", *epsFrac, p.K())
	}
	fmt.Fprintln(stdout, p)
	if *null {
		t, err := phases.WarpedDriftNull(w, phases.NullOptions{K: p.K(), Seed: 1})
		if err != nil {
			return fail("%s: --null: %v", *matrix, err)
		}
		fmt.Fprintln(stdout, t)
	}

	if *figure != "" {
		boundaries, _ := p.Thresholds() // nil when the phases are not contiguous
		plt, err := figures.Heatmap(w, figures.HeatmapOptions{Title: title, OneBased: true, Boundaries: boundaries})
		if err != nil {
			fmt.Fprintf(stderr, "blockrec phases: %s: %v\n", *figure, err)
			return 1
		}
		if err := plt.Save(14*vg.Centimeter, 12*vg.Centimeter, *figure); err != nil {
			fmt.Fprintf(stderr, "blockrec phases: %s: %v\n", *figure, err)
			return 1
		}
	}
	return 0
}

// readDissimilarity reads and validates a dissimilarity matrix CSV.
func readDissimilarity(path string) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, err
	}
	defer f.Close()
	w, err := phases.ReadMatrixCSV(f)
	if err != nil {
		return nil, err
	}
	if err := phases.ValidateDissimilarity(w); err != nil {
		return nil, err
	}
	return w, nil
}
