package probes

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoders for the readers
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Pair is an input image and its dense target (label map or depth map).
type Pair struct{ Image, Target string }

// ADE20kPairs lists the SceneParse150 split ("training" or "validation") under root, laid out as
// the official ADEChallengeData2016 release: images/<split>/NAME.jpg with
// annotations/<split>/NAME.png. Pairs are sorted by name; an image without annotation is an error.
func ADE20kPairs(root, split string) ([]Pair, error) {
	dir := filepath.Join(root, "images", split)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("probes: ADE20k: %w", err)
	}
	var pairs []Pair
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".jpg" && ext != ".jpeg") {
			continue
		}
		ann := filepath.Join(root, "annotations", split, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))+".png")
		if _, err := os.Stat(ann); err != nil {
			return nil, fmt.Errorf("probes: ADE20k: image %s has no annotation %s", e.Name(), ann)
		}
		pairs = append(pairs, Pair{Image: filepath.Join(dir, e.Name()), Target: ann})
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("probes: ADE20k: no .jpg images in %s", dir)
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].Image < pairs[j].Image })
	return pairs, nil
}

// ReadADE20kLabels reads an 8-bit annotation PNG and maps its values as the paper does: 0
// (background / unlabelled) → IgnoreLabel, k in 1..150 → k−1. Returns h×w labels.
func ReadADE20kLabels(path string) (labels []int32, h, w int, err error) {
	img, err := decodePNG(path)
	if err != nil {
		return nil, 0, 0, err
	}
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	labels = make([]int32, h*w)
	for y := range h {
		for x := range w {
			v := color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			if pal, ok := img.(*image.Paletted); ok {
				v = pal.ColorIndexAt(b.Min.X+x, b.Min.Y+y)
			}
			switch {
			case v == 0:
				labels[y*w+x] = IgnoreLabel
			case v <= 150:
				labels[y*w+x] = int32(v) - 1
			default:
				return nil, 0, 0, fmt.Errorf("probes: %s: pixel (%d, %d) has label %d > 150", path, x, y, v)
			}
		}
	}
	return labels, h, w, nil
}

// NYUPairs reads a NYUv2 split CSV as in the Kaggle soumikrakshit/nyu-depth-v2 release: one
// "rgb_path,depth_path" pair per line, no header (a first line whose paths have no image
// extension is skipped as a header). Relative paths are resolved against the CSV's folder, then
// its parent (the Kaggle CSVs live in data/ and name data/nyu2_train/...); missing files are an
// error naming the line.
func NYUPairs(csvPath string) ([]Pair, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, fmt.Errorf("probes: NYUv2: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	base := filepath.Dir(csvPath)
	var pairs []Pair
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("probes: NYUv2 %s: %w", csvPath, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("probes: NYUv2 %s line %d: want rgb_path,depth_path, got %q", csvPath, line, rec)
		}
		if line == 1 && !hasImageExt(rec[0]) {
			continue
		}
		var p [2]string
		for k := range 2 {
			if p[k], err = resolve(strings.TrimSpace(rec[k]), base); err != nil {
				return nil, fmt.Errorf("probes: NYUv2 %s line %d: %w", csvPath, line, err)
			}
		}
		pairs = append(pairs, Pair{Image: p[0], Target: p[1]})
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("probes: NYUv2 %s lists no pairs", csvPath)
	}
	return pairs, nil
}

func hasImageExt(p string) bool {
	switch strings.ToLower(filepath.Ext(strings.TrimSpace(p))) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

func resolve(p, base string) (string, error) {
	candidates := []string{p}
	if !filepath.IsAbs(p) {
		candidates = []string{filepath.Join(base, p), filepath.Join(filepath.Dir(base), p)}
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("file %s not found (tried %s)", p, strings.Join(candidates, ", "))
}

// ReadDepthPNG reads a depth map in metres. 16-bit grey PNGs hold millimetres (NYUv2 test split
// of the Kaggle release, and the raw toolbox export); 8-bit grey PNGs hold depth scaled to
// 0..255 over 0..10 m (the Kaggle train split). 0 means no measurement and stays 0.
func ReadDepthPNG(path string) (depth []float32, h, w int, err error) {
	img, err := decodePNG(path)
	if err != nil {
		return nil, 0, 0, err
	}
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	depth = make([]float32, h*w)
	switch m := img.(type) {
	case *image.Gray16:
		for y := range h {
			for x := range w {
				depth[y*w+x] = float32(m.Gray16At(b.Min.X+x, b.Min.Y+y).Y) / 1000
			}
		}
	case *image.Gray:
		for y := range h {
			for x := range w {
				depth[y*w+x] = float32(m.GrayAt(b.Min.X+x, b.Min.Y+y).Y) / 255 * 10
			}
		}
	default:
		return nil, 0, 0, fmt.Errorf("probes: %s: depth PNG must be 8- or 16-bit grey, got %T", path, img)
	}
	return depth, h, w, nil
}

func decodePNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("probes: decoding %s: %w", path, err)
	}
	return img, nil
}
