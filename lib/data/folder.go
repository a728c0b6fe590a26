package data

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register decoders
	_ "image/png"
	"io"
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

// ErrImageTooSmall is wrapped by ReadImageRGB's error for an image whose shorter side is below
// the minimum asked for.
var ErrImageTooSmall = errors.New("image too small")

// MaxImagePixels is the largest image (width × height) ReadImageRGB decodes; bigger files are
// refused before their pixels are allocated (a decompression bomb cannot exhaust memory).
const MaxImagePixels = 1 << 27

// ReadImageRGB opens and decodes one .jpg/.jpeg/.png file into H×W×3 RGB bytes, whatever its
// colour model: grey and 16-bit grey, paletted, RGBA (alpha dropped), YCbCr and the CMYK/YCCK
// JPEGs written by Adobe software (converted with the standard library's CMYK → RGB formula).
//
// Small images: an image whose shorter side is below minSide (when minSide > 0; callers pass the
// model's patch size) is refused with an error wrapping ErrImageTooSmall, rather than being
// blown up from a few pixels into a whole patch grid of interpolated colour. Images at least
// minSide on each side are resized, up or down, by the Preprocessor as usual.
//
// Every error names the file and says what is wrong with it.
func ReadImageRGB(path string, minSide int) (pix []uint8, h, w int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: image %s: %w", path, err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: image %s is unreadable or corrupt: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxImagePixels {
		return nil, 0, 0, fmt.Errorf("data: image %s is %dx%d px: want a positive size of at most %d pixels", path, cfg.Width, cfg.Height, MaxImagePixels)
	}
	if minSide > 0 && min(cfg.Width, cfg.Height) < minSide {
		return nil, 0, 0, fmt.Errorf("data: image %s is %dx%d px, smaller than the %d px minimum side (the model's patch size): %w",
			path, cfg.Width, cfg.Height, minSide, ErrImageTooSmall)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, 0, fmt.Errorf("data: image %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: image %s is unreadable or corrupt (%s): %w", path, format, err)
	}
	pix, h, w = ToRGB(img)
	return pix, h, w, nil
}

// SkippedImage is a file PreprocessFiles left out, and why.
type SkippedImage struct {
	Path string
	Err  error
}

// PreprocessFiles reads each file with ReadImageRGB(path, minSide) and preprocesses it with p,
// on workers goroutines (0: GOMAXPROCS). Files that cannot be read, are corrupt or too small are
// skipped, not fatal: out holds the kept images' Crop×Crop×3 float32 values (NHWC, in the order
// of paths), kept their indices into paths, skipped the others with their errors. Only the
// images of paths are in memory at once, so callers stream a folder in batches.
func PreprocessFiles(paths []string, p Preprocessor, minSide, workers int) (out []float32, kept []int, skipped []SkippedImage) {
	n := p.OutputSize()
	all := make([]float32, len(paths)*n)
	errs := make([]error, len(paths))
	parallelFor(len(paths), workers, func(i int) error {
		pix, h, w, err := ReadImageRGB(paths[i], minSide)
		if err == nil {
			err = p.ApplyHWC(all[i*n:(i+1)*n], pix, h, w)
			if err != nil {
				err = fmt.Errorf("data: image %s: %w", paths[i], err)
			}
		}
		errs[i] = err
		return nil
	})
	for i, err := range errs {
		if err != nil {
			skipped = append(skipped, SkippedImage{Path: paths[i], Err: err})
			continue
		}
		if len(kept) != i {
			copy(all[len(kept)*n:], all[i*n:(i+1)*n])
		}
		kept = append(kept, i)
	}
	return all[:len(kept)*n], kept, skipped
}
