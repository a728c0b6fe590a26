package dynamics

import (
	"fmt"
	"math"
	"sort"
)

// SummaryInput collects the results the paper's claims are checked on; nil parts are skipped.
type SummaryInput struct {
	Convergence *ConvergenceResult
	Speed       *SpeedResult
	// Boundaries are the phase boundaries (package convention) for the speed test.
	Boundaries   []int
	Permutations int    // default 10000
	Seed         uint64 // for the permutation test
	// Alpha is the significance level of the boundary test (default 0.05).
	Alpha   float64
	Updates *UpdateFieldResult
	// RankScope is the scope whose stable rank is judged (default ScopeAll); coherence is
	// judged on ScopePatches.
	RankScope Scope
	// PatchPerturbed is a run that perturbed the patches (or all tokens); CLSPerturbed one that
	// perturbed the CLS token (or all tokens; the same result may be passed twice).
	PatchPerturbed, CLSPerturbed *SelfCorrectionResult
}

// Summary holds one verdict per claim of the paper's section 7, each with the numbers that
// decided it. "Early", "middle" and "late" are the first, second and last thirds of the layers
// (or steps) of the curve, by position: for n points, [0, n/3), [n/3, 2n/3), [2n/3, n) rounded.
type Summary struct {
	Convergence     []ConvergenceClaim
	SpeedBoundaries []BoundaryClaim
	StableRank      *RankClaim
	Coherence       *CoherenceClaim
	SelfCorrection  *SelfCorrectionClaim
}

// ConvergenceClaim: "γ rises to 1 along depth". Holds when the mean γ is rank-correlated with
// depth (Spearman ≥ 0.8), γ at L−1 exceeds γ at 0, and γ at L is 1.
type ConvergenceClaim struct {
	Scope                      Scope
	First, Middle, Penultimate float64 // mean γ at layers 0, L/2 and L−1
	Final                      float64 // mean γ at L (1 by definition)
	Spearman                   float64 // rank correlation of mean γ with layer index
	IncreasingFraction         float64 // fraction of steps where mean γ increases
	Holds                      bool
	// Shape tests the paper's S-curve: the mean γ against l fitted by a logistic, a line and a
	// parabola (SigmoidTest); nil with fewer than 7 layers. SShaped = Shape.SShaped.
	Shape   *ShapeTest
	SShaped bool
}

// BoundaryClaim: "speed jumps at phase boundaries". Holds when Score > 1 and P < Alpha.
type BoundaryClaim struct {
	Scope Scope
	Test  BoundaryTestResult
	Holds bool
}

// RankClaim: "the update field becomes low rank late". LateLowest: late < early and late < middle
// (mean stable rank over images and steps of each third). RiseThenFall: middle > early and
// late < middle (the journal-club wording).
type RankClaim struct {
	Scope               Scope
	Early, Middle, Late float64
	// CenteredEarly, CenteredMiddle, CenteredLate: the same thirds of the centred stable rank
	// (the update minus its mean over the scope's tokens), NaN when not measured. A coherent field
	// has an uncentred rank near 1 whatever its token-to-token structure; the centred rank is that
	// structure.
	CenteredEarly, CenteredMiddle, CenteredLate float64
	LateMin                                     float64 // smallest per-step mean stable rank in the late third
	LateLowest, RiseThenFall                    bool
}

// CoherenceClaim: "patch coherence rises late". Holds when the late-third mean pairwise coherence
// exceeds both earlier thirds; the mean-direction coherence is reported alongside.
type CoherenceClaim struct {
	Early, Middle, Late                float64 // pairwise κ
	ToMeanEarly, ToMeanMid, ToMeanLate float64 // cosine with the mean update
	Holds                              bool
}

// SelfCorrectionClaim: "a patch perturbed early ends farther than one perturbed late, while CLS is
// the opposite". Numbers are mean relative final deviations ‖f′−f‖/‖f‖ of the perturbed group over
// the early and late thirds of the perturbation layers, excluding the final layer (where nothing
// runs and the deviation is ε by construction).
type SelfCorrectionClaim struct {
	Epsilon               float64
	PatchEarly, PatchLate float64
	CLSEarly, CLSLate     float64
	PatchEarlyFarther     bool
	CLSLateFarther        bool
	Holds                 bool
	// PatchAngular and CLSAngular judge the same claim by angle, which norm growth alone does not
	// shrink, plus the per-block angular contraction (nil without RunPath measurements).
	PatchAngular, CLSAngular *AngularCorrection
	// AngularHolds: the claim holds by final angle (patch early farther, CLS late farther).
	AngularHolds bool
}

