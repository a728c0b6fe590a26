package dinov2

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// Array is a float32 array read from (or to be written to) a safetensors file: row-major data
// and its shape.
type Array struct {
	Shape []int
	Data  []float32
}

// NewArray allocates a zeroed array of the given shape.
func NewArray(shape ...int) *Array {
	return &Array{Shape: append([]int(nil), shape...), Data: make([]float32, numElements(shape))}
}

// Size is the number of elements the shape holds.
func (a *Array) Size() int { return numElements(a.Shape) }

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxHeaderSize bounds the JSON header (the reference implementation uses 100 MB).
const maxHeaderSize = 100 << 20

// headerEntry is one tensor's description in the JSON header.
type headerEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// dtypeSize is the byte size of the element types the reader converts to float32.
var dtypeSize = map[string]int{"F32": 4, "F16": 2, "BF16": 2, "F64": 8}

// ReadSafetensors reads every tensor of a safetensors file as float32, with the file's
// __metadata__ (nil when absent). Errors name the file and the tensor.
func ReadSafetensors(path string) (map[string]*Array, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	return ParseSafetensors(path, b)
}

// ParseSafetensors decodes a safetensors file held in memory; name is used in error messages.
// Layout: an 8-byte little-endian header length N, N bytes of JSON mapping tensor names to
// {dtype, shape, data_offsets [begin, end)} (offsets relative to the data after the header),
// then the data.
func ParseSafetensors(name string, b []byte) (map[string]*Array, map[string]string, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors %s: %s", name, fmt.Sprintf(format, args...))
	}
	if len(b) < 8 {
		return nil, nil, fail("truncated: %d bytes, too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > maxHeaderSize {
		return nil, nil, fail("header length %d exceeds the %d-byte limit (not a safetensors file?)", n, maxHeaderSize)
	}
	if uint64(len(b)-8) < n {
		return nil, nil, fail("truncated: header length %d but only %d bytes follow", n, len(b)-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, fail("bad JSON header: %v", err)
	}
	data := b[8+n:]
	var meta map[string]string
	arrays := make(map[string]*Array, len(raw))
	var spans []tensorSpan
	for _, key := range sortedKeys(raw) {
		if key == "__metadata__" {
			if err := json.Unmarshal(raw[key], &meta); err != nil {
				return nil, nil, fail("bad __metadata__ (want string values): %v", err)
			}
			continue
		}
		var e headerEntry
		dec := json.NewDecoder(bytes.NewReader(raw[key]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fail("tensor %q: bad header entry: %v", key, err)
		}
		a, err := decodeEntry(e, data)
		if err != nil {
			return nil, nil, fail("tensor %q: %v", key, err)
		}
		arrays[key] = a
		spans = append(spans, tensorSpan{key, e.DataOffsets[0], e.DataOffsets[1]})
	}
	if err := checkSpans(spans, int64(len(data))); err != nil {
		return nil, nil, fail("%v", err)
	}
	return arrays, meta, nil
}

// tensorSpan is where one tensor's bytes lie in the data section.
type tensorSpan struct {
	name       string
	begin, end int64
}

// checkSpans checks that the tensors tile the data section exactly, as the format requires: no
// two overlap, no bytes lie between or after them.
func checkSpans(spans []tensorSpan, size int64) error {
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var at int64
	prev := "the start of the data"
	for _, sp := range spans {
		switch {
		case sp.begin < at:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d) overlap %s (which ends at %d)", sp.name, sp.begin, sp.end, prev, at)
		case sp.begin > at:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d) leave bytes [%d, %d) after %s unused (offsets must be contiguous)", sp.name, sp.begin, sp.end, at, sp.begin, prev)
		}
		at, prev = sp.end, fmt.Sprintf("tensor %q", sp.name)
	}
	if at != size {
		return fmt.Errorf("the data section has %d bytes but its tensors end at %d (%d bytes unaccounted for)", size, at, size-at)
	}
	return nil
}

func decodeEntry(e headerEntry, data []byte) (*Array, error) {
	size, ok := dtypeSize[e.DType]
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q (supported: F32, F16, BF16, F64)", e.DType)
	}
	if len(e.DataOffsets) != 2 {
		return nil, fmt.Errorf("data_offsets has %d values, want 2", len(e.DataOffsets))
	}
	for _, d := range e.Shape {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", e.Shape)
		}
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin || end > int64(len(data)) {
		return nil, fmt.Errorf("data_offsets [%d, %d) out of range: the data section has %d bytes (truncated file?)",
			begin, end, len(data))
	}
	// Count the elements without overflowing: more than the span can hold is already wrong.
	limit := (end - begin) / int64(size)
	count := int64(1)
	if slices.Contains(e.Shape, 0) {
		count = 0
	}
	for _, d := range e.Shape {
		if count == 0 {
			break
		}
		if count > limit/int64(d) {
			count = limit + 1 // too many, whatever the rest of the shape
			break
		}
		count *= int64(d)
	}
	if count > limit || count*int64(size) != end-begin {
		return nil, fmt.Errorf("data_offsets [%d, %d) hold %d bytes, but %s%v needs %s", begin, end, end-begin, e.DType, e.Shape, byteCount(e.Shape, size))
	}
	src := data[begin:end]
	a := &Array{Shape: append([]int{}, e.Shape...), Data: make([]float32, count)}
	for i := range a.Data {
		switch e.DType {
		case "F32":
			a.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		case "F64":
			a.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		case "BF16":
			a.Data[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		case "F16":
			a.Data[i] = halfToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}
	return a, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32 (exactly: every half is a float).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal half: frac·2^-24.
	v := float32(frac) * float32(math.Ldexp(1, -24))
	if sign != 0 {
		v = -v
	}
	return v
}

// EncodeSafetensors serialises arrays as F32 tensors (sorted by name, packed in that order) with
// optional metadata.
func EncodeSafetensors(arrays map[string]*Array, metadata map[string]string) ([]byte, error) {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	names := sortedKeys(arrays)
	for _, name := range names {
		a := arrays[name]
		if a.Size() != len(a.Data) {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v needs %d values, has %d", name, a.Shape, a.Size(), len(a.Data))
		}
		shape := a.Shape
		if shape == nil {
			shape = []int{}
		}
		n := int64(4 * len(a.Data))
		header[name] = headerEntry{DType: "F32", Shape: shape, DataOffsets: []int64{offset, offset + n}}
		offset += n
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("safetensors: encoding header: %w", err)
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := make([]byte, 8, 8+int64(len(h))+offset)
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	for _, name := range names {
		for _, v := range arrays[name].Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out, nil
}

// WriteSafetensors writes arrays (F32) and metadata to path, through a temporary file renamed
// into place so that path is either absent or complete.
func WriteSafetensors(path string, arrays map[string]*Array, metadata map[string]string) error {
	b, err := EncodeSafetensors(arrays, metadata)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeFileAtomic(path, b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; outputs get the permissions of every other file (0644).
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// byteCount is the number of bytes a shape of elements of size bytes needs, exactly (it may not
// fit an int).
func byteCount(shape []int, size int) string {
	n := big.NewInt(int64(size))
	for _, d := range shape {
		n.Mul(n, big.NewInt(int64(d)))
	}
	return n.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
