package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Kind says which source a Dataset came from.
type Kind int

const (
	KindUnknown      Kind = iota
	KindCIFAR100          // official CIFAR-100 binary release
	KindCIFAR10           // official CIFAR-10 binary release
	KindCIFAR10JPEG       // CIFAR-10 JPEG re-encoding (stand-in for CIFAR-100)
	KindImageFolder       // any other class-folder image set
	KindSynthetic         // generated coloured-blob task
	KindFashionMNIST      // Fashion-MNIST from the Debian/Ubuntu package, padded to 32×32 RGB
)

func (k Kind) String() string {
	switch k {
	case KindCIFAR100:
		return "CIFAR-100"
	case KindCIFAR10:
		return "CIFAR-10"
	case KindCIFAR10JPEG:
		return "CIFAR-10 (stand-in, JPEG)"
	case KindImageFolder:
		return "image folder"
	case KindSynthetic:
		return "synthetic"
	case KindFashionMNIST:
		return "Fashion-MNIST"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Dataset is a labelled set of equally sized images held in memory.
//
// Pixels holds N images as uint8, each H×W×C row-major (HWC), one after the other. Labels[i] is
// the class of image i in [0, NumClasses). CoarseLabels is nil unless the source has a coarse
// labelling (CIFAR-100's 20 superclasses).
type Dataset struct {
	Name   string // plain name for captions: "CIFAR-100", "CIFAR-10 (stand-in, JPEG)", "Fashion-MNIST", "synthetic"
	Kind   Kind
	Split  string // "train", "test" or "" when not applicable
	Source string // where the pixels came from: a file, a folder or a generator description

	H, W, C int
	Pixels  []uint8
	Labels  []int32

	NumClasses int
	ClassNames []string

	CoarseLabels     []int32  // optional
	CoarseClassNames []string // optional, names of the coarse classes

	// Stats are the per-channel normalisation statistics to use with this data set.
	Stats Stats
}

// Len is the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// ImageSize is H·W·C, the number of bytes of one image.
func (d *Dataset) ImageSize() int { return d.H * d.W * d.C }

// Image returns image i as an H×W×C slice aliasing d.Pixels.
func (d *Dataset) Image(i int) []uint8 {
	n := d.ImageSize()
	return d.Pixels[i*n : (i+1)*n : (i+1)*n]
}

// Validate checks that the fields agree with each other.
func (d *Dataset) Validate() error {
	if d.H <= 0 || d.W <= 0 || d.C <= 0 {
		return fmt.Errorf("data: dataset %q: bad image shape %dx%dx%d", d.Name, d.H, d.W, d.C)
	}
	if len(d.Pixels) != d.Len()*d.ImageSize() {
		return fmt.Errorf("data: dataset %q: %d pixel bytes for %d images of %dx%dx%d",
			d.Name, len(d.Pixels), d.Len(), d.H, d.W, d.C)
	}
	if d.NumClasses <= 0 {
		return fmt.Errorf("data: dataset %q: NumClasses=%d", d.Name, d.NumClasses)
	}
	if d.ClassNames != nil && len(d.ClassNames) != d.NumClasses {
		return fmt.Errorf("data: dataset %q: %d class names for %d classes", d.Name, len(d.ClassNames), d.NumClasses)
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= d.NumClasses {
			return fmt.Errorf("data: dataset %q: label %d of image %d outside [0,%d)", d.Name, l, i, d.NumClasses)
		}
	}
	if d.CoarseLabels != nil && len(d.CoarseLabels) != d.Len() {
		return fmt.Errorf("data: dataset %q: %d coarse labels for %d images", d.Name, len(d.CoarseLabels), d.Len())
	}
	if d.Stats.Mean != nil && (len(d.Stats.Mean) != d.C || len(d.Stats.Std) != d.C) {
		return fmt.Errorf("data: dataset %q: stats for %d/%d channels, images have %d",
			d.Name, len(d.Stats.Mean), len(d.Stats.Std), d.C)
	}
	return nil
}

// Select returns a new Dataset holding copies of the images idx, in that order.
func (d *Dataset) Select(idx []int) *Dataset {
	out := *d
	n := d.ImageSize()
	out.Pixels = make([]uint8, len(idx)*n)
	out.Labels = make([]int32, len(idx))
	if d.CoarseLabels != nil {
		out.CoarseLabels = make([]int32, len(idx))
	}
	for j, i := range idx {
		copy(out.Pixels[j*n:(j+1)*n], d.Image(i))
		out.Labels[j] = d.Labels[i]
		if d.CoarseLabels != nil {
			out.CoarseLabels[j] = d.CoarseLabels[i]
		}
	}
	return &out
}

// Subset returns n images drawn without replacement by a seeded shuffle, kept in their original
// order. n larger than Len returns a copy of everything.
func (d *Dataset) Subset(n int, seed uint64) *Dataset {
	if n >= d.Len() {
		n = d.Len()
	}
	perm := rand.New(rand.NewPCG(seed, 0x5b5e7)).Perm(d.Len())[:n]
	slices.Sort(perm)
	return d.Select(perm)
}

// SplitRandom divides the images into two disjoint parts by a seeded shuffle: the first holds
// round(frac·Len) images, the second the rest. Each part keeps the original order.
func (d *Dataset) SplitRandom(frac float64, seed uint64) (a, b *Dataset) {
	na := int(frac*float64(d.Len()) + 0.5)
	na = max(0, min(na, d.Len()))
	perm := rand.New(rand.NewPCG(seed, 0x5b117)).Perm(d.Len())
	ia, ib := perm[:na], perm[na:]
	slices.Sort(ia)
	slices.Sort(ib)
	return d.Select(ia), d.Select(ib)
}

// ClassCounts returns the number of images of each class.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, d.NumClasses)
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

// Provenance is a one-line statement of what the data is, for figure captions and logs.
func (d *Dataset) Provenance() string {
	return provenance(d.Kind, d.Name, d.Source)
}

func provenance(k Kind, name, source string) string {
	switch k {
	case KindCIFAR100:
		return "CIFAR-100 (Krizhevsky 2009), official binary release"
	case KindCIFAR10:
		return "CIFAR-10 (Krizhevsky 2009), official binary release"
	case KindCIFAR10JPEG:
		return "CIFAR-10 (Krizhevsky 2009), lossy JPEG re-encoding, standing in for CIFAR-100: these are CIFAR-10 results"
	case KindSynthetic:
		return "synthetic coloured-blob images (no real data set was available): not CIFAR results"
	case KindFashionMNIST:
		return "Fashion-MNIST (Xiao et al. 2017, Debian package " + FashionMNISTPackage + "), 28×28 grey padded to 32×32 RGB, standing in for CIFAR-100: these are Fashion-MNIST results"
	}
	if source != "" {
		return fmt.Sprintf("%s (from %s)", name, source)
	}
	return name
}

// Splits is a train/test pair of one data set.
type Splits struct {
	Train, Test *Dataset
}

// Name is the data set's plain name (the train split's).
func (s *Splits) Name() string { return s.Train.Name }

// Kind is the data set's source kind.
func (s *Splits) Kind() Kind { return s.Train.Kind }

// Provenance is a one-line statement of what the data is, for figure captions.
func (s *Splits) Provenance() string { return s.Train.Provenance() }

// NumClasses is the number of classes.
func (s *Splits) NumClasses() int { return s.Train.NumClasses }
