package train

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Checkpoint file layout: the magic line, an 8-byte little-endian header length, a JSON header
// (step, variables with dtype, dims, offset and size, SHA-256 of the data), then the raw data of
// all variables. Files are written to a temporary name, synced, then renamed, so a checkpoint is
// either complete or absent.
const checkpointMagic = "BLOCKREC-CHECKPOINT-1\n"

type checkpointHeader struct {
	Step      int                  `json:"step"`
	Variables []checkpointVariable `json:"variables"`
	DataBytes int64                `json:"data_bytes"`
	SHA256    string               `json:"sha256"`
}

type checkpointVariable struct {
	Scope     string `json:"scope"` // e.g. "/vit/block_00/attn/query"
	Name      string `json:"name"`  // e.g. "weights"
	DType     string `json:"dtype"`
	DTypeID   int    `json:"dtype_id"`
	Dims      []int  `json:"dims"`
	Offset    int64  `json:"offset"`
	Bytes     int64  `json:"bytes"`
	Trainable bool   `json:"trainable"`
}

// SaveCheckpoint writes every variable of ctx (weights, optimizer state, step counters, RNG
// state) to path atomically.
func SaveCheckpoint(ctx *context.Context, step int, path string) error {
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		vars = append(vars, v)
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].ScopeAndName() < vars[j].ScopeAndName() })
	var data bytes.Buffer
	header := checkpointHeader{Step: step}
	for _, v := range vars {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, v.ScopeAndName(), err)
		}
		offset := int64(data.Len())
		if err := t.ConstBytes(func(b []byte) { data.Write(b) }); err != nil {
			return fmt.Errorf("checkpoint %s: variable %s: %w", path, v.ScopeAndName(), err)
		}
		header.Variables = append(header.Variables, checkpointVariable{
			Scope: v.Scope(), Name: v.Name(), DType: t.DType().String(), DTypeID: int(t.DType()),
			Dims: t.Shape().Dimensions, Offset: offset, Bytes: int64(data.Len()) - offset, Trainable: v.Trainable,
		})
	}
	sum := sha256.Sum256(data.Bytes())
	header.DataBytes = int64(data.Len())
	header.SHA256 = hex.EncodeToString(sum[:])
	headerJSON, err := json.Marshal(header)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, checkpointMagic); err != nil {
			return err
		}
		if err := binary.Write(w, binary.LittleEndian, uint64(len(headerJSON))); err != nil {
			return err
		}
		if _, err := w.Write(headerJSON); err != nil {
			return err
		}
		_, err := w.Write(data.Bytes())
		return err
	})
}

// writeAtomic writes a file through a temporary file in the same folder, synced and renamed.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	buf := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(buf); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := buf.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; outputs get the permissions of every other file (0644).
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// LoadCheckpoint verifies the file at path and loads its variables into ctx (creating them if the
// model was not built yet), returning the step it was written at. A truncated or corrupt file is
// an error naming the file and what is wrong; ctx is left untouched then.
func LoadCheckpoint(ctx *context.Context, path string) (int, error) {
	header, data, err := readCheckpoint(path)
	if err != nil {
		return 0, err
	}
	values := make([]*tensors.Tensor, len(header.Variables))
	for i, cv := range header.Variables {
		dt := dtypes.DType(cv.DTypeID)
		if dt.String() != cv.DType {
			return 0, fmt.Errorf("checkpoint %s: variable %s/%s has unknown dtype %q", path, cv.Scope, cv.Name, cv.DType)
		}
		t := tensors.FromShape(shapes.Make(dt, cv.Dims...))
		if int64(t.Shape().Memory()) != cv.Bytes || cv.Offset < 0 || cv.Offset+cv.Bytes > int64(len(data)) {
			return 0, fmt.Errorf("checkpoint %s: variable %s: %d bytes at offset %d do not fit its shape %v or the data", path, cv.Scope+"/"+cv.Name, cv.Bytes, cv.Offset, cv.Dims)
		}
		if err := t.MutableBytes(func(b []byte) { copy(b, data[cv.Offset:cv.Offset+cv.Bytes]) }); err != nil {
			return 0, err
		}
		values[i] = t
	}
	for i, cv := range header.Variables {
		scope, name := cv.Scope, cv.Name
		if v := ctx.GetVariableByScopeAndName(scope, name); v != nil {
			if !v.Shape().Equal(values[i].Shape()) {
				return 0, fmt.Errorf("checkpoint %s: variable %s has shape %s, the model has %s", path, cv.Scope+"/"+cv.Name, values[i].Shape(), v.Shape())
			}
			if err := v.SetValue(values[i]); err != nil {
				return 0, err
			}
			continue
		}
		v := ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, values[i])
		v.SetTrainable(cv.Trainable)
	}
	return header.Step, nil
}

