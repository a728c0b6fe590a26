package figures

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/blockrec/blockrec/lib/notebook"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DirEnv is the environment variable that may set the figures directory.
const DirEnv = "BLOCKREC_FIGURES_DIR"

// PNGDPI is the resolution of the PNG files.
const PNGDPI = 150

// Margin is the blank border around every saved figure (markers at the edge are not clipped).
const Margin = 2 * vg.Millimeter

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Dir returns the directory figures are saved in: $BLOCKREC_FIGURES_DIR if set, else
// <repo>/build/figures-smoke at smoke scale (so tests never overwrite real figures), else
// <repo>/figures. Save refines the last case per figure (see DirFor).
func Dir() (string, error) {
	level, err := notebook.LookupScale()
	if err != nil {
		return "", err
	}
	return dirAt(string(level))
}

// dirAt is Dir for a given scale.
func dirAt(scale string) (string, error) {
	root, rootErr := notebook.RepoRoot()
	if d := os.Getenv(DirEnv); d != "" {
		// A relative folder is taken from the repository root, not from the working directory
		// (a notebook kernel runs in notebooks/), so BLOCKREC_FIGURES_DIR=figures means <repo>/figures.
		if !filepath.IsAbs(d) && rootErr == nil {
			return filepath.Join(root, d), nil
		}
		return filepath.Abs(d)
	}
	if rootErr != nil {
		return "", rootErr
	}
	if scale == string(notebook.Smoke) {
		return filepath.Join(root, "build", "figures-smoke"), nil
	}
	return filepath.Join(root, "figures"), nil
}

// DirFor is the directory Save writes figure name with provenance prov into. It is Dir at
// prov.Scale (not at $BLOCKREC_SCALE: a figure goes where its own scale says), except that
// <repo>/figures only takes a figure that replaces one made there from the same data (see
// sameData) at the same scale, or a new figure of a notebook all of whose figures there share its
// data and scale. Anything else (other data, another scale, a notebook with no committed
// figures, a sidecar that cannot be read) goes to <repo>/build/figures-<scale>-<data set>/, so
// a run never silently replaces or adds to the committed figures. The model is not compared.
// Set BLOCKREC_FIGURES_DIR=figures to write there on purpose.
func DirFor(name string, prov Provenance) (string, error) {
	dir, err := dirAt(prov.Scale)
	if err != nil || os.Getenv(DirEnv) != "" || prov.Scale == string(notebook.Smoke) {
		return dir, err
	}
	old, err := readSidecar(filepath.Join(dir, name+".json"))
	switch {
	case err == nil:
		if old.madeFrom(prov) {
			return dir, nil
		}
	case errors.Is(err, fs.ErrNotExist) && sameNotebookCommitted(dir, name, prov):
		return dir, nil // a new figure of a notebook whose figures here share its data and scale
	}
	root, err := notebook.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "build", "figures-"+prov.Scale+"-"+dataSlug(prov.Dataset)), nil
}

// sameNotebookCommitted reports whether dir holds figures of the same notebook as name (the
// same prefix before the first '_', e.g. "01") and every one of them was made at prov's scale
// from the same data (sameData). A notebook with no figure in dir, or one figure from other
// data or with a sidecar that cannot be read, does not get new figures there.
func sameNotebookCommitted(dir, name string, prov Provenance) bool {
	prefix, _, ok := strings.Cut(name, "_")
	if !ok {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	found := false
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), prefix+"_") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		old, err := readSidecar(filepath.Join(dir, e.Name()))
		if err != nil || old.Name == "" || !old.madeFrom(prov) {
			return false
		}
		found = true
	}
	return found
}

