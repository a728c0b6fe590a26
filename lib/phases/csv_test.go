package phases

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestCSVRoundTrip(t *testing.T) {
	w := randSym(5, 0, 1.1, rand.New(rand.NewPCG(4, 4)))
	var buf bytes.Buffer
	if err := WriteMatrixCSV(&buf, w); err != nil {
		t.Fatal(err)
	}
	back, err := ReadMatrixCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		for j := range w {
			if back[i][j] != w[i][j] {
				t.Fatalf("(%d,%d): %v != %v", i, j, back[i][j], w[i][j])
			}
		}
	}
}

func TestReadAndValidate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0,1\n1,0\n", ""},
		{"0, 1\n 1, 0\n", ""},
		{"0,1,2\n1,0,3\n", "not square"},
		{"0,1\n1\n", "row 2 has 1"},
		{"0,x\n1,0\n", `"x" is not a number`},
		{"0,NaN\nNaN,0\n", "non-finite"},
		{"0,1\n2,0\n", "not symmetric"},
		{"0,1\n1.0000001,0\n", ""}, // within the 1e-6 relative tolerance
		{"", "no rows"},
	} {
		m, err := ReadMatrixCSV(strings.NewReader(tc.in))
		if err == nil {
			err = ValidateMatrix(m)
		}
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}
