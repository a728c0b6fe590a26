package dinov2

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeHub serves the tiny checkpoint of testdata/tiny-reg in the HF hub's layout, as
// go-huggingface asks for it: the revision's metadata at /api/models/<id>/revision/<rev>, then
// HEAD and GET of /<id>/resolve/<commit>/<file>, whose headers carry the checksum (X-Linked-Etag
// = SHA-256 for LFS files such as the weights, ETag = git blob SHA-1 for small files).
type fakeHub struct {
	id, commit string
	files      map[string][]byte

	mu   sync.Mutex
	mode string   // "good", "truncate" (weights cut short, Content-Length of the whole) or "badsum"
	gets []string // files served by GET
}

func newFakeHub(t *testing.T, id string) (*fakeHub, *httptest.Server) {
	t.Helper()
	h := &fakeHub{id: id, commit: "0123456789abcdef0123456789abcdef01234567", files: map[string][]byte{}, mode: "good"}
	for _, name := range []string{configFileName, weightsFileName} {
		b, err := os.ReadFile(filepath.Join("testdata", "tiny-reg", name))
		if err != nil {
			t.Fatal(err)
		}
		h.files[name] = b
	}
	// httptest listens on 127.0.0.1 only; say so explicitly rather than rely on it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *fakeHub) setMode(m string) { h.mu.Lock(); h.mode = m; h.mu.Unlock() }

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	mode := h.mode
	h.mu.Unlock()
	if r.URL.Path == "/api/models/"+h.id+"/revision/main" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": h.id, "sha": h.commit,
			"siblings": []map[string]string{{"rfilename": configFileName}, {"rfilename": weightsFileName}}})
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/"+h.id+"/resolve/"+h.commit+"/")
	body, known := h.files[name]
	if !ok || !known {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", h.commit)
	if name == weightsFileName {
		sum := sha256.Sum256(body)
		if mode == "badsum" {
			sum = sha256.Sum256(append([]byte("not the weights"), body...))
		}
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(body)))
		w.Header().Set("ETag", `"lfs-pointer-etag"`)
	} else {
		s := sha1.New()
		fmt.Fprintf(s, "blob %d\x00", len(body))
		s.Write(body)
		w.Header().Set("ETag", `"`+hex.EncodeToString(s.Sum(nil))+`"`)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	h.mu.Lock()
	h.gets = append(h.gets, name)
	h.mu.Unlock()
	if mode == "truncate" && name == weightsFileName {
		_, _ = w.Write(body[:len(body)/2]) // the server then closes the connection: short of Content-Length
		return
	}
	_, _ = w.Write(body)
}

// hubTestEnv isolates Resolve from every HF cache and offline switch of the machine.
func hubTestEnv(t *testing.T) string {
	home := t.TempDir()
	for k, v := range map[string]string{"HF_HUB_CACHE": filepath.Join(home, "hub"), "HF_HOME": home,
		"XDG_CACHE_HOME": home, "BLOCKREC_OFFLINE": "", "HF_HUB_OFFLINE": "", "HF_ENDPOINT": "", "HF_TOKEN": ""} {
		t.Setenv(k, v)
	}
	return filepath.Join(home, "cache")
}

// leftovers lists the files under the repo's cache folder that a later run could mistake for a
// download: anything in blobs/ or snapshots/ but lock files.
func leftovers(t *testing.T, cache, id string) []string {
	t.Helper()
	var out []string
	repoDir := filepath.Join(cache, "models--"+strings.ReplaceAll(id, "/", "--"))
	for _, sub := range []string{"blobs", "snapshots"} {
		_ = filepath.Walk(filepath.Join(repoDir, sub), func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && !strings.HasSuffix(p, ".lock") {
				out = append(out, strings.TrimPrefix(p, repoDir+"/"))
			}
			return nil
		})
	}
	return out
}