// readSidecar reads the provenance sidecar at path; the error wraps fs.ErrNotExist when there is none.
func readSidecar(path string) (sidecar, error) {
	var s sidecar
	raw, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// madeFrom reports whether the figure of this sidecar was made at prov's scale from the same
// data (sameData).
func (s sidecar) madeFrom(prov Provenance) bool {
	return s.Scale == prov.Scale && sameData(s.Dataset, prov.Dataset)
}

// sameData reports whether two provenance descriptions name the same data: equal, or one is the
// other followed by ", " and details of the images used ("CIFAR-10 (…), lossy JPEG re-encoding"
// and "CIFAR-10 (…), lossy JPEG re-encoding, test split, 500 images" are the same; the official
// CIFAR-10 release is not the JPEG stand-in).
func sameData(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a != "" && (a == b || strings.HasPrefix(b, a+", "))
}

// dataSlug names a data set in a folder name: the start of its provenance, before the first
// '(' or ',', in lower case ("CIFAR-10 (Krizhevsky 2009), …" → "cifar-10").
func dataSlug(dataset string) string {
	if i := strings.IndexAny(dataset, "(,:;"); i >= 0 {
		dataset = dataset[:i]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(dataset)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "unnamed-data"
	}
	return out
}

// machinePath matches an absolute path of two or more elements at the start of a text or after
// a space, "(", a quote or "=".
var machinePath = regexp.MustCompile(`(^|[( "'=])/[^\s()"',;:]+/[^\s()"',;:]+`)

// relativePaths rewrites the machine's absolute paths in prov: a path under the repository
// becomes relative to it, any other absolute path keeps only its last element. A
// provenance file says what a figure was made from, not where the maker's files were.
func relativePaths(prov Provenance) Provenance {
	root, err := notebook.RepoRoot()
	strip := func(s string) string {
		if err == nil {
			s = strings.ReplaceAll(s, root+string(filepath.Separator), "")
		}
		// Any other absolute path inside the text (a plugin library, a home folder) keeps only
		// its last element.
		return machinePath.ReplaceAllStringFunc(s, func(m string) string {
			lead := m[:len(m)-len(strings.TrimLeft(m, "( \"'="))]
			return lead + filepath.Base(m[len(lead):])
		})
	}
	prov.Dataset, prov.Model, prov.Backend, prov.Notes = strip(prov.Dataset), strip(prov.Model), strip(prov.Backend), strip(prov.Notes)
	if prov.Extra != nil {
		extra := make(map[string]any, len(prov.Extra))
		for k, v := range prov.Extra {
			if str, ok := v.(string); ok {
				str = strip(str)
				if filepath.IsAbs(str) {
					str = filepath.Base(str)
				}
				v = str
			}
			extra[k] = v
		}
		prov.Extra = extra
	}
	return prov
}

// rendered holds a figure drawn in every format, ready to write.
type rendered struct {
	png, svg, pdf []byte
	kept          bool // save found the same figure already there and wrote nothing
}

// WriteAtomic writes data to path through a temporary file and a rename, so that a reader never
// sees a half-written file (for text written next to the figures, such as a conclusion).
func WriteAtomic(path string, data []byte) error { return writeAtomic(path, data) }

// Save draws fig at size w × h and writes <DirFor(name, prov)>/<name>.png, .svg, .pdf and the provenance
// sidecar <name>.json, each atomically (a reader never sees a half-written file). It returns the
// four paths; when that folder already holds the same figure (same provenance but the date, same
// PNG and SVG) it leaves the files as they are. Paths of the machine in prov are made relative to the repository. name is lower-case letters, digits, '_' and '-'. Every plot in fig (a *plot.Plot
// or a Panel) must label both axes. prov.Date and an empty prov.Scale are filled in.
func Save(fig Figure, name string, w, h vg.Length, prov Provenance) ([]string, error) {
	paths, _, err := save(fig, name, w, h, prov)
	return paths, err
}

func save(fig Figure, name string, w, h vg.Length, prov Provenance) ([]string, *rendered, error) {
	if !validName.MatchString(name) {
		return nil, nil, fmt.Errorf("figures: name %q: use lower-case letters, digits, '_' and '-' (it becomes a file name)", name)
	}
	if fig == nil {
		return nil, nil, fmt.Errorf("figures: %s: nil figure", name)
	}
	if w <= 0 || h <= 0 {
		return nil, nil, fmt.Errorf("figures: %s: size %v × %v must be positive", name, w, h)
	}
	if err := checkLabels(fig); err != nil {
		return nil, nil, fmt.Errorf("figures: %s: %w", name, err)
	}
	if prov.Scale == "" {
		level, err := notebook.LookupScale()
		if err != nil {
			return nil, nil, err
		}
		prov.Scale = string(level)
	}
	if prov.Date.IsZero() {
		prov.Date = time.Now().UTC().Truncate(time.Second)
	}
	prov = relativePaths(prov)
	r, err := render(fig, w, h)
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %s: %w", name, err)
	}
	meta := sidecar{Name: name, Provenance: prov, WidthCm: float64(w / vg.Centimeter), HeightCm: float64(h / vg.Centimeter),
		Files: []string{name + ".png", name + ".svg", name + ".pdf"}}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %s: provenance does not encode as JSON: %w", name, err)
	}
	dir, err := DirFor(name, prov)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("figures: %w", err)
	}
	paths := []string{filepath.Join(dir, name+".png"), filepath.Join(dir, name+".svg"),
		filepath.Join(dir, name+".pdf"), filepath.Join(dir, name+".json")}
	if unchanged(dir, meta, r) {
		// The same figure from the same provenance: keep the files (and their date), so a rerun
		// does not show committed figures as modified.
		r.kept = true
		return paths, r, nil
	}
	// The PDF goes first and the sidecar last: a save cut short leaves a PNG or sidecar that
	// differs from the new one, so the next save rewrites everything (unchanged never keeps a
	// stale PDF, which it cannot compare).
	for _, f := range []struct {
		path string
		data []byte
	}{{paths[2], r.pdf}, {paths[0], r.png}, {paths[1], r.svg}, {paths[3], append(js, '\n')}} {
		if err := writeAtomic(f.path, f.data); err != nil {
			return nil, nil, fmt.Errorf("figures: %w", err)
		}
	}
	return paths, r, nil
}

