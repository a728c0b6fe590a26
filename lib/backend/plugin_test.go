//go:build !noxla

package backend

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakePlugin compiles a shared library whose GetPjrtApi reports PJRT C API major.minor (and has
// no other entry: go-xla must never be reached with it). It skips without gcc.
func fakePlugin(t *testing.T, major, minor int) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: cannot build a fake PJRT plugin")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "fake.c")
	code := `#include <stddef.h>
typedef struct { size_t s; void* e; int major; int minor; } V;
typedef struct { size_t s; void* e; V v; } A;
static A api = { sizeof(A), 0, { sizeof(V), 0, MAJOR, MINOR } };
const A* GetPjrtApi(void) { return &api; }
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(dir, "pjrt_c_api_fake_plugin.so")
	cmd := exec.Command(gcc, "-shared", "-fPIC", "-o", so, src,
		"-DMAJOR="+strconv.Itoa(major), "-DMINOR="+strconv.Itoa(minor))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return so
}

// TestPluginFilesRefused: every kind of bad plugin file is one error line naming the file and the
// fault, and nothing panics (a truncated .so used to die of SIGBUS inside dlopen).
func TestPluginFilesRefused(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "passwd")
	if err := os.WriteFile(notELF, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := fakePlugin(t, 0, 90)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.so")
	if err := os.WriteFile(truncated, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	noSymbol := filepath.Join(dir, "nosym.so")
	cmd := exec.Command("gcc", "-shared", "-fPIC", "-o", noSymbol, "-x", "c", "-")
	cmd.Stdin = strings.NewReader("int not_pjrt(void) { return 1; }\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	tests := []struct {
		name, path, want string
	}{
		{"not an ELF file", notELF, "is not a shared library (no ELF header)"},
		{"truncated", truncated, "truncated"},
		{"shared library without GetPjrtApi", noSymbol, "not a PJRT plugin (it exports no GetPjrtApi)"},
		{"other major version", fakePlugin(t, 1, 2), "speaks PJRT C API v1.2, go-xla speaks v0.83: the major versions differ"},
		{"too old a minor version", fakePlugin(t, 0, 40), "older than v0.81"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readPluginAPIVersion(tc.path)
			if err == nil {
				c := Choice{Name: "xla", Config: tc.path}
				_, err = create(&c)
			}
			if err == nil {
				t.Fatalf("plugin %s accepted", tc.path)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.path) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %s and containing %q", msg, tc.path, tc.want)
			}
		})
	}
	t.Run("version of a good fake is read", func(t *testing.T) {
		major, minor, err := readPluginAPIVersion(good)
		if err != nil || major != 0 || minor != 90 {
			t.Fatalf("readPluginAPIVersion = %d.%d, %v; want 0.90", major, minor, err)
		}
	})
}

// TestUserChosenBadPluginIsAnError: GOMLX_BACKEND naming a bad plugin is an error from New, not a
// silent fallback and not a panic.
func TestUserChosenBadPluginIsAnError(t *testing.T) {
	bad := fakePlugin(t, 7, 0)
	t.Setenv(EnvVar, "xla:"+bad)
	cacheMu.Lock()
	cached = nil
	cacheMu.Unlock()
	_, err := New()
	if err == nil || !strings.Contains(err.Error(), "major versions differ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("New() error = %v, want one line saying the major versions differ", err)
	}
}

// TestExpectBackend: BLOCKREC_EXPECT_BACKEND=xla turns a silent fallback into an error, and a
// backend of the other kind is refused.
func TestExpectBackend(t *testing.T) {
	old := pluginFinder
	defer func() { pluginFinder = old }()
	reset := func() {
		cacheMu.Lock()
		cached = nil
		cacheMu.Unlock()
	}
	t.Run("xla expected, discovered plugin broken", func(t *testing.T) {
		t.Setenv(EnvVar, "")
		os.Unsetenv(EnvVar)
		pluginFinder = func() map[string]string { return map[string]string{"cpu": "/nonexistent/pjrt_c_api_cpu_plugin.so"} }
		t.Setenv(ExpectEnvVar, "xla")
		reset()
		if b, err := New(); err == nil {
			t.Fatalf("New() = %s, want an error", Describe(b))
		} else if !strings.Contains(err.Error(), ExpectEnvVar+"=xla") {
			t.Errorf("error %q does not name %s", err, ExpectEnvVar)
		}
	})
	t.Run("xla expected, go forced", func(t *testing.T) {
		t.Setenv(EnvVar, "go")
		t.Setenv(ExpectEnvVar, "xla")
		reset()
		if _, err := New(); err == nil || !strings.Contains(err.Error(), "but the backend is go") {
			t.Fatalf("New() error = %v, want 'but the backend is go'", err)
		}
	})
	t.Run("go expected, go given", func(t *testing.T) {
		t.Setenv(EnvVar, "go")
		t.Setenv(ExpectEnvVar, "go")
		reset()
		b, err := New()
		if err != nil || !IsPureGo(b) {
			t.Fatalf("New() = %v, %v; want the pure-Go backend", b, err)
		}
	})
	t.Run("bad value", func(t *testing.T) {
		t.Setenv(EnvVar, "go")
		t.Setenv(ExpectEnvVar, "tpu")
		reset()
		if _, err := New(); err == nil || !strings.Contains(err.Error(), `want xla or go`) {
			t.Fatalf("New() error = %v", err)
		}
	})
	reset()
}