// readCheckpoint reads and parses the checkpoint at path; errors name the file.
func readCheckpoint(path string) (*checkpointHeader, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	header, data, err := parseCheckpoint(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return header, data, nil
}

func parseCheckpoint(raw []byte) (*checkpointHeader, []byte, error) {
	if !bytes.HasPrefix(raw, []byte(checkpointMagic)) {
		return nil, nil, errors.New("not a blockrec checkpoint (bad magic)")
	}
	rest := raw[len(checkpointMagic):]
	if len(rest) < 8 {
		return nil, nil, errors.New("truncated before the header length")
	}
	n := binary.LittleEndian.Uint64(rest[:8])
	rest = rest[8:]
	if n > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("truncated: header of %d bytes, only %d bytes left", n, len(rest))
	}
	var header checkpointHeader
	if err := json.Unmarshal(rest[:n], &header); err != nil {
		return nil, nil, fmt.Errorf("corrupt header: %w", err)
	}
	data := rest[n:]
	if int64(len(data)) != header.DataBytes {
		return nil, nil, fmt.Errorf("truncated or padded: %d data bytes, header says %d", len(data), header.DataBytes)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != header.SHA256 {
		return nil, nil, errors.New("checksum mismatch: the data is corrupt")
	}
	return &header, data, nil
}

// VerifyCheckpoint reads the checkpoint at path and checks it without loading it: magic, header,
// size, checksum, and that every floating-point value is finite. It returns the step.
func VerifyCheckpoint(path string) (int, error) {
	header, data, err := readCheckpoint(path)
	if err != nil {
		return 0, err
	}
	for _, cv := range header.Variables {
		if cv.Offset < 0 || cv.Bytes < 0 || cv.Offset+cv.Bytes > int64(len(data)) {
			return 0, fmt.Errorf("checkpoint %s: variable %s/%s: %d bytes at offset %d do not fit the data", path, cv.Scope, cv.Name, cv.Bytes, cv.Offset)
		}
		if i, v, bad := firstNonFinite(dtypes.DType(cv.DTypeID), data[cv.Offset:cv.Offset+cv.Bytes]); bad {
			return 0, fmt.Errorf("checkpoint %s: variable %s/%s has the non-finite value %g at index %d", path, cv.Scope, cv.Name, v, i)
		}
	}
	return header.Step, nil
}

// firstNonFinite finds the first NaN or ±Inf among little-endian float32 or float64 values
// (other dtypes are not checked).
func firstNonFinite(dt dtypes.DType, b []byte) (int, float64, bool) {
	switch dt {
	case dtypes.Float32:
		for i := 0; 4*i+4 <= len(b); i++ {
			if v := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))); math.IsNaN(v) || math.IsInf(v, 0) {
				return i, v, true
			}
		}
	case dtypes.Float64:
		for i := 0; 8*i+8 <= len(b); i++ {
			if v := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])); math.IsNaN(v) || math.IsInf(v, 0) {
				return i, v, true
			}
		}
	}
	return 0, 0, false
}

