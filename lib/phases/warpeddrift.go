package phases

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/optimize"
)

// This file holds the warped-drift null model: a block-free network whose representation moves
// along a 1-D path at a speed that may change smoothly with depth. See the package doc, section
// "Phases or drift", for what the test can and cannot tell.

// Defaults of NullOptions.
const (
	// DefaultMaxCurvature bounds |Δ² log speed| per layer² of the null's speed profile: a speed
	// bump of the null is no narrower than a Gaussian of σ = 1/√0.5 ≈ 1.4 layers.
	DefaultMaxCurvature = 0.5
	// DefaultSpeedDegree is the degree of the null's log-speed polynomial in depth.
	DefaultSpeedDegree = 3
	// DefaultNullReplicates is the number of parametric-bootstrap replicates of the test.
	DefaultNullReplicates = 199
	// DefaultNullAlpha is the level below which the test calls the matrix blocks.
	DefaultNullAlpha = 0.05
)

// WarpedDriftFit is a fitted 1-D warped drift, W_ij ≈ F(|Tau_i − Tau_j|) with F non-decreasing
// (an isotonic regression) and Tau non-decreasing with Tau[0] = 0 and Tau[n−1] = 1.
type WarpedDriftFit struct {
	Tau []float64 // positions of the n layers along the path
	// Speed[m] = Tau[m+1] − Tau[m] is the step from row m to row m+1, jumps included.
	Speed []float64
	// Coefficients of the smooth log-speed, log s(u) = Σ_k Coef[k−1]·P_k(u) with P_k the Legendre
	// polynomials and u ∈ [−1, 1] the position of the step along depth (the level is free: F
	// absorbs the scale of Tau).
	Coef []float64
	// Thresholds where a jump is added to the smooth path (the step from row t−1 to row t),
	// and the jumps, in units of the mean smooth step. Empty for the null itself.
	Thresholds []int
	Jumps      []float64
	Fitted     [][]float64 // F(|Tau_i − Tau_j|), zero diagonal
	RSS        float64     // Σ_{i<j} (W_ij − Fitted_ij)²
	Blocks     int         // pooled blocks of the isotonic F (its degrees of freedom)
	R2         float64     // 1 − RSS / Σ_{i<j} (W_ij − mean)²
}

// NullOptions configures WarpedDriftNull. Zero fields take the defaults above.
type NullOptions struct {
	K            int     // phases of the alternative (K−1 jumps); at least 2
	MaxCurvature float64 // bound on |Δ² log speed| per layer² (DefaultMaxCurvature)
	Degree       int     // degree of the log-speed polynomial (DefaultSpeedDegree), 1..5
	Replicates   int     // bootstrap replicates (DefaultNullReplicates)
	Alpha        float64 // level of the verdict (DefaultNullAlpha)
	Seed         uint64  // seed of the bootstrap
}

func (o NullOptions) withDefaults() NullOptions {
	if o.MaxCurvature == 0 {
		o.MaxCurvature = DefaultMaxCurvature
	}
	if o.Degree == 0 {
		o.Degree = DefaultSpeedDegree
	}
	if o.Replicates == 0 {
		o.Replicates = DefaultNullReplicates
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultNullAlpha
	}
	return o
}

// NullTest is the result of WarpedDriftNull.
type NullTest struct {
	K    int
	Null *WarpedDriftFit // the block-free, smooth-speed warped drift fitted to W
	Jump *WarpedDriftFit // the same with K−1 free jumps at Partition's boundaries
	// Partition is the contiguous K-phase max-cut of W (where the jumps go); NullPartition is the
	// contiguous K-phase max-cut re-optimised on the null's fitted matrix.
	Partition, NullPartition Partition
	// Index = BlockIndex(W, Partition) and NullIndex = BlockIndex(Null.Fitted, NullPartition):
	// the block index of the data and of the null, each with its own optimal phases.
	Index, NullIndex float64
	// Stat is the localised-jump statistic 1 − Jump.RSS/Null.RSS: the share of the null's
	// residual that K−1 jumps at the phase boundaries remove.
	Stat float64
	// P is the parametric-bootstrap p-value (1 + #{Stat* ≥ Stat}) / (Replicates + 1), where each
	// replicate is Null.Fitted plus the null's residuals resampled with replacement and the whole
	// procedure (null fit, partition, jump fit) is rerun on it.
	P              float64
	ReplicateStats []float64 // Stat of each bootstrap replicate
	Replicates     int
	Alpha          float64
	Blocks         bool // P < Alpha: localised jumps beyond what a smooth speed profile explains
}

