package phases

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Partition is a partition of the rows 0..n-1 of a dissimilarity matrix into phases. Each phase
// is a sorted list of 0-based indices; phases are ordered by their first member (see Canonical).
type Partition [][]int

// K is the number of phases.
func (p Partition) K() int { return len(p) }

// N is the number of elements covered.
func (p Partition) N() int {
	n := 0
	for _, ph := range p {
		n += len(ph)
	}
	return n
}

// Sizes returns the number of layers in each phase (the repeat counts n_j of a block-recurrent
// model when the partition is contiguous).
func (p Partition) Sizes() []int {
	s := make([]int, len(p))
	for i, ph := range p {
		s[i] = len(ph)
	}
	return s
}

// Clone returns a deep copy.
func (p Partition) Clone() Partition {
	q := make(Partition, len(p))
	for i, ph := range p {
		q[i] = slices.Clone(ph)
	}
	return q
}

// Canonical returns a copy with every phase sorted and the phases ordered by their first member.
// Empty phases are dropped.
func (p Partition) Canonical() Partition {
	q := make(Partition, 0, len(p))
	for _, ph := range p {
		if len(ph) == 0 {
			continue
		}
		c := slices.Clone(ph)
		slices.Sort(c)
		q = append(q, c)
	}
	slices.SortFunc(q, func(a, b []int) int { return a[0] - b[0] })
	return q
}

// Validate checks that p is a partition of 0..n-1: no empty phase, no index out of range, every
// index exactly once.
func (p Partition) Validate(n int) error {
	seen := make([]bool, n)
	count := 0
	for j, ph := range p {
		if len(ph) == 0 {
			return fmt.Errorf("partition: phase %d is empty", j)
		}
		for _, i := range ph {
			if i < 0 || i >= n {
				return fmt.Errorf("partition: index %d in phase %d is outside 0..%d", i, j, n-1)
			}
			if seen[i] {
				return fmt.Errorf("partition: index %d appears twice", i)
			}
			seen[i] = true
			count++
		}
	}
	if count != n {
		return fmt.Errorf("partition: covers %d of %d indices", count, n)
	}
	return nil
}

// Labels returns, for each index 0..n-1, the phase it belongs to (n = p.N()). It panics if p is
// not a partition of 0..n-1.
func (p Partition) Labels() []int {
	n := p.N()
	if err := p.Validate(n); err != nil {
		panic(err)
	}
	lab := make([]int, n)
	for j, ph := range p {
		for _, i := range ph {
			lab[i] = j
		}
	}
	return lab
}

// IsContiguous reports whether every phase is a run of consecutive indices and the phases,
// in order, cover 0..n-1 left to right.
func (p Partition) IsContiguous() bool {
	next := 0
	for _, ph := range p {
		for _, i := range ph {
			if i != next {
				return false
			}
			next++
		}
	}
	return true
}

// Thresholds returns, for a contiguous partition, the boundary positions: for each phase but the
// last, the number of layers up to and including it. For "1-7 8-10 11-12" that is [7, 10]: the
// 1-based last layer of each phase but the last, which is also the 0-based first index of the
// following phase. These are the `thresholds` of the released Raptor trainer and what
// figures.HeatmapOptions.Boundaries expects. It returns an error if p is not contiguous.
func (p Partition) Thresholds() ([]int, error) {
	if !p.IsContiguous() {
		return nil, fmt.Errorf("partition %s is not contiguous", p)
	}
	var t []int
	end := 0
	for j, ph := range p {
		end += len(ph)
		if j < len(p)-1 {
			t = append(t, end)
		}
	}
	return t, nil
}

// FromThresholds builds the contiguous partition of 0..n-1 whose boundaries are thresholds
// (strictly increasing, each in 1..n-1); see Partition.Thresholds.
func FromThresholds(thresholds []int, n int) (Partition, error) {
	prev := 0
	var p Partition
	for _, t := range append(slices.Clone(thresholds), n) {
		if t <= prev || t > n {
			return nil, fmt.Errorf("thresholds %v: not strictly increasing within 1..%d", thresholds, n-1)
		}
		p = append(p, seq(prev, t))
		prev = t
	}
	return p, nil
}

// FromSizes builds the contiguous partition with the given phase sizes, in order.
func FromSizes(sizes []int) (Partition, error) {
	var p Partition
	start := 0
	for _, s := range sizes {
		if s <= 0 {
			return nil, fmt.Errorf("sizes %v: every size must be positive", sizes)
		}
		p = append(p, seq(start, start+s))
		start += s
	}
	return p, nil
}

// seq returns [from, from+1, ..., to-1].
func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// String writes the partition 1-indexed: phases separated by single spaces, each phase as its runs
// of consecutive indices separated by commas, a run as "a-b" (inclusive) or "a" for a single
// index. A contiguous partition reads "1-7 8-10 11-12"; a non-contiguous one "1,3-4 2,5".
func (p Partition) String() string {
	parts := make([]string, len(p))
	for j, ph := range p {
		var runs []string
		for i := 0; i < len(ph); {
			k := i
			for k+1 < len(ph) && ph[k+1] == ph[k]+1 {
				k++
			}
			if k == i {
				runs = append(runs, strconv.Itoa(ph[i]+1))
			} else {
				runs = append(runs, fmt.Sprintf("%d-%d", ph[i]+1, ph[k]+1))
			}
			i = k + 1
		}
		parts[j] = strings.Join(runs, ",")
	}
	return strings.Join(parts, " ")
}

// ParsePartition reads the String form back ("1-7 8-10 11-12", "1,3-4 2,5"; 1-indexed,
// inclusive) into a canonical 0-based Partition. It does not check that the result covers any
// particular range; use Validate.
func ParsePartition(s string) (Partition, error) {
	var p Partition
	for _, field := range strings.Fields(s) {
		var ph []int
		for _, run := range strings.Split(field, ",") {
			a, b, isRange := strings.Cut(run, "-")
			lo, err := strconv.Atoi(a)
			if err != nil {
				return nil, fmt.Errorf("partition %q: bad index %q", s, a)
			}
			hi := lo
			if isRange {
				if hi, err = strconv.Atoi(b); err != nil {
					return nil, fmt.Errorf("partition %q: bad index %q", s, b)
				}
			}
			if lo < 1 || hi < lo {
				return nil, fmt.Errorf("partition %q: bad run %q (1-indexed, a-b with a <= b)", s, run)
			}
			for i := lo; i <= hi; i++ {
				ph = append(ph, i-1)
			}
		}
		p = append(p, ph)
	}
	return p.Canonical(), nil
}
