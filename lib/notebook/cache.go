package notebook

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// CacheEnv is the environment variable that may move the cache (default <repo>/data/cache).
const CacheEnv = "BLOCKREC_CACHE_DIR"

var cacheName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$`)

// CacheDir returns (and creates) the directory <cache>/<scale>/<name>, where <cache> is
// $BLOCKREC_CACHE_DIR or <repo>/data/cache (git-ignored) and <scale> the current level, so that
// results cached at one scale are never read at another. name is made of lower-case letters,
// digits, '_', '-' and '.', and may have '/'-separated parts (e.g. "vit/cifar100").
//
// Nothing is ever removed from the cache by blockrec: delete the folder to recompute.
func CacheDir(name string) (string, error) {
	if !cacheName.MatchString(name) {
		return "", fmt.Errorf("blockrec: cache name %q: use lower-case letters, digits, '_', '-', '.', and '/' between parts", name)
	}
	level, err := LookupScale()
	if err != nil {
		return "", err
	}
	base, err := CacheBase()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, string(level), filepath.FromSlash(name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("blockrec: creating cache directory: %w", err)
	}
	return dir, nil
}

// Must returns v, or panics with err: for notebook cells, where a panic fails the cell with its
// message, e.g. dir := notebook.Must(notebook.CacheDir("vit")).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// CacheBase is the folder every scale's cache lives under: $BLOCKREC_CACHE_DIR when set, else
// <repo>/data/cache. It is not created.
func CacheBase() (string, error) {
	if base := os.Getenv(CacheEnv); base != "" {
		return base, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "data", "cache"), nil
}
