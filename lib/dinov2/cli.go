package dinov2

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/data"
)

const cliUsage = `usage: blockrec dinov2 SUBCOMMAND [flags]

subcommands:
  extract   run images through a DINOv2 checkpoint and save every layer's hidden states
  info      describe a checkpoint (folder or HF hub id)
  generate  write a tiny random checkpoint in HF layout (for tests and notebooks without weights)

model references: a folder with config.json + model.safetensors, or a hub id among
  ` + "%s" + `
hub ids are looked up in the HF caches (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub,
<repo>/data/hf) and downloaded into <repo>/data/hf otherwise (BLOCKREC_OFFLINE=1 forbids it).
`

// Main runs the `blockrec dinov2` subcommand and returns the exit status (0 ok, 1 failure,
// 2 bad usage).
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w, code := stdout, 0
		if len(args) == 0 {
			w, code = stderr, 2
		}
		fmt.Fprintf(w, cliUsage, strings.Join(HubModels, ", "))
		return code
	}
	run := map[string]func([]string, io.Writer, io.Writer) int{"extract": cliExtract, "info": cliInfo, "generate": cliGenerate}[args[0]]
	if run == nil {
		fmt.Fprintf(stderr, "blockrec dinov2: unknown subcommand %q (extract, info, generate)\n", args[0])
		return 2
	}
	return run(args[1:], stdout, stderr)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("blockrec dinov2 "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags returns -1 to continue, else the exit status.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return 2
	}
	return -1
}

func cliInfo(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("info", stderr)
	ref := fs.String("model", "", "checkpoint folder or HF hub id (required)")
	offline := fs.Bool("offline", false, "never download")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *ref == "" {
		fmt.Fprintln(stderr, "blockrec dinov2 info: --model is required")
		return 2
	}
	m, err := Load(*ref, HubOptions{Offline: *offline})
	if err != nil {
		fmt.Fprintln(stderr, "blockrec dinov2 info:", err)
		return 1
	}
	fmt.Fprintln(stdout, m)
	fmt.Fprintf(stdout, "folder: %s\n", m.Dir)
	return 0
}

func cliGenerate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("generate", stderr)
	out := fs.String("out", "", "folder to write config.json and model.safetensors into (required)")
	registers := fs.Int("registers", 0, "register tokens (> 0 makes a Dinov2WithRegistersModel)")
	swiglu := fs.Bool("swiglu", false, "SwiGLU MLP instead of GELU")
	seed := fs.Uint64("seed", 1, "random seed")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "blockrec dinov2 generate: --out is required")
		return 2
	}
	if err := Generate(*out, TinyHFConfig(*registers, *swiglu), *seed); err != nil {
		fmt.Fprintln(stderr, "blockrec dinov2 generate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote a random tiny DINOv2 checkpoint to %s\n", *out)
	return 0
}

func cliExtract(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("extract", stderr)
	ref := fs.String("model", "", "checkpoint folder or HF hub id (required)")
	images := fs.String("images", "", "folder of .jpg/.png images, searched recursively (required)")
	out := fs.String("out", "", "output .safetensors file (required)")
	resize := fs.Int("resize", 256, "shorter side after the bicubic resize")
	crop := fs.Int("crop", 224, "centre crop side (a multiple of the patch size)")
	batch := fs.Int("batch", 32, "images per forward pass")
	offline := fs.Bool("offline", false, "never download")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *ref == "" || *images == "" || *out == "" {
		fmt.Fprintln(stderr, "blockrec dinov2 extract: --model, --images and --out are required")
		return 2
	}
	if err := extractToFile(*ref, *images, *out, *resize, *crop, *batch, *offline, stdout); err != nil {
		fmt.Fprintln(stderr, "blockrec dinov2 extract:", err)
		return 1
	}
	return 0
}

// extractToFile writes "hidden_states" [N, L+1, T, D] and "last_hidden_state" [N, T, D] to out,
// with metadata: model, images (JSON list of paths), layout (JSON), preprocessing.
func extractToFile(ref, folder, out string, resize, crop, batch int, offline bool, log io.Writer) error {
	m, err := Load(ref, HubOptions{Offline: offline})
	if err != nil {
		return err
	}
	if p := m.Config().PatchSize; crop <= 0 || crop%p != 0 || resize < crop {
		return fmt.Errorf("crop %d must be a positive multiple of the patch size %d, and resize %d at least the crop", crop, p, resize)
	}
	paths, err := ListImages(folder)
	if err != nil {
		return err
	}
	pre := data.Preprocessor{Resize: resize, Crop: crop, Filter: data.Bicubic, Stats: data.ImageNetStats}
	pixels, err := LoadImages(paths, pre)
	if err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	e, err := NewExtractor(b, m, batch)
	if err != nil {
		return err
	}
	start := time.Now()
	acts, err := e.Extract(pixels, len(paths), crop, crop)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	h := acts.Hidden
	// Finite weights can still overflow; states that are not finite are never written.
	if i, v, bad := firstNonFinite(h.Data); bad {
		per := h.Layers * h.Tokens * h.Dim
		return fmt.Errorf("hidden states of %s are not finite (%g at layer %d, token %d): nothing written to %s",
			paths[i/per], v, i%per/(h.Tokens*h.Dim), i%(h.Tokens*h.Dim)/h.Dim, out)
	}
	if i, v, bad := firstNonFinite(acts.Normed); bad {
		per := h.Tokens * h.Dim
		return fmt.Errorf("last hidden state of %s is not finite (%g at token %d): nothing written to %s", paths[i/per], v, i%per/h.Dim, out)
	}
	names, _ := json.Marshal(paths)
	layout, _ := json.Marshal(acts.Layout)
	meta := map[string]string{
		"model": ref, "images": string(names), "layout": string(layout),
		"preprocessing": fmt.Sprintf("resize %d bicubic, centre crop %d, ImageNet mean/std", resize, crop),
	}
	arrays := map[string]*Array{
		"hidden_states":     {Shape: []int{h.Images, h.Layers, h.Tokens, h.Dim}, Data: h.Data},
		"last_hidden_state": {Shape: []int{h.Images, h.Tokens, h.Dim}, Data: acts.Normed},
	}
	if err := WriteSafetensors(out, arrays, meta); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s: %d images, %d layers x %d tokens x %d dims in %.2fs (%.1f img/s) -> %s\n",
		m.Source, h.Images, h.Layers, h.Tokens, h.Dim, elapsed.Seconds(), float64(h.Images)/elapsed.Seconds(), out)
	return nil
}

// ReadExtracted reads a file written by `blockrec dinov2 extract` back into Activations and the
// image paths.
func ReadExtracted(path string) (*Activations, []string, error) {
	arrays, meta, err := ReadSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	hs, normed := arrays["hidden_states"], arrays["last_hidden_state"]
	if hs == nil || normed == nil || len(hs.Shape) != 4 || len(normed.Shape) != 3 {
		return nil, nil, fmt.Errorf("dinov2: %s lacks hidden_states [N,L,T,D] or last_hidden_state [N,T,D]", path)
	}
	acts := &Activations{Normed: normed.Data}
	acts.Hidden = newBatch(hs)
	if err := json.Unmarshal([]byte(meta["layout"]), &acts.Layout); err != nil {
		return nil, nil, fmt.Errorf("dinov2: %s: bad layout metadata: %w", path, err)
	}
	var paths []string
	if err := json.Unmarshal([]byte(meta["images"]), &paths); err != nil {
		return nil, nil, fmt.Errorf("dinov2: %s: bad images metadata: %w", path, err)
	}
	return acts, paths, nil
}
