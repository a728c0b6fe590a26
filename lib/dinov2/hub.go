package dinov2

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
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
	// Endpoint of the hub (default $HF_ENDPOINT, else https://huggingface.co).
	Endpoint string
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
	var removed []string // corrupt cached files found (and removed) on the way
	for _, cache := range caches {
		dir, ok, bad := findSnapshot(cache, ref, revision)
		removed = append(removed, bad...)
		if ok {
			return dir, nil
		}
	}
	where := strings.Join(caches, ", ")
	if len(removed) > 0 {
		where += "; removed corrupt cached files: " + strings.Join(removed, "; ")
	}
	if opts.Offline || data.OfflineEnv() || os.Getenv("HF_HUB_OFFLINE") == "1" {
		return "", fmt.Errorf("dinov2: %s is not in any HF cache (%s) and downloads are off: %w", ref, where, ErrNotCached)
	}
	dest := downloadCache(opts)
	repo := hub.New(ref).WithCacheDir(dest).WithRevision(revision)
	if opts.Endpoint != "" {
		repo = repo.WithEndpoint(strings.TrimSuffix(opts.Endpoint, "/"))
	}
	repo.Verbosity = 0
	if token := os.Getenv("HF_TOKEN"); token != "" {
		repo = repo.WithAuth(token)
	}
	names := []string{configFileName, weightsFileName}
	paths, err := repo.DownloadFiles(names...)
	if err != nil {
		return "", fmt.Errorf("dinov2: %s is not in any HF cache (%s) and downloading it into %s failed (no network?): %v: %w",
			ref, where, dest, err, ErrNotCached)
	}
	// go-huggingface neither checks the length nor the checksum of what it downloads (v0.3.1
	// even renames a truncated body into blobs/ as if complete): check both here, against the
	// ETag the hub declared, which names the blob. A bad file is removed, so no later run uses it.
	var bad []string
	for i, p := range paths {
		if err := verifyCached(p); err != nil {
			url, _ := repo.FileURL(names[i])
			bad = append(bad, fmt.Sprintf("%s (%s): %v", names[i], url, err))
		}
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("dinov2: downloading %s into %s: %s; the bad files were removed, run again to retry",
			ref, dest, strings.Join(bad, "; "))
	}
	return filepath.Dir(paths[0]), nil
}

// verifiedSuffix marks a blob whose content was checked against its name (the hub's ETag).
const verifiedSuffix = ".verified"

// verifyCached checks a snapshot file that links into blobs/<etag> against that ETag: the
// SHA-256 of the content for LFS files (the weights), the git blob SHA-1 for small files
// (config.json). A file that is not such a link (a plain folder, a generated checkpoint) has
// nothing to check against and passes. A mismatch removes the link and the blob and is an
// error saying what was expected and what arrived; a match leaves <blob>.verified, so that
// the hash is computed once per blob.
func verifyCached(path string) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if target == path || filepath.Base(filepath.Dir(target)) != "blobs" {
		return nil
	}
	etag := filepath.Base(target)
	if isFile(target + verifiedSuffix) {
		return nil
	}
	var h hash.Hash
	switch {
	case len(etag) == 64 && isHex(etag):
		h = sha256.New()
	case len(etag) == 40 && isHex(etag):
		st, err := os.Stat(target)
		if err != nil {
			return err
		}
		h = sha1.New()
		fmt.Fprintf(h, "blob %d\x00", st.Size())
	default:
		return fmt.Errorf("%s: the hub declared no checksum (ETag %q), so the download cannot be verified", target, etag)
	}
	f, err := os.Open(target)
	if err != nil {
		return err
	}
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("reading %s: %v", target, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != etag {
		_ = os.Remove(path)
		_ = os.Remove(target)
		return fmt.Errorf("%d bytes received whose checksum is %s, but the hub declares %s (a truncated or corrupted download)", n, got, etag)
	}
	_ = os.WriteFile(target+verifiedSuffix, nil, 0o644) // best effort: a read-only cache is checked each time
	return nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
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
// Files linked into blobs/ are checked against their ETag once (verifyCached); a corrupt one is
// removed and reported in bad, and that snapshot does not count.
func findSnapshot(cache, id, revision string) (dir string, ok bool, bad []string) {
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
		if !isFile(filepath.Join(dir, configFileName)) || !isFile(filepath.Join(dir, weightsFileName)) {
			continue
		}
		good := true
		for _, name := range []string{configFileName, weightsFileName} {
			if err := verifyCached(filepath.Join(dir, name)); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", filepath.Join(dir, name), err))
				good = false
			}
		}
		if good {
			return dir, true, bad
		}
	}
	return "", false, bad
}

func isFile(path string) bool {
	st, err := os.Stat(path) // follows the cache's symlinks into blobs/
	return err == nil && !st.IsDir()
}
