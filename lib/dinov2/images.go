package dinov2

import (
	"fmt"
	"image"
	_ "image/jpeg" // decoders for LoadImages
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blockrec/blockrec/lib/data"
)

// ListImages returns the .jpg, .jpeg and .png files (any case) under root, recursively, sorted
// by path; hidden files and folders are skipped.
func ListImages(root string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jpg", ".jpeg", ".png":
			if !d.IsDir() {
				paths = append(paths, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dinov2: listing images: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("dinov2: no .jpg/.jpeg/.png images under %s", root)
	}
	sort.Strings(paths)
	return paths, nil
}

// LoadImages decodes and preprocesses image files with p (lib/data's DINOv2-style resize,
// centre crop and normalisation) into one NHWC float32 block of len(paths)×Crop×Crop×3.
func LoadImages(paths []string, p data.Preprocessor) ([]float32, error) {
	n := p.OutputSize()
	out := make([]float32, len(paths)*n)
	for i, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("dinov2: %w", err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("dinov2: decoding %s: %w", path, err)
		}
		px, err := p.Apply(img)
		if err != nil {
			return nil, fmt.Errorf("dinov2: preprocessing %s: %w", path, err)
		}
		copy(out[i*n:], px)
	}
	return out, nil
}