// Verdict is "blocks" or "drift".
func (t *NullTest) Verdict() string {
	if t.Blocks {
		return "blocks"
	}
	return "drift"
}

// String is the one-line summary printed by `blockrec phases --null`.
func (t *NullTest) String() string {
	return fmt.Sprintf("null: %s stat=%.4g p=%.4g", t.Verdict(), t.Stat, t.P)
}

// WarpedDriftNull tests whether W has phases beyond a block-free drift. The null hypothesis is
// a 1-D warped drift W_ij = F(|τ_i − τ_j|) + noise with F non-decreasing and a smooth, positive
// speed profile τ_{m+1} − τ_m (log-speed a polynomial of degree opts.Degree whose second
// difference is at most opts.MaxCurvature in absolute value); the alternative adds K−1 free
// jumps to τ at the boundaries of the K contiguous max-cut phases. See NullTest for the
// statistic and p-value.
func WarpedDriftNull(w [][]float64, opts NullOptions) (*NullTest, error) {
	if err := ValidateMatrix(w); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	n := len(w)
	switch {
	case o.K < 2:
		return nil, fmt.Errorf("phases: the drift null needs K ≥ 2 phases, got %d", o.K)
	case o.K > n-1:
		return nil, fmt.Errorf("phases: the drift null needs K ≤ n−1 = %d phases, got %d", n-1, o.K)
	case n < 4:
		return nil, fmt.Errorf("phases: the drift null needs at least 4 layers, got %d", n)
	case o.Degree < 1 || o.Degree > 5:
		return nil, fmt.Errorf("phases: log-speed degree %d outside 1..5", o.Degree)
	case !(o.MaxCurvature > 0):
		return nil, fmt.Errorf("phases: max curvature %v must be positive", o.MaxCurvature)
	case o.Replicates < 1:
		return nil, fmt.Errorf("phases: %d bootstrap replicates", o.Replicates)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return nil, fmt.Errorf("phases: alpha %v outside (0, 1)", o.Alpha)
	}
	st, err := jumpStatistic(w, o)
	if err != nil {
		return nil, err
	}
	res := &NullTest{K: o.K, Null: st.null, Jump: st.jump, Partition: st.part, Stat: st.stat,
		Replicates: o.Replicates, Alpha: o.Alpha}
	if res.Index, err = BlockIndex(w, st.part); err != nil {
		return nil, err
	}
	np, err := Contiguous(st.null.Fitted, o.K)
	if err != nil {
		return nil, err
	}
	res.NullPartition = np.Partition
	res.NullIndex, _ = BlockIndex(st.null.Fitted, np.Partition) // NaN-free: n ≥ 4, K ≤ n−1

	// Residuals of the null, centred, resampled with replacement.
	var resid []float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			resid = append(resid, w[i][j]-st.null.Fitted[i][j])
		}
	}
	mean := 0.0
	for _, r := range resid {
		mean += r
	}
	mean /= float64(len(resid))
	// Inflate by √(N/(N − df)), df = the null's F blocks plus its log-speed coefficients: the
	// fitted residuals are smaller than the noise by the degrees of freedom the fit used.
	inflate := 1.0
	if df := st.null.Blocks + o.Degree; df < len(resid) {
		inflate = math.Sqrt(float64(len(resid)) / float64(len(resid)-df))
	}
	for i := range resid {
		resid[i] = (resid[i] - mean) * inflate
	}
	stats := make([]float64, o.Replicates)
	errs := make([]error, o.Replicates)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), o.Replicates) {
		wg.Go(func() {
			for r := range next {
				rng := rand.New(rand.NewPCG(o.Seed, uint64(r)+1))
				ws := newSquare(n)
				for i := range n {
					for j := i + 1; j < n; j++ {
						v := st.null.Fitted[i][j] + resid[rng.IntN(len(resid))]
						ws[i][j], ws[j][i] = v, v
					}
				}
				s, err := jumpStatistic(ws, o)
				if err != nil {
					errs[r] = err
					continue
				}
				stats[r] = s.stat
			}
		})
	}
	for r := range o.Replicates {
		next <- r
	}
	close(next)
	wg.Wait()
	exceed := 0
	for r, s := range stats {
		if errs[r] != nil {
			return nil, fmt.Errorf("phases: bootstrap replicate %d: %w", r, errs[r])
		}
		if s >= res.Stat-statTolerance { // ties (e.g. both 0 up to rounding) count as exceeding
			exceed++
		}
	}
	res.P = float64(1+exceed) / float64(o.Replicates+1)
	res.ReplicateStats = stats
	res.Blocks = res.P < o.Alpha
	return res, nil
}