// unchanged reports whether dir already holds meta's figure with the same provenance (all but
// the date) and the same PNG and SVG bytes, and a PDF. The PDF is not compared: it embeds its
// creation time.
func unchanged(dir string, meta sidecar, r *rendered) bool {
	base := filepath.Join(dir, meta.Name)
	old, err := readSidecar(base + ".json")
	if err != nil {
		return false
	}
	old.Date, meta.Date = time.Time{}, time.Time{}
	a, errA := json.Marshal(old)
	b, errB := json.Marshal(meta)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		return false
	}
	if info, err := os.Stat(base + ".pdf"); err != nil || info.Size() == 0 {
		return false
	}
	for _, f := range []struct {
		ext  string
		want []byte
	}{{".png", r.png}, {".svg", r.svg}} {
		got, err := os.ReadFile(base + f.ext)
		if err != nil || !bytes.Equal(got, f.want) {
			return false
		}
	}
	return true
}

// checkLabels returns an error if a plot of fig lacks an axis label.
func checkLabels(fig Figure) error {
	var plots []*plot.Plot
	switch f := fig.(type) {
	case *plot.Plot:
		plots = []*plot.Plot{f}
	case *panel:
		plots = f.plots
	}
	for i, p := range plots {
		if p == nil {
			return fmt.Errorf("plot %d is nil", i)
		}
		if p.X.Label.Text == "" || p.Y.Label.Text == "" {
			return fmt.Errorf("plot %d (%q) must label both axes (x: %q, y: %q)", i, p.Title.Text, p.X.Label.Text, p.Y.Label.Text)
		}
	}
	return nil
}

// render draws fig in the three formats; a drawing panic (gonum/plot panics on some bad input)
// becomes an error.
func render(fig Figure, w, h vg.Length) (r *rendered, err error) {
	defer func() {
		if e := recover(); e != nil {
			r, err = nil, fmt.Errorf("drawing failed: %v", e)
		}
	}()
	r = &rendered{}
	encode := func(c vg.CanvasWriterTo) ([]byte, error) {
		fig.Draw(draw.Crop(draw.New(c), Margin, -Margin, Margin, -Margin))
		var buf bytes.Buffer
		_, err := c.WriteTo(&buf)
		return buf.Bytes(), err
	}
	if r.png, err = encode(vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))}); err != nil {
		return nil, fmt.Errorf("PNG: %w", err)
	}
	if r.svg, err = encode(vgsvg.New(w, h)); err != nil {
		return nil, fmt.Errorf("SVG: %w", err)
	}
	if r.pdf, err = encode(vgpdf.New(w, h)); err != nil {
		return nil, fmt.Errorf("PDF: %w", err)
	}
	return r, nil
}

// writeAtomic writes data to a temporary file next to path and renames it into place.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, bytes.NewReader(data))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