func TestHubDownloadGood(t *testing.T) {
	cache := hubTestEnv(t)
	const id = "blockrec-test/tiny-reg"
	h, srv := newFakeHub(t, id)
	opts := HubOptions{CacheDir: cache, Endpoint: srv.URL}
	m, err := Load(id, opts)
	if err != nil {
		t.Fatalf("download from %s: %v", srv.URL, err)
	}
	if m.Source != id || m.Config().Registers == 0 {
		t.Errorf("loaded %q with config %+v; want the tiny registers checkpoint", m.Source, m.Config())
	}
	want := filepath.Join(cache, "models--blockrec-test--tiny-reg", "snapshots", h.commit)
	dir, err := Resolve(id, opts)
	if err != nil || dir != want {
		t.Fatalf("Resolve = %q, %v; want %q", dir, err, want)
	}
	for name, body := range h.files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != string(body) {
			t.Errorf("%s in the cache: %d bytes, %v; want the %d bytes served", name, len(got), err, len(body))
		}
	}
	if len(h.gets) != 2 {
		t.Errorf("files fetched: %v; want config.json and model.safetensors once each", h.gets)
	}
	// A later run needs no network: the server is gone, downloads are off.
	srv.Close()
	if dir2, err := Resolve(id, HubOptions{CacheDir: cache, Offline: true}); err != nil || dir2 != want {
		t.Errorf("offline Resolve after the download = %q, %v; want %q", dir2, err, want)
	}

	// A cached blob corrupted behind our back (a run killed between go-huggingface's rename and
	// our check leaves an unverified one) is found, removed and reported, never loaded.
	blob, err := filepath.EvalSymlinks(filepath.Join(dir, weightsFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(blob + verifiedSuffix); err != nil {
		t.Fatalf("no verification mark next to %s: %v", blob, err)
	}
	if err := os.WriteFile(blob, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(id, HubOptions{CacheDir: cache, Offline: true})
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), weightsFileName) {
		t.Errorf("corrupt cached weights: error %v; want not cached, naming the corrupt %s", err, weightsFileName)
	}
	if _, err := os.Lstat(blob); !os.IsNotExist(err) {
		t.Errorf("corrupt blob %s still there (%v)", blob, err)
	}
}

func TestHubDownloadTruncated(t *testing.T) {
	cache := hubTestEnv(t)
	const id = "blockrec-test/tiny-reg"
	h, srv := newFakeHub(t, id)
	h.setMode("truncate")
	opts := HubOptions{CacheDir: cache, Endpoint: srv.URL}
	_, err := Resolve(id, opts)
	if err == nil || !strings.Contains(err.Error(), weightsFileName) {
		t.Fatalf("truncated download: error %v; want one naming %s", err, weightsFileName)
	}
	t.Logf("error: %v", err)
	for _, f := range leftovers(t, cache, id) {
		if !isConfigFile(h, f) {
			t.Errorf("partial download left in the cache: %s", f)
		}
	}
	if _, err := Resolve(id, HubOptions{CacheDir: cache, Offline: true}); !errors.Is(err, ErrNotCached) {
		t.Errorf("offline after a truncated download: %v; want not cached", err)
	}
	// The next run, with the server fixed, downloads the file again and loads it.
	h.setMode("good")
	if _, err := Load(id, opts); err != nil {
		t.Fatalf("retry after a truncated download: %v", err)
	}
}

func TestHubDownloadBadChecksum(t *testing.T) {
	cache := hubTestEnv(t)
	const id = "blockrec-test/tiny-reg"
	h, srv := newFakeHub(t, id)
	h.setMode("badsum")
	_, err := Resolve(id, HubOptions{CacheDir: cache, Endpoint: srv.URL})
	if err == nil || !strings.Contains(err.Error(), weightsFileName) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("wrong checksum: error %v; want one naming %s and its checksum", err, weightsFileName)
	}
	t.Logf("error: %v", err)
	for _, f := range leftovers(t, cache, id) {
		if !isConfigFile(h, f) {
			t.Errorf("file with a wrong checksum left in the cache: %s", f)
		}
	}
}

// isConfigFile reports whether f (relative to the repo's cache folder) is config.json (which
// downloads fine in every mode): its snapshot link, its blob or the blob's verification mark.
func isConfigFile(h *fakeHub, f string) bool {
	s := sha1.New()
	fmt.Fprintf(s, "blob %d\x00", len(h.files[configFileName]))
	s.Write(h.files[configFileName])
	blob := "blobs/" + hex.EncodeToString(s.Sum(nil))
	return f == blob || f == blob+verifiedSuffix || f == filepath.Join("snapshots", h.commit, configFileName)
}
