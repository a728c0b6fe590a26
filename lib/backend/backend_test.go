package backend

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "pjrt_plugin_fake.so")
	if err := os.WriteFile(existing, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       string // "" means unset
		plugins   map[string]string
		wantName  string
		wantCfg   string
		wantErr   string // substring of the error, if an error is expected
		wantInWhy string
	}{
		{name: "no plugin falls back to go", wantName: "go", wantCfg: pureGoDefaults, wantInWhy: "no PJRT plugin"},
		{name: "cpu plugin found", plugins: map[string]string{"cpu": "/x/pjrt_c_api_cpu_plugin.so"}, wantName: "xla", wantCfg: "cpu"},
		{name: "cuda preferred over cpu", plugins: map[string]string{"cpu": "/a", "cuda": "/b"}, wantName: "xla", wantCfg: "cuda"},
		{name: "env go", env: "go", plugins: map[string]string{"cuda": "/b"}, wantName: "go", wantCfg: pureGoDefaults},
		{name: "env go with options kept", env: "go:ops_sequential", wantName: "go", wantCfg: "ops_sequential"},
		{name: "env xla with existing path", env: "xla:" + existing, wantName: "xla", wantCfg: existing},
		{name: "unknown backend", env: "tpu9", wantErr: `unknown backend "tpu9"`},
		{name: "missing plugin file", env: "xla:/no/such/plugin.so", wantErr: "PJRT plugin file /no/such/plugin.so does not exist"},
		{name: "relative plugin path", env: "xla:lib/plugin.so", wantErr: "must be absolute"},
		{name: "named plugin not installed", env: "xla:cuda", wantErr: `no PJRT plugin named "cuda"`},
		{name: "xla without plugin", env: "xla", wantErr: "needs a plugin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == "" {
				t.Setenv(EnvVar, "")
				os.Unsetenv(EnvVar)
			} else {
				t.Setenv(EnvVar, tc.env)
			}
			old := pluginFinder
			pluginFinder = func() map[string]string { return tc.plugins }
			defer func() { pluginFinder = old }()
			c, err := Choose()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Choose() error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Count(err.Error(), "\n") != 0 {
					t.Errorf("error should be one line, got %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Choose() unexpected error: %v", err)
			}
			if c.Name != tc.wantName || c.Config != tc.wantCfg {
				t.Errorf("Choose() = %s, want %s:%s", c, tc.wantName, tc.wantCfg)
			}
			if !strings.Contains(c.Reason, tc.wantInWhy) {
				t.Errorf("reason %q does not contain %q", c.Reason, tc.wantInWhy)
			}
		})
	}
}

// TestNewFallsBackWhenNoPlugin creates the backend on a machine without plugins (simulated) and
// checks that it is the pure-Go one, that it runs, and that the notice names it.
func TestNewFallsBackWhenNoPlugin(t *testing.T) {
	t.Setenv(EnvVar, "") // restored after the test: later tests (and CI's legs) keep their GOMLX_BACKEND
	os.Unsetenv(EnvVar)
	t.Setenv(ExpectEnvVar, "") // a fallback is what this test wants, on either CI leg
	old := pluginFinder
	pluginFinder = func() map[string]string { return nil }
	defer func() { pluginFinder = old }()
	var notice bytes.Buffer
	oldNotice := Notice
	Notice = &notice
	defer func() { Notice = oldNotice }()
	cacheMu.Lock()
	cached = nil
	cacheMu.Unlock()

	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !IsPureGo(b) {
		t.Fatalf("backend = %s, want the pure-Go backend", Describe(b))
	}
	line := notice.String()
	if !strings.HasPrefix(line, "blockrec: backend go") || !strings.Contains(line, "no PJRT plugin") || strings.Count(line, "\n") != 1 {
		t.Errorf("notice = %q, want one line naming the go backend and why", line)
	}
}

// TestDiscoveredXLAFailureFallsBack: a plugin that is found but cannot start must not kill the
// program when the user did not ask for XLA.
func TestDiscoveredXLAFailureFallsBack(t *testing.T) {
	t.Setenv(EnvVar, "")
	os.Unsetenv(EnvVar)
	t.Setenv(ExpectEnvVar, "")
	old := pluginFinder
	pluginFinder = func() map[string]string { return map[string]string{"cpu": "/nonexistent/pjrt_c_api_cpu_plugin.so"} }
	defer func() { pluginFinder = old }()
	var notice bytes.Buffer
	oldNotice := Notice
	Notice = &notice
	defer func() { Notice = oldNotice }()
	cacheMu.Lock()
	cached = nil
	cacheMu.Unlock()

	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !IsPureGo(b) {
		t.Fatalf("backend = %s, want the pure-Go fallback", Describe(b))
	}
	if !strings.Contains(notice.String(), "failed to start") {
		t.Errorf("notice %q should say that XLA failed to start", notice.String())
	}
}
