package data

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CIFARSpec describes one of the CIFAR binary releases.
type CIFARSpec struct {
	Name    string // "CIFAR-100"
	Kind    Kind
	URL     string
	Archive string // file name of the tarball
	MD5     string // of the tarball
	Dir     string // top-level directory inside the tarball

	TrainFiles, TestFiles []string
	// LabelBytes is the number of label bytes before each image: 2 (coarse, fine) for CIFAR-100,
	// 1 for CIFAR-10.
	LabelBytes      int
	NamesFile       string // fine class names, one a line
	CoarseNamesFile string // coarse class names, "" when none
	NumClasses      int
	NumCoarse       int
	Stats           Stats
}

// The official binary releases.
var (
	CIFAR100 = CIFARSpec{
		Name: "CIFAR-100", Kind: KindCIFAR100,
		URL:     "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
		Archive: "cifar-100-binary.tar.gz", MD5: "03b5dce01913d631647c71ecec9e9cb8",
		Dir:        "cifar-100-binary",
		TrainFiles: []string{"train.bin"}, TestFiles: []string{"test.bin"},
		LabelBytes: 2, NamesFile: "fine_label_names.txt", CoarseNamesFile: "coarse_label_names.txt",
		NumClasses: 100, NumCoarse: 20, Stats: CIFAR100Stats,
	}
	CIFAR10 = CIFARSpec{
		Name: "CIFAR-10", Kind: KindCIFAR10,
		URL:     "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
		Archive: "cifar-10-binary.tar.gz", MD5: "c32a1d4ab5d03f1284b67883e8d87530",
		Dir: "cifar-10-batches-bin",
		TrainFiles: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
			"data_batch_4.bin", "data_batch_5.bin"},
		TestFiles:  []string{"test_batch.bin"},
		LabelBytes: 1, NamesFile: "batches.meta.txt",
		NumClasses: 10, Stats: CIFAR10Stats,
	}
)

// CIFAR images are 32×32 RGB, stored channel-planar (CHW) in the binary files.
const (
	cifarSide   = 32
	cifarPixels = cifarSide * cifarSide * 3
)

// RecordSize is the number of bytes of one record: the label bytes and 3072 pixel bytes.
func (s CIFARSpec) RecordSize() int { return s.LabelBytes + cifarPixels }

// ReadCIFARBinary reads one CIFAR binary file. It returns the images as HWC bytes, the (fine)
// labels and, for two-label records, the coarse labels (else nil). A size that is not a whole
// number of records, or a label out of range, is an error naming the file.
func ReadCIFARBinary(path string, spec CIFARSpec) (pixels []uint8, labels, coarse []int32, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("data: %s: %w", spec.Name, err)
	}
	rec := spec.RecordSize()
	if len(raw)%rec != 0 || len(raw) == 0 {
		return nil, nil, nil, fmt.Errorf("data: %s file %s is truncated or not a %s file: %d bytes is not a positive multiple of the %d-byte record",
			spec.Name, path, spec.Name, len(raw), rec)
	}
	n := len(raw) / rec
	pixels = make([]uint8, n*cifarPixels)
	labels = make([]int32, n)
	if spec.LabelBytes == 2 {
		coarse = make([]int32, n)
	}
	const plane = cifarSide * cifarSide
	for i := range n {
		r := raw[i*rec : (i+1)*rec]
		fine := int32(r[spec.LabelBytes-1])
		if int(fine) >= spec.NumClasses {
			return nil, nil, nil, fmt.Errorf("data: %s file %s: record %d has label %d, outside [0,%d)", spec.Name, path, i, fine, spec.NumClasses)
		}
		labels[i] = fine
		if coarse != nil {
			coarse[i] = int32(r[0])
			if int(coarse[i]) >= spec.NumCoarse {
				return nil, nil, nil, fmt.Errorf("data: %s file %s: record %d has coarse label %d, outside [0,%d)", spec.Name, path, i, coarse[i], spec.NumCoarse)
			}
		}
		chw := r[spec.LabelBytes:]
		hwc := pixels[i*cifarPixels : (i+1)*cifarPixels]
		for p := range plane {
			hwc[3*p] = chw[p]
			hwc[3*p+1] = chw[plane+p]
			hwc[3*p+2] = chw[2*plane+p]
		}
	}
	return pixels, labels, coarse, nil
}

