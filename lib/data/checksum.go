package data

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func fileHash(path string, h hash.Hash) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("data: reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileMD5 returns the hex MD5 digest of a file.
func FileMD5(path string) (string, error) { return fileHash(path, md5.New()) }

// FileSHA256 returns the hex SHA-256 digest of a file.
func FileSHA256(path string) (string, error) { return fileHash(path, sha256.New()) }

// ChecksumError reports a file whose digest is not the expected one.
type ChecksumError struct {
	Path, Algo, Got, Want string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("data: %s: wrong %s checksum %s, want %s (corrupt or incomplete file)", e.Path, e.Algo, e.Got, e.Want)
}

// VerifyMD5 checks a file's MD5 digest against want (hex, any case).
func VerifyMD5(path, want string) error {
	got, err := FileMD5(path)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, want) {
		return &ChecksumError{Path: path, Algo: "MD5", Got: got, Want: want}
	}
	return nil
}

// VerifySHA256Sums checks path against its line in a sha256sum-style file ("<hex>  <name>" per
// line; the name is matched against path's base name, a leading '*' is allowed).
func VerifySHA256Sums(sumsPath, path string) error {
	f, err := os.Open(sumsPath)
	if err != nil {
		return fmt.Errorf("data: checksum list: %w", err)
	}
	defer f.Close()
	base := filepath.Base(path)
	want := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && strings.TrimPrefix(fields[1], "*") == base {
			want = fields[0]
			break
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("data: reading %s: %w", sumsPath, err)
	}
	if want == "" {
		return fmt.Errorf("data: %s has no checksum line for %s", sumsPath, base)
	}
	got, err := FileSHA256(path)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, want) {
		return &ChecksumError{Path: path, Algo: "SHA-256", Got: got, Want: want}
	}
	return nil
}
