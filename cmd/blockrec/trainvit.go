package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
	"github.com/blockrec/blockrec/lib/recipes"
	"github.com/blockrec/blockrec/lib/vit"
)

func init() {
	register("train-vit", "train a ViT classifier with uniform stochastic depth (resumable)", runTrainViT)
}

func runTrainViT(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("train-vit", "--out DIR [flags]",
		"Trains a ViT classifier with uniform stochastic depth into a run folder; rerun the same command to resume.", stderr)
	out := fs.String("out", "", "run folder (checkpoints, metrics.jsonl, result.json); rerun the same command to resume")
	dataset := fs.String("data", "auto", "auto (CIFAR-100, else the CIFAR-10 stand-in, else synthetic), cifar100, cifar10, standin, synthetic")
	config := fs.String("config", "tiny", "model preset: tiny (dim 64, 8 layers, patch 8) or small (dim 192, 6 layers, patch 4)")
	dim := fs.Int("dim", 0, "override the width")
	depth := fs.Int("depth", 0, "override the number of layers")
	heads := fs.Int("heads", 0, "override the number of heads")
	patch := fs.Int("patch", 0, "override the patch size")
	sd := fs.Float64("sd", 0, "uniform stochastic-depth (DropPath) rate, the same at every layer, in [0, 1)")
	epochs := fs.Float64("epochs", 1, "training epochs (fractions allowed)")
	batch := fs.Int("batch", 64, "batch size")
	lr := fs.Float64("lr", 1e-3, "peak learning rate")
	wd := fs.Float64("wd", 0.05, "AdamW weight decay")
	smoothing := fs.Float64("label-smoothing", 0, "label smoothing")
	trainImages := fs.Int("train-images", 0, "use a random subset of this many training images (0: all)")
	testImages := fs.Int("test-images", 0, "evaluate on a random subset of this many test images (0: all)")
	seed := fs.Int64("seed", 1, "seed of initialisation, shuffling, augmentation and DropPath")
	if code, done := parseFlags(fs, args, 0, stdout); done {
		return code
	}
	fail := func(code int, err error) int { commandError(stderr, "train-vit", err); return code }
	if *out == "" {
		return fail(2, errors.New("--out is required"))
	}
	var model vit.Config
	switch *config {
	case "tiny":
		model = vit.Tiny(0)
	case "small":
		model = vit.Small(0)
	default:
		return fail(2, fmt.Errorf("unknown --config %q (tiny or small)", *config))
	}
	set := setFlags(fs)
	if err := checkFlags(fs,
		flagRule{"dim", !set["dim"] || *dim > 0, "a whole number > 0"},
		flagRule{"depth", !set["depth"] || *depth > 0, "a whole number > 0"},
		flagRule{"heads", !set["heads"] || *heads > 0, "a whole number > 0"},
		flagRule{"patch", !set["patch"] || *patch > 0, "a whole number > 0"},
		flagRule{"sd", nonNegative(*sd) && *sd < 1, "a number in [0, 1)"},
		flagRule{"epochs", positive(*epochs), "a number > 0 (fractions allowed)"},
		flagRule{"batch", *batch > 0, "a whole number > 0"},
		flagRule{"lr", positive(*lr), "a finite number > 0"},
		flagRule{"wd", nonNegative(*wd), "a finite number >= 0"},
		flagRule{"label-smoothing", nonNegative(*smoothing) && *smoothing < 1, "a number in [0, 1)"},
		flagRule{"train-images", *trainImages >= 0, "a whole number >= 0 (0: all)"},
		flagRule{"test-images", *testImages >= 0, "a whole number >= 0 (0: all)"},
	); err != nil {
		return fail(2, err)
	}
	for _, o := range []struct {
		name string
		v    int
		dst  *int
	}{{"dim", *dim, &model.Dim}, {"depth", *depth, &model.Depth}, {"heads", *heads, &model.Heads}, {"patch", *patch, &model.PatchSize}} {
		if set[o.name] {
			*o.dst = o.v
		}
	}
	if set["dim"] {
		model.MLPHidden = 4 * *dim
	}
	model.DropPath = *sd
	kind, err := kindFromFlag(*dataset)
	if err != nil {
		return fail(2, err)
	}
	spec := recipes.DefaultViTSpec(model, *epochs)
	spec.BatchSize, spec.LR, spec.WeightDecay, spec.LabelSmoothing = *batch, *lr, *wd, *smoothing
	spec.TrainImages, spec.TestImages, spec.Seed = *trainImages, *testImages, *seed
	model.NumClasses = 1 // validated again with the dataset's class count
	if err := model.Validate(); err != nil {
		return fail(2, err)
	}

	splits, err := data.Open(context.Background(), data.Options{Only: kind, Logf: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }})
	if err != nil {
		return fail(1, err)
	}
	fmt.Fprintf(stderr, "blockrec train-vit: %s\n", splits.Provenance())
	b, err := backend.New()
	if err != nil {
		return fail(1, err)
	}
	trained, err := recipes.TrainViT(b, *out, spec, splits, stderr)
	if err != nil {
		return fail(1, err)
	}
	r := trained.Result
	fmt.Fprintf(stdout, "dataset %s | %d steps | test accuracy %.4f | %.1f img/s training | %s\n",
		r.Spec.Dataset, r.Steps, r.TestAccuracy, r.ImagesPerSec, *out)
	return 0
}

// kindFromFlag maps a --data value to a data source (KindUnknown lets Open choose).
func kindFromFlag(s string) (data.Kind, error) {
	switch s {
	case "auto", "":
		return data.KindUnknown, nil
	case "cifar100":
		return data.KindCIFAR100, nil
	case "cifar10":
		return data.KindCIFAR10, nil
	case "standin":
		return data.KindCIFAR10JPEG, nil
	case "fashion-mnist":
		return data.KindFashionMNIST, nil
	case "synthetic":
		return data.KindSynthetic, nil
	}
	return data.KindUnknown, fmt.Errorf("unknown --data %q (auto, cifar100, cifar10, standin, fashion-mnist, synthetic)", s)
}