// readNames reads a class-name file (one name a line, blank lines ignored) holding exactly want names.
func readNames(path string, want int) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != want {
		return nil, fmt.Errorf("data: class-name file %s has %d names, want %d", path, len(names), want)
	}
	return names, nil
}

// LoadCIFARDir reads an extracted CIFAR release (the directory holding spec's files). Every
// file is checked to exist before any is read, and any error discards everything read.
func LoadCIFARDir(dir string, spec CIFARSpec) (*Splits, error) {
	need := append(append([]string{spec.NamesFile}, spec.TrainFiles...), spec.TestFiles...)
	if spec.CoarseNamesFile != "" {
		need = append(need, spec.CoarseNamesFile)
	}
	for _, f := range need {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: %s: file %s is missing from %s (incomplete archive or extraction)", spec.Name, f, dir)
			}
			return nil, fmt.Errorf("data: %s: %w", spec.Name, err)
		}
	}
	names, err := readNames(filepath.Join(dir, spec.NamesFile), spec.NumClasses)
	if err != nil {
		return nil, err
	}
	var coarseNames []string
	if spec.CoarseNamesFile != "" {
		if coarseNames, err = readNames(filepath.Join(dir, spec.CoarseNamesFile), spec.NumCoarse); err != nil {
			return nil, err
		}
	}
	load := func(split string, files []string) (*Dataset, error) {
		d := &Dataset{
			Name: spec.Name, Kind: spec.Kind, Split: split, Source: dir,
			H: cifarSide, W: cifarSide, C: 3, NumClasses: spec.NumClasses, ClassNames: names,
			CoarseClassNames: coarseNames, Stats: spec.Stats,
		}
		for _, f := range files {
			pix, lab, coarse, err := ReadCIFARBinary(filepath.Join(dir, f), spec)
			if err != nil {
				return nil, err
			}
			d.Pixels = append(d.Pixels, pix...)
			d.Labels = append(d.Labels, lab...)
			if coarse != nil {
				d.CoarseLabels = append(d.CoarseLabels, coarse...)
			}
		}
		return d, d.Validate()
	}
	train, err := load("train", spec.TrainFiles)
	if err != nil {
		return nil, err
	}
	test, err := load("test", spec.TestFiles)
	if err != nil {
		return nil, err
	}
	return &Splits{Train: train, Test: test}, nil
}

// LoadCIFAR returns the CIFAR release spec from the cache directory, fetching it if needed: an
// already extracted release is read directly; else the tarball in cacheDir (downloaded first
// when missing and the network is allowed) has its MD5 checked, is extracted and read. Offline
// with nothing cached, the error wraps ErrOffline and ErrNotAvailable.
func LoadCIFAR(ctx context.Context, spec CIFARSpec, opts Options) (*Splits, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tarball := filepath.Join(opts.CacheDir, spec.Archive)
	dir := filepath.Join(opts.CacheDir, spec.Dir)
	if IsExtracted(tarball, opts.CacheDir) {
		return LoadCIFARDir(dir, spec)
	}
	if _, err := os.Stat(tarball); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: %s: %w", spec.Name, err)
		}
		if opts.Offline {
			return nil, fmt.Errorf("data: %s: %s is not cached and downloads are off (offline / BLOCKREC_OFFLINE=1): %w, %w",
				spec.Name, tarball, ErrOffline, ErrNotAvailable)
		}
		if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("data: %s: %w", spec.Name, err)
		}
		opts.logf("data: downloading %s from %s into %s", spec.Name, spec.URL, opts.CacheDir)
		dctx, cancel := context.WithTimeout(ctx, opts.DownloadTimeout)
		defer cancel()
		if err := Download(dctx, opts.HTTPClient, spec.URL, tarball, spec.MD5); err != nil {
			return nil, fmt.Errorf("%w (%w: %s is not cached)", err, ErrNotAvailable, tarball)
		}
	}
	if err := VerifyMD5(tarball, spec.MD5); err != nil {
		return nil, fmt.Errorf("data: %s: %w", spec.Name, err)
	}
	if err := ExtractTarGz(tarball, opts.CacheDir); err != nil {
		return nil, err
	}
	return LoadCIFARDir(dir, spec)
}
