package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnalyzeCommand lives in a file that sorts after main_test.go on purpose: it starts the
// pure-Go backend, which lib/backend creates (and announces) once per process, and TestEnv
// checks that announcement, so it must come first.
func TestAnalyzeCommand(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	t.Setenv("BLOCKREC_EXPECT_BACKEND", "go")
	model, images := analyzeInputs(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"analyze", model, "--images", images, "--out", out, "--batch", "4", "--ks", "2,3", "--bootstrap", "10", "--null-replicates", "5"}
	var o, e bytes.Buffer
	if code := dispatch(args, &o, &e); code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	if !strings.Contains(o.String(), "8 images used, 2 skipped") || !strings.Contains(o.String(), "K=3: ") || !strings.Contains(o.String(), "report: ") {
		t.Errorf("stdout %q", o.String())
	}
	for _, name := range []string{"corrupt.png", "tiny.png"} {
		if n := strings.Count(e.String(), "warning: skipped image "+filepath.Join(images, name)); n != 1 {
			t.Errorf("%d warnings for %s:\n%s", n, name, e.String())
		}
	}
	var prov struct {
		Model    map[string]any    `json:"model"`
		Images   map[string]any    `json:"images"`
		Backend  string            `json:"backend"`
		Versions []map[string]any  `json:"versions"`
		Flags    map[string]string `json:"flags"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "provenance.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &prov); err != nil {
		t.Fatal(err)
	}
	if prov.Model["family"] != "dinov2" || prov.Images["used"] != 8.0 || !strings.HasPrefix(prov.Backend, "go") ||
		len(prov.Versions) == 0 || prov.Flags["ks"] != "2,3" || prov.Flags["batch"] != "4" {
		t.Errorf("provenance.json: %s", raw)
	}
	for _, f := range []string{"report.md", "figures/analyze_similarity.png", "figures/analyze_stability.png", "figures/analyze_dynamics.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// The rerun resumes.
	o.Reset()
	e.Reset()
	if code := dispatch(args, &o, &e); code != 0 || strings.Contains(e.String(), ", done") || !strings.Contains(e.String(), "reused from") {
		t.Errorf("rerun: exit %d, stderr:\n%s", code, e.String())
	}
}

// TestAnalyzeEveryFamily runs blockrec analyze on the tiny checkpoint of every supported family
// that lib/dinov2's parity tests check against transformers (HF DINOv2 with and without
// registers, HF ViT, DeiT, and timm's DINOv2 naming).
func TestAnalyzeEveryFamily(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	t.Setenv("BLOCKREC_EXPECT_BACKEND", "go")
	_, images := analyzeInputs(t)
	for _, c := range []struct{ fixture, family string }{
		{"hf-dinov2", "dinov2"}, {"hf-dinov2-reg", "dinov2"}, {"hf-vit", "vit"}, {"hf-deit", "vit"}, {"timm-dinov2-reg", "dinov2"},
	} {
		t.Run(c.fixture, func(t *testing.T) {
			model := filepath.Join("..", "..", "lib", "dinov2", "testdata", c.fixture)
			out := filepath.Join(t.TempDir(), "out")
			var o, e bytes.Buffer
			args := []string{"analyze", model, "--images", images, "--out", out, "--batch", "4", "--ks", "2", "--bootstrap", "5", "--null-replicates", "5"}
			if code := dispatch(args, &o, &e); code != 0 {
				t.Fatalf("exit %d: %s", code, e.String())
			}
			raw, err := os.ReadFile(filepath.Join(out, "provenance.json"))
			if err != nil {
				t.Fatal(err)
			}
			var prov struct {
				Model map[string]any `json:"model"`
			}
			if err := json.Unmarshal(raw, &prov); err != nil {
				t.Fatal(err)
			}
			if prov.Model["family"] != c.family {
				t.Errorf("family %v, want %s", prov.Model["family"], c.family)
			}
			report, err := os.ReadFile(filepath.Join(out, "report.md"))
			if err != nil || !strings.Contains(string(report), "## Dynamics") || !strings.Contains(string(report), "## Phases") {
				t.Errorf("report.md lacks the phases or the dynamics section (%v):\n%s", err, report)
			}
		})
	}
}
