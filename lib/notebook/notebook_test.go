package notebook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseScale(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{"", DefaultScale, false},
		{"smoke", Smoke, false},
		{"cpu", CPU, false},
		{" paper ", Paper, false},
		{"Smoke", "", true},
		{"gpu", "", true},
		{"smoke,cpu", "", true},
	} {
		got, err := ParseScale(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseScale(%q) = %q, %v; want %q, error=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), ScaleEnv) {
			t.Errorf("ParseScale(%q) error %q does not name %s", tc.in, err, ScaleEnv)
		}
	}
}

func TestScaleFromEnv(t *testing.T) {
	t.Setenv(ScaleEnv, "paper")
	if got := Scale(); got != Paper {
		t.Errorf("Scale() = %q with %s=paper", got, ScaleEnv)
	}
	if got := ByScale(1, 2, 3); got != 3 {
		t.Errorf("ByScale(1, 2, 3) = %d at paper, want 3", got)
	}
	t.Setenv(ScaleEnv, "huge")
	if _, err := LookupScale(); err == nil || !strings.Contains(err.Error(), `"huge"`) {
		t.Errorf("LookupScale() with %s=huge: error %v, want one naming the value", ScaleEnv, err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Scale() did not panic with %s=huge", ScaleEnv)
		}
	}()
	Scale()
}

func TestPick(t *testing.T) {
	for l, want := range map[Level]string{Smoke: "s", CPU: "c", Paper: "p"} {
		if got := Pick(l, "s", "c", "p"); got != want {
			t.Errorf("Pick(%q) = %q, want %q", l, got, want)
		}
	}
}

func writeGoMod(t *testing.T, dir, module string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("// comment\nmodule "+module+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRepoRoot(t *testing.T) {
	// Unset: found from the working directory (the package folder, two levels down).
	t.Setenv(RootEnv, "")
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot() from the package folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "lib", "notebook", "root.go")); err != nil {
		t.Errorf("RepoRoot() = %q, which has no lib/notebook/root.go", root)
	}

	// Set to a checkout: taken as is.
	fake := t.TempDir()
	writeGoMod(t, fake, ModulePath)
	t.Setenv(RootEnv, fake)
	if got, err := RepoRoot(); err != nil || got != fake {
		t.Errorf("RepoRoot() with %s=%s: %q, %v", RootEnv, fake, got, err)
	}

	// Set to something else: an error naming the variable, never a silent fallback.
	other := t.TempDir()
	writeGoMod(t, other, "example.com/other")
	for _, dir := range []string{other, filepath.Join(other, "missing")} {
		t.Setenv(RootEnv, dir)
		if got, err := RepoRoot(); err == nil || !strings.Contains(err.Error(), RootEnv) {
			t.Errorf("RepoRoot() with %s=%s: %q, %v; want an error naming %s", RootEnv, dir, got, err, RootEnv)
		}
	}
}

func TestCacheDir(t *testing.T) {
	base := t.TempDir()
	t.Setenv(CacheEnv, base)
	t.Setenv(ScaleEnv, "smoke")
	dir, err := CacheDir("vit/cifar100")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "smoke", "vit", "cifar100"); dir != want {
		t.Errorf("CacheDir = %q, want %q", dir, want)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("CacheDir did not create %q: %v", dir, err)
	}
	t.Setenv(ScaleEnv, "cpu")
	if other := Must(CacheDir("vit/cifar100")); other == dir {
		t.Errorf("CacheDir gives the same folder %q at smoke and cpu", dir)
	}

	for _, bad := range []string{"", "Vit", "../x", "a//b", "/abs", "a/", ".hidden", "a b", "a/../b"} {
		if got, err := CacheDir(bad); err == nil {
			t.Errorf("CacheDir(%q) = %q, want an error", bad, got)
		}
	}
	t.Setenv(ScaleEnv, "bogus")
	if _, err := CacheDir("x"); err == nil {
		t.Error("CacheDir with a bad scale: no error")
	}
}

func TestCacheDirDefaultsUnderRepo(t *testing.T) {
	root := t.TempDir()
	writeGoMod(t, root, ModulePath)
	t.Setenv(RootEnv, root)
	t.Setenv(CacheEnv, "")
	t.Setenv(ScaleEnv, "")
	dir, err := CacheDir("acts")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "data", "cache", string(DefaultScale), "acts"); dir != want {
		t.Errorf("CacheDir = %q, want %q", dir, want)
	}
}

func TestVersions(t *testing.T) {
	vs := Versions()
	if len(vs) < 2 || vs[0].Name != "go" || !strings.HasPrefix(vs[0].Version, "go1.") || vs[1].Name != "blockrec" {
		t.Fatalf("Versions() = %v, want go then blockrec first", vs)
	}
}
