package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/recipes"
)

func init() {
	register("cifar", "run the CIFAR experiment of notebook 01 at a scale: teachers (the SD sweep), all, or figures (export from saved results)", runCIFAR)
}

func runCIFAR(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("cifar", "[flags] teachers|all|figures",
		"Runs notebook 01's experiment: teachers trains the stochastic-depth sweep, all runs everything, figures draws saved results.", stderr)
	scale := fs.String("scale", "", "smoke, cpu or paper (default: $BLOCKREC_SCALE, else cpu)")
	dataset := fs.String("data", "auto", "auto, cifar100, cifar10, standin, fashion-mnist, synthetic")
	sdList := fs.String("sd", "", "comma-separated stochastic-depth rates overriding the scale's sweep (e.g. 0,0.3)")
	budget := fs.Duration("budget", 0, "with all: start no new Raptor fit after this much time (0: no limit); skipped fits are listed in the results")
	if code, done := parseFlags(fs, args, 1, stdout); done {
		return code
	}
	if fs.Arg(0) != "teachers" && fs.Arg(0) != "all" && fs.Arg(0) != "figures" {
		fmt.Fprintf(stderr, "blockrec cifar: %q is not teachers, all or figures\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	level, err := scaleFlag(*scale)
	if err != nil {
		fmt.Fprintln(stderr, "blockrec cifar:", err)
		return 2
	}
	kind, err := kindFromFlag(*dataset)
	if err != nil {
		fmt.Fprintln(stderr, "blockrec cifar:", err)
		return 2
	}
	plan := recipes.CIFARPlanFor(level)
	if *sdList != "" {
		plan.SDRates = nil
		for _, f := range strings.Split(*sdList, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v < 0 || v >= 1 {
				fmt.Fprintf(stderr, "blockrec cifar: --sd %q: each rate must be a number in [0, 1)\n", *sdList)
				return 2
			}
			plan.SDRates = append(plan.SDRates, v)
		}
	}
	splits, err := data.Open(context.Background(), data.Options{Only: kind, Logf: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }})
	if err != nil {
		fmt.Fprintln(stderr, "blockrec cifar:", err)
		return 1
	}
	if plan, err = plan.SizedTo(splits); err != nil {
		fmt.Fprintln(stderr, "blockrec cifar:", err)
		return 1
	}
	for _, cut := range plan.Sized {
		fmt.Fprintln(stderr, "blockrec cifar: sized to the data:", cut)
	}
	b, err := backend.New()
	if err != nil {
		fmt.Fprintln(stderr, "blockrec cifar:", err)
		return 1
	}
	fmt.Fprintf(stderr, "blockrec cifar: scale %s, %s\n", level, splits.Provenance())
	if fs.Arg(0) == "figures" {
		path, err := plan.ResultsPath(splits.Name())
		if err != nil {
			fmt.Fprintln(stderr, "blockrec cifar:", err)
			return 1
		}
		res, err := recipes.ReadCIFARResults(path)
		if err != nil {
			fmt.Fprintln(stderr, "blockrec cifar:", err)
			return 1
		}
		figs, err := res.Figures()
		if err != nil {
			fmt.Fprintln(stderr, "blockrec cifar:", err)
			return 1
		}
		if len(figs) == 0 {
			fmt.Fprintf(stderr, "blockrec cifar: %s holds no results to draw\n", path)
			return 1
		}
		var dir string // where the figures went (see figures.DirFor)
		for _, f := range figs {
			paths, err := figures.Save(f.Figure, f.Name, f.W, f.H, figures.Provenance{Dataset: res.Provenance, Scale: res.Scale,
				Model: res.Model, Backend: backend.Describe(b), Notes: f.Caption + " Recipe: " + res.Recipe + "."})
			if err != nil {
				fmt.Fprintln(stderr, "blockrec cifar:", err)
				return 1
			}
			for _, p := range paths {
				fmt.Fprintln(stdout, p)
			}
			dir = filepath.Dir(paths[0])
		}
		// The conclusion computed from the same results, next to the figures.
		path = filepath.Join(dir, "01_conclusion.md")
		if err = figures.WriteAtomic(path, []byte(res.Conclusion())); err != nil {
			fmt.Fprintln(stderr, "blockrec cifar:", err)
			return 1
		}
		fmt.Fprintln(stdout, path)
		// The README's results table, one row per claim, from the same results.
		path = filepath.Join(dir, "01_claims_by_group.md")
		if err = figures.WriteAtomic(path, []byte(recipes.ClaimsByGroupTable(res.Claims()))); err != nil {
			fmt.Fprintln(stderr, "blockrec cifar:", err)
			return 1
		}
		fmt.Fprintln(stdout, path)
		return 0
	}
	if fs.Arg(0) == "all" {
		began := time.Now()
		stop := func() bool { return *budget > 0 && time.Since(began) > *budget }
		res, path, err := recipes.RunCIFARAndSave(b, plan, splits, stderr, stop)
		if err != nil {
			fmt.Fprintln(stderr, "blockrec cifar:", err)
			return 1
		}
		for _, t := range res.Teachers {
			fmt.Fprintf(stdout, "teacher sd=%.2f accuracy %.4f\n", t.SD, t.Accuracy)
		}
		for _, r := range append(res.Raptor, res.Baselines...) {
			fmt.Fprintf(stdout, "raptor sd=%.2f k=%d %-17s seed %d: accuracy %.4f (teacher %.4f), last-layer R² %.3f\n",
				r.SD, r.K, r.Kind, r.Seed, r.Result.Accuracy, r.Result.TeacherAccuracy, r.Result.R2[len(r.Result.R2)-1][recipes.ColAll])
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(stdout, "skipped (time budget): %s\n", s)
		}
		fmt.Fprintf(stdout, "done in %s; results in %s\n", time.Since(began).Round(time.Second), path)
		return 0
	}
	for seed := 1; seed <= max(1, plan.TeacherSeeds); seed++ {
		for _, sd := range plan.SDRates {
			t, err := plan.TeacherSeed(b, splits, sd, seed, stderr)
			if err != nil {
				fmt.Fprintln(stderr, "blockrec cifar:", err)
				return 1
			}
			r := t.Result
			fmt.Fprintf(stdout, "teacher sd=%.2f seed %d: %d steps, test accuracy %.4f on %s, %.1f img/s, %s\n",
				sd, seed, r.Steps, r.TestAccuracy, r.Spec.Dataset, r.ImagesPerSec, t.Dir)
		}
	}
	return 0
}
