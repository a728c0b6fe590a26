package phases

import (
	"slices"
	"strings"
	"testing"
)

func TestPartitionString(t *testing.T) {
	for _, tc := range []struct {
		p          Partition
		want       string
		contiguous bool
		thresholds []int
	}{
		{Partition{{0, 1, 2, 3, 4, 5, 6}, {7, 8, 9}, {10, 11}}, "1-7 8-10 11-12", true, []int{7, 10}},
		{Partition{{0, 1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11}}, "1-7 8-12", true, []int{7}},
		{Partition{{0, 2, 3}, {1, 4}}, "1,3-4 2,5", false, nil},
		{Partition{{0}, {1, 2}, {3}}, "1 2-3 4", true, []int{1, 3}},
		{Partition{{0, 1, 2}}, "1-3", true, nil},
		{Partition{{1, 2}, {0}}, "2-3 1", false, nil},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%v: String %q, want %q", [][]int(tc.p), got, tc.want)
		}
		if tc.p.IsContiguous() != tc.contiguous {
			t.Errorf("%s: IsContiguous = %v", tc.p, !tc.contiguous)
		}
		th, err := tc.p.Thresholds()
		if tc.contiguous {
			if err != nil || !slices.Equal(th, tc.thresholds) {
				t.Errorf("%s: thresholds %v %v, want %v", tc.p, th, err, tc.thresholds)
			}
			back, err := FromThresholds(th, tc.p.N())
			if err != nil || back.String() != tc.want {
				t.Errorf("%s: FromThresholds gives %s %v", tc.p, back, err)
			}
		} else if err == nil {
			t.Errorf("%s: thresholds of a non-contiguous partition", tc.p)
		}
		parsed, err := ParsePartition(tc.want)
		if err != nil || parsed.String() != tc.p.Canonical().String() {
			t.Errorf("ParsePartition(%q) = %s, %v", tc.want, parsed, err)
		}
	}
}

func TestPartitionValidate(t *testing.T) {
	for _, tc := range []struct {
		p    Partition
		n    int
		want string // substring of the error, "" for none
	}{
		{Partition{{0, 1}, {2}}, 3, ""},
		{Partition{{0, 1}, {}}, 2, "empty"},
		{Partition{{0, 1}, {1}}, 2, "twice"},
		{Partition{{0, 3}}, 3, "outside"},
		{Partition{{0}}, 2, "covers 1 of 2"},
	} {
		err := tc.p.Validate(tc.n)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", [][]int(tc.p), err, tc.want)
		}
	}
	for _, bad := range []string{"0-3", "3-1", "a-b", "1-x", "1,,2"} {
		if _, err := ParsePartition(bad); err == nil {
			t.Errorf("ParsePartition(%q) accepted", bad)
		}
	}
	for _, th := range [][]int{{0}, {3, 2}, {5}, {2, 2}} {
		if _, err := FromThresholds(th, 5); err == nil {
			t.Errorf("FromThresholds(%v, 5) accepted", th)
		}
	}
}
