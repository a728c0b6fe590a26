package data

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // register decoders
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FolderOptions configure ReadImageFolder.
type FolderOptions struct {
	// Size, when positive, resizes every image to Size×Size (bilinear, aspect ratio not kept).
	// When 0 all images must already have the size of the first one.
	Size int
	// MaxPerClass, when positive, reads only the first MaxPerClass images (by file name) of each class.
	MaxPerClass int
	// Workers is the number of decoding goroutines (0: GOMAXPROCS).
	Workers int
	// Name, Kind, Split and Stats are copied into the Dataset (Name defaults to the folder name,
	// Kind to KindImageFolder, Stats to those measured on the images).
	Name  string
	Kind  Kind
	Split string
	Stats Stats
}

// imageExts are the file name extensions ReadImageFolder reads (compared in lower case).
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// ListImageFolder lists an ImageNet-style folder root/<class>/<image>: the class names sorted, and
// for each image file (.jpg, .jpeg, .png, any case; sorted by name within a class) its path and
// class index. Other files and hidden entries are ignored; a class folder without images is an
// error.
func ListImageFolder(root string, maxPerClass int) (classes []string, paths []string, labels []int32, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("data: image folder: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	slices.Sort(classes)
	if len(classes) == 0 {
		return nil, nil, nil, fmt.Errorf("data: image folder %s has no class sub-folders", root)
	}
	for ci, class := range classes {
		dir := filepath.Join(root, class)
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("data: image folder: %w", err)
		}
		var names []string
		for _, f := range files {
			if f.Type().IsRegular() && !strings.HasPrefix(f.Name(), ".") && imageExts[strings.ToLower(filepath.Ext(f.Name()))] {
				names = append(names, f.Name())
			}
		}
		slices.Sort(names)
		if len(names) == 0 {
			return nil, nil, nil, fmt.Errorf("data: image folder %s: class folder %q holds no .jpg/.jpeg/.png files", root, class)
		}
		if maxPerClass > 0 && len(names) > maxPerClass {
			names = names[:maxPerClass]
		}
		for _, n := range names {
			paths = append(paths, filepath.Join(dir, n))
			labels = append(labels, int32(ci))
		}
	}
	return classes, paths, labels, nil
}

// ReadImageFolder reads an ImageNet-style class-folder image set (see ListImageFolder) into
// memory as RGB bytes, decoding with the standard library on several goroutines.
func ReadImageFolder(ctx context.Context, root string, opts FolderOptions) (*Dataset, error) {
	classes, paths, labels, err := ListImageFolder(root, opts.MaxPerClass)
	if err != nil {
		return nil, err
	}
	h, w := opts.Size, opts.Size
	if opts.Size <= 0 {
		// Native size: take it from the first image.
		f, err := os.Open(paths[0])
		if err != nil {
			return nil, fmt.Errorf("data: image folder: %w", err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("data: image %s: %w", paths[0], err)
		}
		h, w = cfg.Height, cfg.Width
	}
	const c = 3
	n := h * w * c
	pixels := make([]uint8, len(paths)*n)
	err = parallelFor(len(paths), opts.Workers, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return decodeInto(pixels[i*n:(i+1)*n], paths[i], h, w, opts.Size > 0)
	})
	if err != nil {
		return nil, err
	}
	d := &Dataset{
		Name: opts.Name, Kind: opts.Kind, Split: opts.Split, Source: root,
		H: h, W: w, C: c, Pixels: pixels, Labels: labels,
		NumClasses: len(classes), ClassNames: classes, Stats: opts.Stats,
	}
	if d.Name == "" {
		d.Name = filepath.Base(root)
	}
	if d.Kind == KindUnknown {
		d.Kind = KindImageFolder
	}
	if d.Stats.Mean == nil {
		d.Stats = ComputeStats(d)
	}
	return d, d.Validate()
}

// decodeInto decodes the image file path into dst as h×w×3 bytes, resizing if allowed.
func decodeInto(dst []uint8, path string, h, w int, resize bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: image folder: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("data: image %s: %w", path, err)
	}
	pix, ih, iw := ToRGB(img)
	if ih != h || iw != w {
		if !resize {
			return fmt.Errorf("data: image %s is %dx%d, expected %dx%d like the first image (set FolderOptions.Size to resize)", path, iw, ih, w, h)
		}
		pix = Resize(pix, ih, iw, 3, h, w, Bilinear)
	}
	copy(dst, pix)
	return nil
}
