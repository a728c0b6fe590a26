package dinov2

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/go-huggingface/hub"

	"github.com/blockrec/blockrec/lib/data"
)

// HubModels are the DINOv2 checkpoints published by Meta on the HF hub.
var HubModels = []string{
	"facebook/dinov2-small", "facebook/dinov2-base", "facebook/dinov2-large", "facebook/dinov2-giant",
	"facebook/dinov2-with-registers-small", "facebook/dinov2-with-registers-base",
	"facebook/dinov2-with-registers-large", "facebook/dinov2-with-registers-giant",
}

// HubOptions configure how a hub id is resolved.
type HubOptions struct {
	// CacheDir is searched first and receives downloads. Default: <repo>/data/hf.
	CacheDir string
	// Offline forbids downloads (also set by BLOCKREC_OFFLINE=1 or HF_HUB_OFFLINE=1).
	Offline bool
	// Revision of the hub repo (default "main").
	Revision string
}

// ErrNotCached is wrapped by Resolve's error when a hub id is in no cache and cannot be
// downloaded.
var ErrNotCached = errors.New("model not cached")

// Load resolves ref (a folder or a hub id) with Resolve and loads it.
func Load(ref string, opts HubOptions) (*Model, error) {
	dir, err := Resolve(ref, opts)
	if err != nil {
		return nil, err
	}
	m, err := LoadDir(dir)
	if err != nil {
		return nil, err
	}
	m.Source = ref
	return m, nil
}

// Resolve returns a folder holding config.json and model.safetensors for ref: ref itself when it
// is a folder; for a hub id ("owner/name"), the snapshot in the first HF cache that has both
// files (HubOptions.CacheDir, $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub,
// <repo>/data/hf), else a fresh download into the cache with go-huggingface (unless offline).
func Resolve(ref string, opts HubOptions) (string, error) {
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		return ref, nil
	}
	parts := strings.Split(ref, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || strings.HasPrefix(ref, ".") {
		return "", fmt.Errorf("dinov2: %q is neither a folder nor a hub id of the form owner/name", ref)
	}
	revision := opts.Revision
	if revision == "" {
		revision = "main"
	}
	caches := cacheDirs(opts)
	for _, cache := range caches {
		if dir, ok := findSnapshot(cache, ref, revision); ok {
			return dir, nil
		}
	}
	where := strings.Join(caches, ", ")
	if opts.Offline || data.OfflineEnv() || os.Getenv("HF_HUB_OFFLINE") == "1" {
		return "", fmt.Errorf("dinov2: %s is not in any HF cache (%s) and downloads are off: %w", ref, where, ErrNotCached)
	}
	dest := downloadCache(opts)
	repo := hub.New(ref).WithCacheDir(dest).WithRevision(revision)
	repo.Verbosity = 0
	if token := os.Getenv("HF_TOKEN"); token != "" {
		repo = repo.WithAuth(token)
	}
	paths, err := repo.DownloadFiles(configFileName, weightsFileName)
	if err != nil {
		return "", fmt.Errorf("dinov2: %s is not in any HF cache (%s) and downloading it into %s failed (no network?): %v: %w",
			ref, where, dest, err, ErrNotCached)
	}
	return filepath.Dir(paths[0]), nil
}

// cacheDirs lists the HF caches to search, most specific first, without duplicates.
func cacheDirs(opts HubOptions) []string {
	var dirs []string
	add := func(d string) {
		if d == "" {
			return
		}
		for _, e := range dirs {
			if e == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	add(opts.CacheDir)
	add(os.Getenv("HF_HUB_CACHE"))
	if h := os.Getenv("HF_HOME"); h != "" {
		add(filepath.Join(h, "hub"))
	}
	add(hub.DefaultCacheDir())
	if root, err := data.RepoRoot(); err == nil {
		add(filepath.Join(root, "data", "hf"))
	}
	return dirs
}

func downloadCache(opts HubOptions) string {
	if opts.CacheDir != "" {
		return opts.CacheDir
	}
	if root, err := data.RepoRoot(); err == nil {
		return filepath.Join(root, "data", "hf")
	}
	return hub.DefaultCacheDir()
}

// findSnapshot looks for models--owner--name/snapshots/<commit>/ holding both files in an HF
// cache. The commit comes from refs/<revision> (written by Python's huggingface_hub) or from
// info/<revision> (written by go-huggingface); a revision that is itself a commit is used as is.
func findSnapshot(cache, id, revision string) (string, bool) {
	repoDir := filepath.Join(cache, "models--"+strings.ReplaceAll(id, "/", "--"))
	var commits []string
	if b, err := os.ReadFile(filepath.Join(repoDir, "refs", revision)); err == nil {
		commits = append(commits, strings.TrimSpace(string(b)))
	}
	if b, err := os.ReadFile(filepath.Join(repoDir, "info", revision)); err == nil {
		var info struct {
			SHA string `json:"sha"`
		}
		if json.Unmarshal(b, &info) == nil && info.SHA != "" {
			commits = append(commits, info.SHA)
		}
	}
	commits = append(commits, revision)
	for _, c := range commits {
		dir := filepath.Join(repoDir, "snapshots", c)
		if isFile(filepath.Join(dir, configFileName)) && isFile(filepath.Join(dir, weightsFileName)) {
			return dir, true
		}
	}
	return "", false
}

func isFile(path string) bool {
	st, err := os.Stat(path) // follows the cache's symlinks into blobs/
	return err == nil && !st.IsDir()
}