// statTolerance is the rounding level of the statistic: below it the jumps remove nothing.
const statTolerance = 1e-9

type jumpStat struct {
	null, jump *WarpedDriftFit
	part       Partition
	stat       float64
}

// jumpStatistic fits the null and the jump model to w and returns the statistic. The jumps go
// where they fit best: the better of the boundaries of the contiguous max-cut of w and those of a
// greedy scan (each jump in turn at the step that most reduces the RSS, its size on a grid).
func jumpStatistic(w [][]float64, o NullOptions) (jumpStat, error) {
	null, err := FitWarpedDrift(w, nil, o.Degree, o.MaxCurvature)
	if err != nil {
		return jumpStat{}, err
	}
	c, err := Contiguous(w, o.K)
	if err != nil {
		return jumpStat{}, err
	}
	th, _ := c.Partition.Thresholds()
	jump, err := fitWarped(w, th, o.Degree, o.MaxCurvature, null.Coef)
	if err != nil {
		return jumpStat{}, err
	}
	gth, gx := greedyJumps(w, null.Coef, o.K-1, o.Degree, o.MaxCurvature)
	if !slices.Equal(gth, th) {
		m := newWarpModel(w, gth, o.Degree, o.MaxCurvature)
		x, f := nelderMead(m.objective, gx, 400*len(gx))
		if f0 := m.objective(gx); f0 < f {
			x, f = gx, f0
		}
		if f < jump.RSS {
			jump = m.fit(x)
		}
	}
	stat := 0.0
	if null.RSS > 0 {
		stat = max(0, 1-jump.RSS/null.RSS)
	}
	if stat < statTolerance {
		stat = 0
	}
	return jumpStat{null: null, jump: jump, part: c.Partition, stat: stat}, nil
}

// greedyJumps places k jumps one at a time on the smooth path of coefficients coef, each at the
// free step and grid size (φ ∈ {0.25, 0.5, …, 4}, jump = φ² mean steps) that most reduces the
// RSS. It returns the sorted thresholds and the parameter vector in their order.
func greedyJumps(w [][]float64, coef []float64, k, degree int, maxCurvature float64) ([]int, []float64) {
	n := len(w)
	var th []int
	phi := map[int]float64{}
	params := func(ts []int) []float64 {
		x := slices.Clone(coef)
		for _, t := range ts {
			x = append(x, phi[t])
		}
		return x
	}
	for range k {
		bestT, bestPhi, bestF := -1, 0.0, math.Inf(1)
		for t := 1; t < n; t++ {
			if slices.Contains(th, t) {
				continue
			}
			ts := append(slices.Clone(th), t)
			slices.Sort(ts)
			m := newWarpModel(w, ts, degree, maxCurvature)
			for g := 1; g <= 16; g++ {
				phi[t] = 0.25 * float64(g)
				if f := m.objective(params(ts)); f < bestF {
					bestT, bestPhi, bestF = t, phi[t], f
				}
			}
			delete(phi, t)
		}
		th = append(th, bestT)
		slices.Sort(th)
		phi[bestT] = bestPhi
	}
	return th, params(th)
}