// ResumeCheckpoint returns the newest checkpoint in dir that verifies (see VerifyCheckpoint) and
// its step, or "" and 0 when dir has none. Newer checkpoints that fail verification are renamed
// to NAME.corrupt (kept for inspection, out of the way of later saves and pruning), and skipped
// has one line per such file saying why. A dir whose checkpoints all fail is an error naming them.
func ResumeCheckpoint(dir string) (path string, step int, skipped []string, err error) {
	path, step, bad, err := peekResumeCheckpoint(dir)
	if err != nil {
		return "", 0, nil, err
	}
	for _, b := range bad {
		note := "skipped " + b.path + " (" + b.why + ")"
		if rerr := os.Rename(b.path, b.path+".corrupt"); rerr == nil {
			note += ", moved to " + filepath.Base(b.path) + ".corrupt"
		}
		skipped = append(skipped, note)
	}
	return path, step, skipped, nil
}

// badCheckpoint is a checkpoint that failed verification, and why.
type badCheckpoint struct{ path, why string }

// peekResumeCheckpoint is ResumeCheckpoint without renaming anything: the newest checkpoint that
// verifies, and the newer ones that do not.
func peekResumeCheckpoint(dir string) (string, int, []badCheckpoint, error) {
	paths, _, err := ListCheckpoints(dir)
	if err != nil {
		return "", 0, nil, err
	}
	var bad []badCheckpoint
	for i := len(paths) - 1; i >= 0; i-- {
		step, verr := VerifyCheckpoint(paths[i])
		if verr == nil {
			slices.Reverse(bad) // oldest first
			return paths[i], step, bad, nil
		}
		bad = append(bad, badCheckpoint{paths[i], strings.TrimPrefix(verr.Error(), "checkpoint "+paths[i]+": ")})
	}
	if len(bad) == 0 {
		return "", 0, nil, nil
	}
	slices.Reverse(bad)
	var all []string
	for _, b := range bad {
		all = append(all, b.path+": "+b.why)
	}
	return "", 0, nil, fmt.Errorf("no checkpoint in %s verifies (%s); move them away to start over", dir, strings.Join(all, "; "))
}

// checkpointName is the file name of the checkpoint at a step.
func checkpointName(step int) string { return fmt.Sprintf("checkpoint-%09d.bin", step) }

// ListCheckpoints returns the checkpoints in dir, oldest first, with their steps.
func ListCheckpoints(dir string) (paths []string, steps []int, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "checkpoint-") || !strings.HasSuffix(name, ".bin") {
			continue
		}
		step, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "checkpoint-"), ".bin"))
		if err != nil {
			continue
		}
		paths = append(paths, filepath.Join(dir, name))
		steps = append(steps, step)
	}
	return paths, steps, nil // ReadDir sorts by name; zero-padded steps sort numerically
}

// LatestCheckpoint returns the newest checkpoint in dir, or "" if there is none.
func LatestCheckpoint(dir string) string {
	paths, _, _ := ListCheckpoints(dir)
	if len(paths) == 0 {
		return ""
	}
	return paths[len(paths)-1]
}

// pruneCheckpoints removes the oldest checkpoints of dir until keep remain, never removing one
// of the steps in kept.
func pruneCheckpoints(dir string, keep int, kept []int) {
	paths, steps, _ := ListCheckpoints(dir)
	var prunable []string
	for i, p := range paths {
		if !slices.Contains(kept, steps[i]) {
			prunable = append(prunable, p)
		}
	}
	for len(prunable) > keep {
		_ = os.Remove(prunable[0])
		prunable = prunable[1:]
	}
}

// KeptCheckpoints returns the checkpoints of dir at the given steps that exist, with their
// steps, in step order.
func KeptCheckpoints(dir string, steps []int) (paths []string, at []int) {
	all, allSteps, _ := ListCheckpoints(dir)
	for i, p := range all {
		if slices.Contains(steps, allSteps[i]) {
			paths, at = append(paths, p), append(at, allSteps[i])
		}
	}
	return paths, at
}
