package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/figures"
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/recipes"
)

func init() {
	register("cifar", "run the CIFAR experiment of notebook 01 at a scale: teachers (the SD sweep), all, or figures (export from saved results)", runCIFAR)
}

func runCIFAR(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cifar", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.String("scale", "", "smoke, cpu or paper (default: $BLOCKREC_SCALE, else cpu)")
	dataset := fs.String("data", "auto", "auto, cifar100, cifar10, standin, synthetic")
	sdList := fs.String("sd", "", "comma-separated stochastic-depth rates overriding the scale's sweep (e.g. 0,0.3)")
	budget := fs.Duration("budget", 0, "with all: start no new Raptor fit after this much time (0: no limit); skipped fits are listed in the results")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: blockrec cifar [--scale S] [--data D] teachers|all|figures")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "teachers" && fs.Arg(0) != "all" && fs.Arg(0) != "figures") {
		fs.Usage()
		return 2
	}
	level, err := notebook.LookupScale()
	if *scale != "" {
		if level, err = notebook.ParseScale(*scale); err != nil {
			// ParseScale's message names the environment variable; the flag was given.
			fmt.Fprintf(stderr, "cifar: --scale %q is not a scale: use one of smoke, cpu, paper\n", *scale)
			return 2
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "cifar:", err)
		return 2
	}
	kind, err := kindFromFlag(*dataset)
	if err != nil {
		fmt.Fprintln(stderr, "cifar:", err)
		return 2
	}
	plan := recipes.CIFARPlanFor(level)
	if *sdList != "" {
		plan.SDRates = nil
		for _, f := range strings.Split(*sdList, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v < 0 || v >= 1 {
				fmt.Fprintf(stderr, "cifar: --sd %q: each rate must be a number in [0, 1)\n", *sdList)
				return 2
			}
			plan.SDRates = append(plan.SDRates, v)
		}
	}
	splits, err := data.Open(context.Background(), data.Options{Only: kind, Logf: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }})
	if err != nil {
		fmt.Fprintln(stderr, "cifar:", err)
		return 1
	}
	b, err := backend.New()
	if err != nil {
		fmt.Fprintln(stderr, "cifar:", err)
		return 1
	}
	fmt.Fprintf(stderr, "cifar: scale %s, %s\n", level, splits.Provenance())
	if fs.Arg(0) == "figures" {
		path, err := plan.ResultsPath(splits.Name())
		if err != nil {
			fmt.Fprintln(stderr, "cifar:", err)
			return 1
		}
		res, err := recipes.ReadCIFARResults(path)
		if err != nil {
			fmt.Fprintln(stderr, "cifar:", err)
			return 1
		}
		figs, err := res.Figures()
		if err != nil {
			fmt.Fprintln(stderr, "cifar:", err)
			return 1
		}
		for _, f := range figs {
			paths, err := figures.Save(f.Figure, f.Name, f.W, f.H, figures.Provenance{Dataset: res.Provenance, Scale: res.Scale,
				Model: res.Model, Backend: backend.Describe(b), Notes: f.Caption})
			if err != nil {
				fmt.Fprintln(stderr, "cifar:", err)
				return 1
			}
			for _, p := range paths {
				fmt.Fprintln(stdout, p)
			}
		}
		// The conclusion computed from the same results, next to the figures.
		dir, err := figures.Dir()
		if err == nil {
			path := filepath.Join(dir, "01_conclusion.md")
			if err = os.WriteFile(path, []byte(res.Conclusion()), 0o644); err == nil {
				fmt.Fprintln(stdout, path)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "cifar:", err)
			return 1
		}
		return 0
	}
	if fs.Arg(0) == "all" {
		began := time.Now()
		stop := func() bool { return *budget > 0 && time.Since(began) > *budget }
		res, path, err := recipes.RunCIFARAndSave(b, plan, splits, stderr, stop)
		if err != nil {
			fmt.Fprintln(stderr, "cifar:", err)
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
	for _, sd := range plan.SDRates {
		t, err := plan.Teacher(b, splits, sd, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "cifar:", err)
			return 1
		}
		r := t.Result
		fmt.Fprintf(stdout, "teacher sd=%.2f: %d steps, test accuracy %.4f on %s, %.1f img/s, %s\n",
			sd, r.Steps, r.TestAccuracy, r.Spec.Dataset, r.ImagesPerSec, t.Dir)
	}
	return 0
}