// FitWarpedDrift fits W_ij ≈ F(|τ_i − τ_j|) by least squares over the pairs i<j: F is
// non-decreasing (the isotonic regression on |τ_i − τ_j|, interpolated linearly between its
// pooled blocks), and τ has a smooth speed profile (log
// speed a Legendre polynomial of the given degree in depth, |Δ² log speed| ≤ maxCurvature per
// layer²) plus a free non-negative jump at each threshold t (between rows t−1 and t; thresholds
// as Partition.Thresholds, none for the null). The fit is a multi-start Nelder–Mead search; it
// is deterministic.
func FitWarpedDrift(w [][]float64, thresholds []int, degree int, maxCurvature float64) (*WarpedDriftFit, error) {
	return fitWarped(w, thresholds, degree, maxCurvature, nil)
}

// fitWarped is FitWarpedDrift with an optional starting log-speed (the null's, for the jump
// model, so that the jump model never fits worse than the null).
func fitWarped(w [][]float64, thresholds []int, degree int, maxCurvature float64, start []float64) (*WarpedDriftFit, error) {
	if err := ValidateMatrix(w); err != nil {
		return nil, err
	}
	n := len(w)
	if n < 3 {
		return nil, fmt.Errorf("phases: a warped drift needs at least 3 layers, got %d", n)
	}
	if degree < 1 || degree > 5 {
		return nil, fmt.Errorf("phases: log-speed degree %d outside 1..5", degree)
	}
	if _, err := FromThresholds(thresholds, n); err != nil {
		return nil, err
	}
	m := newWarpModel(w, thresholds, degree, maxCurvature)
	nj := len(thresholds)
	dim := degree + nj

	// Starting points: log-speed slopes across a grid (per-step log ratio −0.6..0.6), or the
	// given log-speed; jumps J = v̄·φ² from φ = 0 (none), 1 (one mean step) and 2.5.
	var starts [][]float64
	if start != nil {
		for _, phi := range []float64{0, 1, 2.5} {
			x := make([]float64, dim)
			copy(x, start)
			for b := range nj {
				x[degree+b] = phi
			}
			starts = append(starts, x)
		}
	} else {
		steps := float64(n - 1)
		for _, r := range []float64{-0.6, -0.3, -0.1, 0, 0.1, 0.3, 0.6} {
			for _, c := range []float64{-1, 0, 1} {
				x := make([]float64, dim)
				for b := range nj {
					x[degree+b] = 1 // a jump of one mean step (φ = 0 is a stationary point)
				}
				x[0] = r * steps / 2 // P_1(u) = u spans 2 over the steps
				if degree >= 2 {
					x[1] = c * maxCurvature * steps * steps / 24 // P_2'' = 3, u'' per step = (2/steps)²
				}
				starts = append(starts, x)
			}
		}
		// Keep the three best grid points as Nelder–Mead starts.
		slices.SortStableFunc(starts, func(a, b []float64) int {
			fa, fb := m.objective(a), m.objective(b)
			switch {
			case fa < fb:
				return -1
			case fa > fb:
				return 1
			}
			return 0
		})
		starts = starts[:3]
	}
	best, bestF := []float64(nil), math.Inf(1)
	for _, x0 := range starts {
		x, f := nelderMead(m.objective, x0, 400*dim)
		if f < bestF {
			best, bestF = x, f
		}
		if f0 := m.objective(x0); f0 < bestF {
			best, bestF = slices.Clone(x0), f0
		}
	}
	return m.fit(best), nil
}

