package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/dinov2"
	"github.com/blockrec/blockrec/lib/recipes"
)

func init() {
	register("analyze", "phases, stability and the drift null of any supported ViT on a folder of images (report.md, figures)", runAnalyze)
}

// runAnalyze is `blockrec analyze MODEL --images DIR --out OUT`: every flag and the model's
// family are checked before anything is written to --out; the work is lib/recipes.Analyze's.
func runAnalyze(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("analyze", "MODEL --images DIR --out OUT [flags]",
		"Runs a folder of images through MODEL (a checkpoint folder or HF hub id) and writes the layer\n"+
			"dissimilarity matrix, its phases for each K with bootstrap stability and the warped-drift null,\n"+
			"as OUT/report.md, OUT/figures/ and OUT/provenance.json. Rerun the same command to resume.\n"+
			"Supported families: "+recipes.SupportedFamilies()+".\n"+
			"Unreadable, corrupt and smaller-than-a-patch images are skipped with a warning each.", stderr)
	images := fs.String("images", "", "folder of .jpg/.jpeg/.png images, searched recursively (required)")
	out := fs.String("out", "", "output folder (required); rerun to resume")
	batch := fs.Int("batch", 32, "images per forward pass (memory is bounded by it)")
	maxImages := fs.Int("max-images", 0, "use at most this many files, the first by path (0: all)")
	ks := fs.String("ks", "2,3,4,5", "numbers of phases K, comma-separated")
	boot := fs.Int("bootstrap", 100, "bootstrap replicates over images for boundary stability (0: none)")
	null := fs.Int("null-replicates", 100, "replicates of the warped-drift null test (0: none)")
	seed := fs.Uint64("seed", 1, "seed of the bootstrap and the null test")
	offline := fs.Bool("offline", false, "never download the model")
	if code, done := parseFlags(fs, args, 1, stdout); done {
		return code
	}
	fail := func(code int, err error) int { commandError(stderr, "analyze", err); return code }
	if *images == "" || *out == "" {
		return fail(2, errors.New("--images and --out are required"))
	}
	if err := checkFlags(fs,
		flagRule{"batch", *batch > 0, "a whole number > 0"},
		flagRule{"max-images", *maxImages >= 0, "a whole number >= 0 (0: all)"},
		flagRule{"bootstrap", *boot >= 0, "a whole number >= 0 (0: none)"},
		flagRule{"null-replicates", *null >= 0, "a whole number >= 0 (0: none)"},
	); err != nil {
		return fail(2, err)
	}
	kList, err := parseKs(*ks)
	if err != nil {
		return fail(2, err)
	}
	if st, err := os.Stat(*images); err != nil || !st.IsDir() {
		return fail(2, fmt.Errorf("--images %s: not a folder", *images))
	}
	if st, err := os.Stat(*out); err == nil && !st.IsDir() {
		return fail(2, fmt.Errorf("--out %s: exists and is not a folder", *out))
	}
	ref := fs.Arg(0)
	if _, err := recipes.AnalyzeFamilyOf(ref); err != nil {
		return fail(2, err)
	}
	am, err := recipes.LoadAnalyzeModel(ref, dinov2.HubOptions{Offline: *offline})
	if err != nil {
		return fail(1, err)
	}
	if err := recipes.CheckKs(kList, am.Model.Config().Depth); err != nil {
		return fail(2, fmt.Errorf("--ks %s: %w", *ks, err))
	}
	backend.Notice = stderr
	b, err := backend.New()
	if err != nil {
		return fail(1, err)
	}
	flags := map[string]string{"model": ref}
	fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = f.Value.String() })
	res, err := recipes.Analyze(b, am, recipes.AnalyzeOptions{Images: *images, Out: *out, Batch: *batch, MaxImages: *maxImages,
		Ks: kList, Bootstrap: *boot, NullReplicates: *null, Seed: *seed, Flags: flags, Progress: stderr})
	if err != nil {
		return fail(1, err)
	}
	fmt.Fprintf(stdout, "%s: %d images used, %d skipped\n", res.Model, res.Used, len(res.Skipped))
	for _, rep := range res.Phases {
		line := fmt.Sprintf("K=%d: %s", rep.K, rep.Contiguous)
		if rep.K > 1 {
			line += fmt.Sprintf(", block index %.3f", rep.BlockIndex)
		}
		if rep.Stability != nil {
			line += fmt.Sprintf(", same phases in %.0f%% of %d replicates", 100*rep.Stability.SameShare, rep.Stability.Replicates)
		}
		if rep.Null != nil {
			line += fmt.Sprintf(", null: %s (p = %.3g)", rep.Null.Verdict, rep.Null.P)
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, "report.md"))
	return 0
}

// parseKs reads --ks: distinct whole numbers >= 1, comma-separated.
func parseKs(s string) ([]int, error) {
	var ks []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("--ks %q: must be whole numbers >= 1, comma-separated (e.g. 2,3,4)", s)
		}
		if seen[k] {
			return nil, fmt.Errorf("--ks %q: %d is given twice", s, k)
		}
		seen[k] = true
		ks = append(ks, k)
	}
	return ks, nil
}