// AngularCorrection summarises the angular self-correction of one perturbed token group.
type AngularCorrection struct {
	Scope Scope
	// FinalEarly and FinalLate are the mean final angles ∠(f′, f) (radians) for perturbations in
	// the early and late thirds of the perturbation layers, the final layer excluded.
	FinalEarly, FinalLate float64
	// ContractionEarly, …Middle, …Late: mean over the blocks of each third of the per-block
	// angular contraction θ_{l+1}/θ_l (mean over images).
	ContractionEarly, ContractionMiddle, ContractionLate float64
	// Blocks measured; Contracting and Expanding count the blocks whose 95% interval over images
	// lies entirely below 1 and above 1.
	Blocks, Contracting, Expanding int
}

// Summarize checks the paper's claims on the given results.
func Summarize(in SummaryInput) (Summary, error) {
	var s Summary
	if in.Permutations <= 0 {
		in.Permutations = 10000
	}
	if in.Alpha <= 0 {
		in.Alpha = 0.05
	}
	if in.Convergence != nil {
		for _, g := range in.Convergence.Groups {
			m := g.Means()
			n := len(m)
			if n < 2 {
				continue
			}
			c := ConvergenceClaim{Scope: g.Scope, First: m[0], Middle: m[(n-1)/2], Penultimate: m[n-2], Final: m[n-1]}
			c.Spearman = spearman(g.X(), m)
			up := 0
			for i := 0; i+1 < n; i++ {
				if m[i+1] > m[i] {
					up++
				}
			}
			c.IncreasingFraction = float64(up) / float64(n-1)
			c.Holds = c.Spearman >= 0.8 && c.Penultimate > c.First && math.Abs(c.Final-1) < 1e-6
			if n >= 7 {
				sh, err := SigmoidTest(g.X(), m)
				if err != nil {
					return s, fmt.Errorf("dynamics: summary: convergence of %v: %w", g.Scope, err)
				}
				c.Shape, c.SShaped = &sh, sh.SShaped
			}
			s.Convergence = append(s.Convergence, c)
		}
	}
	if in.Speed != nil && len(in.Boundaries) > 0 {
		for _, g := range in.Speed.Groups {
			t, err := BoundaryTest(g.Means(), in.Boundaries, in.Permutations, in.Seed)
			if err != nil {
				return s, fmt.Errorf("dynamics: summary: speed of %v: %w", g.Scope, err)
			}
			s.SpeedBoundaries = append(s.SpeedBoundaries, BoundaryClaim{Scope: g.Scope, Test: t, Holds: t.Score > 1 && t.P < in.Alpha})
		}
	}
	if in.Updates != nil {
		scope := in.RankScope
		if scope == ScopeCLS { // the zero value: CLS alone has rank 1, so default to all tokens
			scope = ScopeAll
		}
		if r, ok := in.Updates.Rank(scope); ok && len(r.Stats) >= 3 {
			m := r.Means()
			e, mid, l := thirdMeans(m)
			c := RankClaim{Scope: scope, Early: e, Middle: mid, Late: l, LateMin: math.Inf(1),
				CenteredEarly: math.NaN(), CenteredMiddle: math.NaN(), CenteredLate: math.NaN()}
			if cr, ok := in.Updates.CenteredRank(scope); ok && len(cr.Stats) == len(m) {
				c.CenteredEarly, c.CenteredMiddle, c.CenteredLate = thirdMeans(cr.Means())
			}
			_, c2 := thirds(len(m))
			for _, v := range m[c2:] {
				c.LateMin = math.Min(c.LateMin, v)
			}
			c.LateLowest = l < e && l < mid
			c.RiseThenFall = mid > e && l < mid
			s.StableRank = &c
		}
		p, ok1 := in.Updates.Pairwise(ScopePatches)
		q, ok2 := in.Updates.ToMean(ScopePatches)
		if ok1 && ok2 && len(p.Stats) >= 3 {
			var c CoherenceClaim
			c.Early, c.Middle, c.Late = thirdMeans(p.Means())
			c.ToMeanEarly, c.ToMeanMid, c.ToMeanLate = thirdMeans(q.Means())
			c.Holds = c.Late > c.Early && c.Late > c.Middle
			s.Coherence = &c
		}
	}
	if in.PatchPerturbed != nil && in.CLSPerturbed != nil {
		c := SelfCorrectionClaim{Epsilon: in.PatchPerturbed.Epsilon}
		var err error
		if c.PatchEarly, c.PatchLate, err = earlyLateDeviation(in.PatchPerturbed, ScopePatches); err != nil {
			return s, err
		}
		if c.CLSEarly, c.CLSLate, err = earlyLateDeviation(in.CLSPerturbed, ScopeCLS); err != nil {
			return s, err
		}
		c.PatchEarlyFarther = c.PatchEarly > c.PatchLate
		c.CLSLateFarther = c.CLSLate > c.CLSEarly
		c.Holds = c.PatchEarlyFarther && c.CLSLateFarther
		c.PatchAngular, err = angularCorrection(in.PatchPerturbed, ScopePatches)
		if err != nil {
			return s, err
		}
		c.CLSAngular, err = angularCorrection(in.CLSPerturbed, ScopeCLS)
		if err != nil {
			return s, err
		}
		if c.PatchAngular != nil && c.CLSAngular != nil {
			c.AngularHolds = c.PatchAngular.FinalEarly > c.PatchAngular.FinalLate && c.CLSAngular.FinalLate > c.CLSAngular.FinalEarly
		}
		s.SelfCorrection = &c
	}
	return s, nil
}