// nelderMead minimises f from x0 with gonum's Nelder–Mead within maxEval evaluations.
func nelderMead(f func([]float64) float64, x0 []float64, maxEval int) ([]float64, float64) {
	p := optimize.Problem{Func: f}
	res, err := optimize.Minimize(p, x0, &optimize.Settings{
		FuncEvaluations: maxEval,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-10, Iterations: 60},
	}, &optimize.NelderMead{SimplexSize: 0.5})
	_ = err // hitting the evaluation budget is an acceptable stop
	if res == nil {
		return slices.Clone(x0), f(x0)
	}
	// One restart from the result with a fresh simplex, against a collapsed simplex.
	if res2, _ := optimize.Minimize(p, res.X, &optimize.Settings{
		FuncEvaluations: maxEval / 2,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-10, Iterations: 60},
	}, &optimize.NelderMead{SimplexSize: 0.1}); res2 != nil && res2.F < res.F {
		return res2.X, res2.F
	}
	return res.X, res.F
}

// warpModel holds the data of one fit.
type warpModel struct {
	n, degree    int
	maxCurvature float64
	thresholds   []int
	pi, pj       []int     // pairs i<j
	y            []float64 // W_ij of the pairs
	basis        [][]float64
	order        []int     // scratch: pair order by distance
	d            []float64 // scratch: pair distances
	tss          float64
	blocks       int // pooled blocks of the last isotonic fit
}

func newWarpModel(w [][]float64, thresholds []int, degree int, maxCurvature float64) *warpModel {
	n := len(w)
	m := &warpModel{n: n, degree: degree, maxCurvature: maxCurvature, thresholds: thresholds}
	mean := 0.0
	for i := range n {
		for j := i + 1; j < n; j++ {
			m.pi, m.pj, m.y = append(m.pi, i), append(m.pj, j), append(m.y, w[i][j])
			mean += w[i][j]
		}
	}
	mean /= float64(len(m.y))
	for _, v := range m.y {
		m.tss += (v - mean) * (v - mean)
	}
	m.order = make([]int, len(m.y))
	m.d = make([]float64, len(m.y))
	// Legendre P_1..P_degree at the step positions u_s ∈ [−1, 1], s = 0..n−2.
	steps := n - 1
	m.basis = make([][]float64, steps)
	for s := range steps {
		u := 0.0
		if steps > 1 {
			u = 2*float64(s)/float64(steps-1) - 1
		}
		row := make([]float64, degree)
		p0, p1 := 1.0, u
		for k := 1; k <= degree; k++ {
			row[k-1] = p1
			p0, p1 = p1, (float64(2*k+1)*u*p1-float64(k)*p0)/float64(k+1)
		}
		m.basis[s] = row
	}
	return m
}

// logSpeed returns the smooth log-speed of each step for coefficients x[:degree].
func (m *warpModel) logSpeed(x []float64) []float64 {
	ls := make([]float64, len(m.basis))
	for s, row := range m.basis {
		for k, b := range row {
			ls[s] += x[k] * b
		}
	}
	return ls
}

// tau returns the positions for parameters x, normalised to [0, 1], and the curvature excess.
func (m *warpModel) tau(x []float64) (tau, speed []float64, excess float64) {
	ls := m.logSpeed(x)
	hi := slices.Max(ls)
	speed = make([]float64, len(ls))
	mean := 0.0
	for s, v := range ls {
		speed[s] = math.Exp(v - hi)
		mean += speed[s]
	}
	mean /= float64(len(ls))
	for s := 1; s+1 < len(ls); s++ {
		excess = max(excess, math.Abs(ls[s+1]-2*ls[s]+ls[s-1])-m.maxCurvature)
	}
	for b, t := range m.thresholds {
		phi := x[m.degree+b]
		speed[t-1] += mean * phi * phi
	}
	tau = make([]float64, m.n)
	for s, v := range speed {
		tau[s+1] = tau[s] + v
	}
	total := tau[m.n-1]
	for i := range tau {
		tau[i] /= total
	}
	for s := range speed {
		speed[s] /= total
	}
	return tau, speed, excess
}

