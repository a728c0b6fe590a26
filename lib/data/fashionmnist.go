package data

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) as Debian and Ubuntu ship it in the package
// dataset-fashion-mnist: four gzipped IDX files in /usr/share/datasets/fashion-mnist.
const (
	FashionMNISTName       = "Fashion-MNIST"
	FashionMNISTPackage    = "dataset-fashion-mnist"
	FashionMNISTDefaultDir = "/usr/share/datasets/fashion-mnist"
	// FashionMNISTDirEnv overrides the folder the IDX files are read from.
	FashionMNISTDirEnv = "BLOCKREC_FASHION_MNIST"
)

// FashionMNISTClasses are the ten class names in label order.
var FashionMNISTClasses = []string{"t-shirt/top", "trouser", "pullover", "dress", "coat",
	"sandal", "shirt", "sneaker", "bag", "ankle boot"}

// idxFile is one of the four files of an MNIST-style release.
type idxFile struct {
	Name string
	// SHA256 of the decompressed content (the gzip wrapper differs between repackagings; the
	// IDX bytes do not). Empty: not checked.
	SHA256 string
}

// FashionMNISTSpec names the files of a Fashion-MNIST folder.
type FashionMNISTSpec struct {
	TrainImages, TrainLabels, TestImages, TestLabels idxFile
}

// FashionMNIST is the release in dataset-fashion-mnist 0.0~git20200523 (60,000 train, 10,000
// test images). The checksums are of the decompressed IDX files of that package.
var FashionMNIST = FashionMNISTSpec{
	TrainImages: idxFile{"train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
	TrainLabels: idxFile{"train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
	TestImages:  idxFile{"t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
	TestLabels:  idxFile{"t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
}

// fashionPad is the zero border that turns the 28×28 images into the 32×32 the CIFAR models take.
const fashionPad = (cifarSide - 28) / 2

// FashionMNISTDir is the folder Fashion-MNIST is read from: $BLOCKREC_FASHION_MNIST, else the
// Debian package's /usr/share/datasets/fashion-mnist.
func FashionMNISTDir() string {
	if d := os.Getenv(FashionMNISTDirEnv); d != "" {
		return d
	}
	return FashionMNISTDefaultDir
}

// LoadFashionMNIST reads Fashion-MNIST from dir (see FashionMNISTDir) with spec's checksums.
// Each 28×28 grey image becomes a 32×32 RGB image: a 2-pixel black border (Fashion-MNIST's
// background is black) and the grey value in all three channels, so that the CIFAR models,
// augmentation and plans apply unchanged. The normalisation statistics are measured on the
// training split. A folder without the files is an error wrapping ErrNotAvailable; a file that
// is present but truncated, malformed or with the wrong checksum is an error naming it.
func LoadFashionMNIST(dir string, spec FashionMNISTSpec) (*Splits, error) {
	if _, err := os.Stat(filepath.Join(dir, spec.TrainImages.Name)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("data: %s not found in %s (install the Debian/Ubuntu package %s, or set %s): %w",
			FashionMNISTName, dir, FashionMNISTPackage, FashionMNISTDirEnv, ErrNotAvailable)
	}
	read := func(split string, images, labels idxFile) (*Dataset, error) {
		pix, n, err := readIDXImages(filepath.Join(dir, images.Name), images.SHA256)
		if err != nil {
			return nil, err
		}
		lab, err := readIDXLabels(filepath.Join(dir, labels.Name), labels.SHA256, len(FashionMNISTClasses))
		if err != nil {
			return nil, err
		}
		if len(lab) != n {
			return nil, fmt.Errorf("data: %s %s split: %s holds %d images, %s %d labels",
				FashionMNISTName, split, images.Name, n, labels.Name, len(lab))
		}
		d := &Dataset{Name: FashionMNISTName, Kind: KindFashionMNIST, Split: split,
			Source: filepath.Join(dir, images.Name), H: cifarSide, W: cifarSide, C: 3,
			Pixels: padGreyToRGB(pix, n, 28, fashionPad), Labels: lab,
			NumClasses: len(FashionMNISTClasses), ClassNames: append([]string(nil), FashionMNISTClasses...)}
		return d, nil
	}
	train, err := read("train", spec.TrainImages, spec.TrainLabels)
	if err != nil {
		return nil, err
	}
	test, err := read("test", spec.TestImages, spec.TestLabels)
	if err != nil {
		return nil, err
	}
	train.Stats = ComputeStats(train)
	test.Stats = train.Stats
	for _, d := range []*Dataset{train, test} {
		if err := d.Validate(); err != nil {
			return nil, err
		}
	}
	return &Splits{Train: train, Test: test}, nil
}

// readIDX decompresses an IDX file, checks its SHA-256 (when want is set) and its magic number
// (0x0000 08 dims: unsigned bytes) and returns the dimensions and the payload.
func readIDX(path, want string, dims int) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", FashionMNISTName, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %s is not a gzip file: %w", FashionMNISTName, path, err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %s is truncated or corrupt: %w", FashionMNISTName, path, err)
	}
	if want != "" {
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, nil, &ChecksumError{Path: path, Algo: "SHA-256 (decompressed)", Want: want, Got: got}
		}
	}
	head := 4 + 4*dims
	if len(raw) < head || raw[0] != 0 || raw[1] != 0 || raw[2] != 0x08 || int(raw[3]) != dims {
		return nil, nil, fmt.Errorf("data: %s: %s is not an IDX file of unsigned bytes with %d dimensions", FashionMNISTName, path, dims)
	}
	shape := make([]int, dims)
	size := 1
	for i := range shape {
		shape[i] = int(binary.BigEndian.Uint32(raw[4+4*i:]))
		size *= shape[i]
	}
	if len(raw)-head != size {
		return nil, nil, fmt.Errorf("data: %s: %s declares %v = %d bytes, holds %d", FashionMNISTName, path, shape, size, len(raw)-head)
	}
	return shape, raw[head:], nil
}

func readIDXImages(path, want string) ([]byte, int, error) {
	shape, pix, err := readIDX(path, want, 3)
	if err != nil {
		return nil, 0, err
	}
	if shape[1] != 28 || shape[2] != 28 {
		return nil, 0, fmt.Errorf("data: %s: %s holds %d×%d images, want 28×28", FashionMNISTName, path, shape[1], shape[2])
	}
	return pix, shape[0], nil
}

func readIDXLabels(path, want string, classes int) ([]int32, error) {
	_, raw, err := readIDX(path, want, 1)
	if err != nil {
		return nil, err
	}
	labels := make([]int32, len(raw))
	for i, l := range raw {
		if int(l) >= classes {
			return nil, fmt.Errorf("data: %s: %s: label %d of image %d outside [0,%d)", FashionMNISTName, path, l, i, classes)
		}
		labels[i] = int32(l)
	}
	return labels, nil
}

// padGreyToRGB turns n side×side grey images into (side+2·pad)² RGB images (HWC) with a black
// border and the grey value in every channel.
func padGreyToRGB(grey []byte, n, side, pad int) []byte {
	out := side + 2*pad
	rgb := make([]byte, n*out*out*3)
	for i := range n {
		src := grey[i*side*side : (i+1)*side*side]
		dst := rgb[i*out*out*3 : (i+1)*out*out*3]
		for y := range side {
			for x := range side {
				v := src[y*side+x]
				o := ((y+pad)*out + x + pad) * 3
				dst[o], dst[o+1], dst[o+2] = v, v, v
			}
		}
	}
	return rgb
}
