package data

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// extractedMarker is the file that records a finished extraction of tarball into dest.
func extractedMarker(tarball, dest string) string {
	return filepath.Join(dest, "."+filepath.Base(tarball)+".extracted")
}

// IsExtracted reports whether ExtractTarGz(tarball, dest) has completed before.
func IsExtracted(tarball, dest string) bool {
	_, err := os.Stat(extractedMarker(tarball, dest))
	return err == nil
}

// ExtractTarGz unpacks the gzipped tar file tarball into the directory dest (created if needed).
//
// It is safe: entries with absolute paths or paths that leave dest ("..") are rejected, and so are
// links and device files; only regular files and directories are written. It is atomic: the
// archive is unpacked into a temporary directory inside dest and each top-level entry is then
// renamed into place; an error leaves dest as it was. It is idempotent: on success it writes the
// marker dest/.<tarball name>.extracted, and later calls with that marker present do nothing. A
// top-level entry that already exists in dest without the marker is an error (remove it by hand).
func ExtractTarGz(tarball, dest string) error {
	marker := extractedMarker(tarball, dest)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("data: extracting %s: %w", tarball, err)
	}
	removeStaleTemps(dest, ".extract-"+filepath.Base(tarball)+"-")
	tmp, err := os.MkdirTemp(dest, ".extract-"+filepath.Base(tarball)+"-")
	if err != nil {
		return fmt.Errorf("data: extracting %s: %w", tarball, err)
	}
	defer os.RemoveAll(tmp)
	if err := untar(tarball, tmp); err != nil {
		return err
	}
	top, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("data: extracting %s: %w", tarball, err)
	}
	for _, e := range top {
		if _, err := os.Lstat(filepath.Join(dest, e.Name())); err == nil {
			if IsExtracted(tarball, dest) {
				return nil // another process finished the same extraction meanwhile
			}
			return fmt.Errorf("data: extracting %s: %s already exists but no extraction marker %s does; remove it and retry",
				tarball, filepath.Join(dest, e.Name()), marker)
		}
	}
	for _, e := range top {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dest, e.Name())); err != nil {
			return fmt.Errorf("data: extracting %s: %w", tarball, err)
		}
	}
	return writeFileAtomic(marker, []byte("extracted from "+tarball+"\n"))
}

// removeStaleTemps deletes temporary extraction folders (name prefix) left in dir by a process
// killed more than an hour ago; recent ones may belong to a running extraction.
func removeStaleTemps(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// untar unpacks tarball into the (empty) directory dir, checking every entry.
func untar(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("data: %s is not a gzip file: %w", tarball, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("data: reading tar archive %s: %w", tarball, err)
		}
		name, err := safeTarPath(hdr.Name)
		if err != nil {
			return fmt.Errorf("data: tar archive %s: %w", tarball, err)
		}
		if name == "" {
			continue // the archive's root "./"
		}
		target := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("data: extracting %s: %w", tarball, err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return fmt.Errorf("data: extracting %s: %w", tarball, err)
			}
			if err := writeEntry(target, tr, hdr.FileInfo().Mode().Perm()|0o600); err != nil {
				return fmt.Errorf("data: extracting %s from %s: %w", hdr.Name, tarball, err)
			}
		case tar.TypeXGlobalHeader:
			// PAX global header: metadata only.
		default:
			return fmt.Errorf("data: tar archive %s: entry %q has unsupported type %q (only files and directories are extracted)",
				tarball, hdr.Name, string(hdr.Typeflag))
		}
	}
}

// safeTarPath turns a tar entry name into a local relative path, or says why it is unsafe.
func safeTarPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("entry with an empty name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) || strings.Contains(name, "\\") {
		return "", fmt.Errorf("entry %q has an absolute or non-portable path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the destination directory", name)
		}
	}
	clean := filepath.Clean(filepath.FromSlash(name))
	if clean == "." {
		return "", nil
	}
	if !filepath.IsLocal(clean) {
		return "", fmt.Errorf("entry %q is not a local path", name)
	}
	return clean, nil
}

func writeEntry(path string, r io.Reader, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFileAtomic writes data to a temporary file next to path and renames it into place.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	return nil
}
