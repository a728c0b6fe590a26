package data

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// DataDirEnv overrides the folder data sets are downloaded and extracted into (<repo>/data).
const DataDirEnv = "BLOCKREC_DATA_DIR"

// Options configure Open, LoadCIFAR and StandIn. The zero value is usable.
type Options struct {
	// CacheDir holds downloads and extractions. Default: $BLOCKREC_DATA_DIR, else <repo>/data,
	// where <repo> is found by RepoRoot.
	CacheDir string
	// SharedDir holds cifar10-jpg.tar.gz and SHA256SUMS. Default: $BLOCKREC_SHARED_DATA, else
	// <repo>/../shared/data.
	SharedDir string
	// FashionMNISTDir holds Fashion-MNIST's four IDX files. Default: FashionMNISTDir()
	// ($BLOCKREC_FASHION_MNIST, else /usr/share/datasets/fashion-mnist).
	FashionMNISTDir string
	// Offline keeps off the network. BLOCKREC_OFFLINE=1 sets it too.
	Offline bool
	// DownloadTimeout bounds one download (default 30 minutes; connecting fails within ~10 s).
	DownloadTimeout time.Duration
	// HTTPClient is used for downloads (default DefaultHTTPClient()).
	HTTPClient *http.Client
	// Workers is the number of image-decoding goroutines (0: GOMAXPROCS).
	Workers int
	// Only, when not KindUnknown, restricts Open to that one source (KindCIFAR100, KindCIFAR10,
	// KindCIFAR10JPEG, KindFashionMNIST or KindSynthetic) and returns its error instead of falling back.
	Only Kind
	// NoSynthetic makes Open fail rather than fall back to synthetic data.
	NoSynthetic bool
	// Synthetic data set sizes used by Open's last fallback (defaults 10000, 2000, 10 classes,
	// 32 px, seed 1).
	SyntheticTrain, SyntheticTest, SyntheticClasses, SyntheticSize int
	SyntheticSeed                                                  uint64
	// Logf, when set, receives progress and fallback messages.
	Logf func(format string, args ...any)
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

func (o Options) withDefaults() (Options, error) {
	if OfflineEnv() {
		o.Offline = true
	}
	if o.CacheDir == "" {
		o.CacheDir = os.Getenv(DataDirEnv)
	}
	if o.CacheDir == "" || o.SharedDir == "" {
		root, err := RepoRoot()
		if o.CacheDir == "" {
			if err != nil {
				return o, err
			}
			o.CacheDir = filepath.Join(root, "data")
		}
		if o.SharedDir == "" {
			if env := os.Getenv("BLOCKREC_SHARED_DATA"); env != "" {
				o.SharedDir = env
			} else if err == nil {
				o.SharedDir = filepath.Join(root, "..", "shared", "data")
			}
		}
	}
	if o.FashionMNISTDir == "" {
		o.FashionMNISTDir = FashionMNISTDir()
	}
	if o.DownloadTimeout <= 0 {
		o.DownloadTimeout = 30 * time.Minute
	}
	if o.SyntheticTrain <= 0 {
		o.SyntheticTrain = 10000
	}
	if o.SyntheticTest <= 0 {
		o.SyntheticTest = 2000
	}
	if o.SyntheticClasses <= 0 {
		o.SyntheticClasses = 10
	}
	if o.SyntheticSize <= 0 {
		o.SyntheticSize = 32
	}
	if o.SyntheticSeed == 0 {
		o.SyntheticSeed = 1
	}
	return o, nil
}

// rootEnv is the environment variable that may name the repository root (as in lib/notebook).
const rootEnv = "BLOCKREC_ROOT"

// RepoRoot is $BLOCKREC_ROOT when set (it must hold go.mod), else the first directory holding
// go.mod at or above the working directory.
func RepoRoot() (string, error) {
	if env := os.Getenv(rootEnv); env != "" {
		if _, err := os.Stat(filepath.Join(env, "go.mod")); err != nil {
			return "", fmt.Errorf("data: %s=%q is not the blockrec repository (no go.mod there)", rootEnv, env)
		}
		return filepath.Abs(env)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("data: finding the repository root: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("data: %s is not inside the blockrec repository (no go.mod there or above): run from the checkout, or set %s to the checkout or %s to the data folder", wd, rootEnv, DataDirEnv)
		}
	}
}
