package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// The CIFAR-10 JPEG stand-in in the shared data folder.
const (
	StandInArchive = "cifar10-jpg.tar.gz"
	StandInDir     = "cifar10-jpg" // top-level directory inside the archive: {train,test}/<class>/NNNN.jpg
	StandInName    = "CIFAR-10 (stand-in, JPEG)"
	SHA256SumsFile = "SHA256SUMS"
)

// Open returns the best data set available, trying in turn:
//
//  1. CIFAR-100 (cached in CacheDir, else downloaded unless offline),
//  2. the CIFAR-10 JPEG stand-in from SharedDir (SHA-256 checked, extracted once into CacheDir),
//  3. Fashion-MNIST from FashionMNISTDir (the Debian/Ubuntu package dataset-fashion-mnist),
//  4. a synthetic data set (unless NoSynthetic).
//
// A source that is merely unavailable is skipped (and logged through Options.Logf); a source that
// is present but broken (a wrong checksum, a truncated file) stops Open with its error. The
// result's Name and Provenance say which source it is. Options.Only selects one source.
func Open(ctx context.Context, opts Options) (*Splits, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	type source struct {
		kind Kind
		load func() (*Splits, error)
	}
	sources := []source{
		{KindCIFAR100, func() (*Splits, error) { return LoadCIFAR(ctx, CIFAR100, opts) }},
		{KindCIFAR10JPEG, func() (*Splits, error) { return StandIn(ctx, opts) }},
		{KindFashionMNIST, func() (*Splits, error) { return LoadFashionMNIST(opts.FashionMNISTDir, fashionMNISTSpec) }},
		{KindSynthetic, func() (*Splits, error) { return syntheticSplits(opts), nil }},
	}
	if opts.Only != KindUnknown {
		if opts.Only == KindCIFAR10 {
			return LoadCIFAR(ctx, CIFAR10, opts)
		}
		for _, s := range sources {
			if s.kind == opts.Only {
				return s.load()
			}
		}
		return nil, fmt.Errorf("data: Open cannot load only %v", opts.Only)
	}
	if opts.NoSynthetic {
		sources = sources[:len(sources)-1]
	}
	var skipped []error
	for _, s := range sources {
		sp, err := s.load()
		if err == nil {
			opts.logf("data: using %s", sp.Provenance())
			return sp, nil
		}
		if !errors.Is(err, ErrNotAvailable) {
			return nil, err
		}
		opts.logf("data: %v not available: %v", s.kind, err)
		skipped = append(skipped, err)
	}
	return nil, fmt.Errorf("data: no data set available: %w", errors.Join(skipped...))
}

// fashionMNISTSpec is the release Open expects (tests swap in the checksums of their files).
var fashionMNISTSpec = FashionMNIST

// StandIn returns the CIFAR-10 JPEG stand-in (train 50,000, test 10,000 images of 32×32) from
// SharedDir/cifar10-jpg.tar.gz: the tarball's SHA-256 is checked against SharedDir/SHA256SUMS,
// it is extracted once into CacheDir, and both splits are decoded. A missing tarball is an
// error wrapping ErrNotAvailable.
func StandIn(ctx context.Context, opts Options) (*Splits, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tarball := filepath.Join(opts.SharedDir, StandInArchive)
	if !IsExtracted(tarball, opts.CacheDir) {
		if _, err := os.Stat(tarball); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: stand-in %s not found (set BLOCKREC_SHARED_DATA): %w", tarball, ErrNotAvailable)
			}
			return nil, fmt.Errorf("data: stand-in: %w", err)
		}
		if err := VerifySHA256Sums(filepath.Join(opts.SharedDir, SHA256SumsFile), tarball); err != nil {
			return nil, err
		}
		opts.logf("data: extracting %s into %s", tarball, opts.CacheDir)
		if err := ExtractTarGz(tarball, opts.CacheDir); err != nil {
			return nil, err
		}
	}
	return ReadStandInDir(ctx, filepath.Join(opts.CacheDir, StandInDir), opts.Workers)
}

// ReadStandInDir reads an extracted stand-in folder (root/{train,test}/<class>/*.jpg).
func ReadStandInDir(ctx context.Context, root string, workers int) (*Splits, error) {
	read := func(split string) (*Dataset, error) {
		return ReadImageFolder(ctx, filepath.Join(root, split), FolderOptions{
			Size: cifarSide, Workers: workers, Name: StandInName, Kind: KindCIFAR10JPEG,
			Split: split, Stats: CIFAR10Stats,
		})
	}
	train, err := read("train")
	if err != nil {
		return nil, err
	}
	test, err := read("test")
	if err != nil {
		return nil, err
	}
	if !slices.Equal(train.ClassNames, test.ClassNames) {
		return nil, fmt.Errorf("data: stand-in %s: train classes %v differ from test classes %v", root, train.ClassNames, test.ClassNames)
	}
	return &Splits{Train: train, Test: test}, nil
}

func syntheticSplits(o Options) *Splits {
	train := Synthetic(o.SyntheticTrain, o.SyntheticSize, o.SyntheticClasses, o.SyntheticSeed)
	test := Synthetic(o.SyntheticTest, o.SyntheticSize, o.SyntheticClasses, o.SyntheticSeed+0x7e57)
	train.Split, test.Split = "train", "test"
	test.Stats = train.Stats
	return &Splits{Train: train, Test: test}
}