func earlyLateDeviation(r *SelfCorrectionResult, sc Scope) (early, late float64, err error) {
	rel, ok := r.Rel(sc)
	if !ok {
		return 0, 0, fmt.Errorf("dynamics: summary: self-correction result has no %v group", sc)
	}
	var m []float64
	for i, l := range rel.Layers {
		if l != r.FinalLayer {
			m = append(m, rel.Stats[i].Mean)
		}
	}
	if len(m) < 3 {
		return 0, 0, fmt.Errorf("dynamics: summary: self-correction needs at least 3 perturbation layers before the last, has %d", len(m))
	}
	e, _, l := thirdMeans(m)
	return e, l, nil
}

// angularCorrection summarises the angular deviation of the perturbed group sc; nil when the
// result has no contraction measurements for it.
func angularCorrection(r *SelfCorrectionResult, sc Scope) (*AngularCorrection, error) {
	cs, ok := r.ContractionOf(sc)
	if !ok {
		return nil, nil
	}
	ang, ok := r.Ang(sc)
	if !ok {
		return nil, fmt.Errorf("dynamics: summary: self-correction result has no %v angle", sc)
	}
	var fin []float64
	for i, l := range ang.Layers {
		if l != r.FinalLayer {
			fin = append(fin, ang.Stats[i].Mean)
		}
	}
	if len(fin) < 3 || len(cs.Ratio) < 3 {
		return nil, fmt.Errorf("dynamics: summary: angular self-correction needs at least 3 perturbation layers before the last, has %d", len(fin))
	}
	a := AngularCorrection{Scope: sc, Blocks: len(cs.Ratio)}
	a.FinalEarly, _, a.FinalLate = thirdMeans(fin)
	means := make([]float64, len(cs.Ratio))
	for i, iv := range cs.Ratio {
		means[i] = iv.Mean
		if iv.Hi < 1 {
			a.Contracting++
		}
		if iv.Lo > 1 {
			a.Expanding++
		}
	}
	a.ContractionEarly, a.ContractionMiddle, a.ContractionLate = thirdMeans(means)
	return &a, nil
}

// thirds returns the cut points of n positions into three near-equal parts.
func thirds(n int) (c1, c2 int) {
	return int(math.Round(float64(n) / 3)), int(math.Round(2 * float64(n) / 3))
}

func thirdMeans(v []float64) (early, middle, late float64) {
	c1, c2 := thirds(len(v))
	return meanOf(v[:c1]), meanOf(v[c1:c2]), meanOf(v[c2:])
}

func meanOf(v []float64) float64 {
	var s float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// spearman is the rank correlation of x and y (average ranks for ties).
func spearman(x, y []float64) float64 {
	rx, ry := ranks(x), ranks(y)
	return pearson(rx, ry)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j) / 2
		}
		i = j + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	mx, my := meanOf(x), meanOf(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}
