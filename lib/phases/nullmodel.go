package phases

import (
	"fmt"
	"math"
)

// BlockIndex is the mean dissimilarity of pairs inside the same phase divided by the mean
// dissimilarity of pairs in different phases (pairs i<j, diagonal excluded). LOWER IS MORE
// BLOCK-LIKE: 0 means every phase is internally identical, 1 means phases are no more alike
// inside than across. It needs at least one phase with two members and at least two phases.
func BlockIndex(w [][]float64, p Partition) (float64, error) {
	if err := checkPartition(w, p); err != nil {
		return 0, err
	}
	lab := p.Labels()
	var in, out float64
	var nIn, nOut int
	for i := range lab {
		for j := i + 1; j < len(lab); j++ {
			if lab[i] == lab[j] {
				in += w[i][j]
				nIn++
			} else {
				out += w[i][j]
				nOut++
			}
		}
	}
	if nIn == 0 || nOut == 0 {
		return 0, fmt.Errorf("phases: block index of %s needs a phase of ≥ 2 layers and ≥ 2 phases", p)
	}
	return (in / float64(nIn)) / (out / float64(nOut)), nil
}

// SmoothDrift is the null model of a network whose representation drifts smoothly with depth
// and has no blocks: every diagonal of w (all entries with the same |i−j|) is replaced by its
// mean. Its dissimilarity depends only on the distance in depth.
func SmoothDrift(w [][]float64) [][]float64 {
	n := len(w)
	m := newSquare(n)
	for d := 1; d < n; d++ {
		s := 0.0
		for i := 0; i+d < n; i++ {
			s += w[i][i+d] + w[i+d][i]
		}
		mean := s / float64(2*(n-d))
		for i := 0; i+d < n; i++ {
			m[i][i+d], m[i+d][i] = mean, mean
		}
	}
	return m
}

// NullComparison compares a partition's block index on W with the same partition on the
// smooth-drift null model. Contiguous phases look block-like even on a smoothly drifting network
// (pairs inside a phase are closer in depth), so the evidence for blocks is Ratio < 1.
type NullComparison struct {
	Index      float64 // BlockIndex(W, p)
	DriftIndex float64 // BlockIndex(SmoothDrift(W), p)
	Ratio      float64 // Index / DriftIndex; below 1 = more block-like than smooth drift
}

// CompareToDrift computes the NullComparison of p on w.
func CompareToDrift(w [][]float64, p Partition) (NullComparison, error) {
	idx, err := BlockIndex(w, p)
	if err != nil {
		return NullComparison{}, err
	}
	drift, err := BlockIndex(SmoothDrift(w), p)
	if err != nil {
		return NullComparison{}, err
	}
	return NullComparison{Index: idx, DriftIndex: drift, Ratio: idx / drift}, nil
}

// Boundary describes the jump in adjacent-layer dissimilarity at one phase boundary.
type Boundary struct {
	After      int     // the boundary lies between rows After−1 and After (a Thresholds entry)
	Jump       float64 // W[After−1][After], the dissimilarity across the boundary
	Inside     float64 // mean W[i][i+1] over adjacent pairs inside the two phases that meet here (NaN if both are single layers)
	Ratio      float64 // Jump / Inside; above 1 = a sharper change than within the neighbouring phases
	Difference float64 // Jump − Inside
}

// BoundaryStrengths returns one Boundary per boundary of a contiguous partition.
func BoundaryStrengths(w [][]float64, p Partition) ([]Boundary, error) {
	if err := checkPartition(w, p); err != nil {
		return nil, err
	}
	th, err := p.Thresholds()
	if err != nil {
		return nil, err
	}
	out := make([]Boundary, len(th))
	for b, t := range th {
		s, cnt := 0.0, 0
		for _, ph := range p[b : b+2] {
			for x := 0; x+1 < len(ph); x++ {
				s += w[ph[x]][ph[x+1]]
				cnt++
			}
		}
		inside := math.NaN()
		if cnt > 0 {
			inside = s / float64(cnt)
		}
		jump := w[t-1][t]
		out[b] = Boundary{After: t, Jump: jump, Inside: inside, Ratio: jump / inside, Difference: jump - inside}
	}
	return out, nil
}