// isotonic fits F on the pair distances of tau and returns the fitted value of each pair: the
// isotonic (non-decreasing) regression on the distance, pairs at equal distance pooled first,
// and with interpolate its continuous version (see below).
func (m *warpModel) isotonic(tau []float64, interpolate bool) []float64 {
	for k := range m.y {
		m.d[k] = math.Abs(tau[m.pj[k]] - tau[m.pi[k]])
		m.order[k] = k
	}
	slices.SortFunc(m.order, func(a, b int) int {
		switch {
		case m.d[a] < m.d[b]:
			return -1
		case m.d[a] > m.d[b]:
			return 1
		}
		return a - b
	})
	// Pool pairs at equal distance first (F is a function of the distance), then PAVA.
	type block struct {
		sum, cnt float64
		from, to int // positions in order
	}
	var blocks []block
	for pos := 0; pos < len(m.order); {
		end := pos + 1
		for end < len(m.order) && m.d[m.order[end]]-m.d[m.order[pos]] <= 1e-12 {
			end++
		}
		b := block{from: pos, to: end}
		for q := pos; q < end; q++ {
			b.sum += m.y[m.order[q]]
			b.cnt++
		}
		blocks = append(blocks, b)
		for len(blocks) > 1 {
			l, r := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if l.sum/l.cnt <= r.sum/r.cnt {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{sum: l.sum + r.sum, cnt: l.cnt + r.cnt, from: l.from, to: r.to})
		}
		pos = end
	}
	m.blocks = len(blocks)
	fit := make([]float64, len(m.y))
	if !interpolate {
		for _, b := range blocks {
			v := b.sum / b.cnt
			for q := b.from; q < b.to; q++ {
				fit[m.order[q]] = v
			}
		}
		return fit
	}
	// Interpolate linearly between the pooled blocks' (mean distance, mean value) points, flat
	// beyond the first and last: a continuous, non-decreasing F whose fit moves continuously with
	// τ (the step function of plain isotonic regression depends on the order of the distances
	// only, which leaves the search over τ on plateaus).
	xs, ys := make([]float64, len(blocks)), make([]float64, len(blocks))
	for bi, b := range blocks {
		sd := 0.0
		for q := b.from; q < b.to; q++ {
			sd += m.d[m.order[q]]
		}
		xs[bi], ys[bi] = sd/b.cnt, b.sum/b.cnt
	}
	bi := 0
	for _, k := range m.order { // increasing distance
		d := m.d[k]
		for bi+1 < len(xs) && xs[bi+1] <= d {
			bi++
		}
		switch {
		case d <= xs[0]:
			fit[k] = ys[0]
		case bi+1 >= len(xs):
			fit[k] = ys[len(ys)-1]
		default:
			t := (d - xs[bi]) / (xs[bi+1] - xs[bi])
			fit[k] = ys[bi] + t*(ys[bi+1]-ys[bi])
		}
	}
	return fit
}

// objective is the RSS of parameters x plus a penalty for exceeding the curvature bound.
func (m *warpModel) objective(x []float64) float64 {
	tau, _, excess := m.tau(x)
	fit := m.isotonic(tau, true)
	rss := 0.0
	for k, v := range m.y {
		rss += (v - fit[k]) * (v - fit[k])
	}
	if excess > 0 {
		rss += (m.tss + 1e-12) * (excess + 100*excess*excess)
	}
	return rss
}

// fit builds the WarpedDriftFit of parameters x.
func (m *warpModel) fit(x []float64) *WarpedDriftFit {
	tau, speed, _ := m.tau(x)
	f := m.isotonic(tau, true)
	out := &WarpedDriftFit{Tau: tau, Speed: speed, Coef: slices.Clone(x[:m.degree]),
		Thresholds: slices.Clone(m.thresholds), Fitted: newSquare(m.n), Blocks: m.blocks}
	for b := range m.thresholds {
		phi := x[m.degree+b]
		out.Jumps = append(out.Jumps, phi*phi) // in units of the mean smooth step
	}
	for k, v := range f {
		out.Fitted[m.pi[k]][m.pj[k]], out.Fitted[m.pj[k]][m.pi[k]] = v, v
		out.RSS += (m.y[k] - v) * (m.y[k] - v)
	}
	if m.tss > 0 {
		out.R2 = 1 - out.RSS/m.tss
	}
	return out
}
