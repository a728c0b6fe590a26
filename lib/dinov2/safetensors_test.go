package dinov2

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawSafetensors assembles a file from a header string and data bytes.
func rawSafetensors(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	arrays := map[string]*Array{
		"a":      {Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-8, -7}},
		"b.c":    {Shape: []int{1}, Data: []float32{42}},
		"scalar": {Shape: []int{}, Data: []float32{-1}},
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteSafetensors(path, arrays, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["k"] != "v" {
		t.Errorf("metadata %v", meta)
	}
	if len(got) != len(arrays) {
		t.Fatalf("read %d tensors, wrote %d", len(got), len(arrays))
	}
	for name, want := range arrays {
		g := got[name]
		if g == nil || !sameShape(g.Shape, want.Shape) {
			t.Fatalf("%s: got %+v, want shape %v", name, g, want.Shape)
		}
		for i := range want.Data {
			if g.Data[i] != want.Data[i] {
				t.Errorf("%s[%d] = %g, want %g", name, i, g.Data[i], want.Data[i])
			}
		}
	}
}

// TestSafetensorsDTypes decodes hand-encoded F16, BF16 and F64 values.
func TestSafetensorsDTypes(t *testing.T) {
	f16 := []uint16{0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000} // 1, -2, ~1/3, 2^-24, 65504, -0
	f16Want := []float32{1, -2, 0.333251953125, float32(math.Ldexp(1, -24)), 65504, 0}
	bf16 := []uint16{0x3f80, 0xc040, 0x3eab} // 1, -3, 0.333984375
	bf16Want := []float32{1, -3, 0.333984375}
	var data []byte
	for _, v := range f16 {
		data = binary.LittleEndian.AppendUint16(data, v)
	}
	for _, v := range bf16 {
		data = binary.LittleEndian.AppendUint16(data, v)
	}
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(0.1))
	header := `{"h":{"dtype":"F16","shape":[6],"data_offsets":[0,12]},` +
		`"b":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]},` +
		`"d":{"dtype":"F64","shape":[1],"data_offsets":[18,26]}}`
	got, _, err := ParseSafetensors("mem", rawSafetensors(header, data))
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, want []float32) {
		for i, w := range want {
			if got[name].Data[i] != w {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[name].Data[i], w)
			}
		}
	}
	check("h", f16Want)
	check("b", bf16Want)
	check("d", []float32{0.1})
}

// TestSafetensorsErrors: every malformed file is refused with an error naming the file and, for
// tensor-level problems, the tensor.
func TestSafetensorsErrors(t *testing.T) {
	good := rawSafetensors(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8))
	cases := []struct {
		name  string
		file  []byte
		wants []string
	}{
		{"short", []byte{1, 2, 3}, []string{"truncated"}},
		{"header past end", good[:20], []string{"truncated", "header length"}},
		{"data cut", good[:len(good)-3], []string{`"w"`, "out of range"}},
		{"bad json", rawSafetensors(`{"w":`, nil), []string{"bad JSON header"}},
		{"dtype", rawSafetensors(`{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)), []string{`"w"`, "I64"}},
		{"size mismatch", rawSafetensors(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), []string{`"w"`, "needs 12"}},
		{"reversed offsets", rawSafetensors(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8)), []string{`"w"`, "out of range"}},
		{"unknown field", rawSafetensors(`{"w":{"dtype":"F32","shape":[1],"offsets":[0,4]}}`, make([]byte, 4)), []string{`"w"`, "bad header entry"}},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := ReadSafetensors(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.wants, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
