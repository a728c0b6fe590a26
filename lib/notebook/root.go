package notebook

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// RootEnv is the environment variable that may hold the repository root; the notebook runner sets it.
const RootEnv = "BLOCKREC_ROOT"

// ModulePath is the Go module path of the repository.
const ModulePath = "github.com/blockrec/blockrec"

// RepoRoot returns the absolute path of the blockrec checkout. It tries, in order:
//  1. $BLOCKREC_ROOT (an error if it is set but is not a blockrec checkout),
//  2. the current directory and its parents (a notebook's kernel runs in notebooks/),
//  3. the directory this package was compiled from (a GoNB cell or a binary built from the
//     checkout, run from elsewhere).
func RepoRoot() (string, error) {
	if env := os.Getenv(RootEnv); env != "" {
		abs, err := filepath.Abs(env)
		if err != nil {
			return "", fmt.Errorf("blockrec: %s=%q: %w", RootEnv, env, err)
		}
		if err := isRoot(abs); err != nil {
			return "", fmt.Errorf("blockrec: %s=%q is not the blockrec repository: %w", RootEnv, env, err)
		}
		return abs, nil
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if isRoot(dir) == nil {
				return dir, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Dir(filepath.Dir(filepath.Dir(file))) // <root>/lib/notebook/root.go
		if isRoot(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("blockrec: cannot find the repository root: set %s to the checkout (the folder with go.mod of %s)", RootEnv, ModulePath)
}

// isRoot returns nil if dir holds the go.mod of ModulePath.
func isRoot(dir string) error {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "module" {
			if strings.Trim(fields[1], `"`) == ModulePath {
				return nil
			}
			return fmt.Errorf("%s: module is %s, not %s", f.Name(), fields[1], ModulePath)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return errors.New(f.Name() + ": no module line")
}
