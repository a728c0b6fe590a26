package dynamics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// ShapeFit is one least-squares model of a curve y(x).
type ShapeFit struct {
	Model string
	// Params: linear [a, b] (a + b·x); quadratic [a, b, c] (a + b·x + c·x²); logistic
	// [a, b, x0, w] (a + b/(1 + exp(−(x − x0)/w))).
	Params []float64
	RSS    float64
	// AICc = n·ln(RSS/n) + 2k + 2k(k+1)/(n−k−1), k = len(Params) + 1 (the noise variance).
	AICc float64
}

// ShapeTest asks whether a curve (e.g. the mean direction convergence γ_l against depth l) is
// sigmoidal rather than linear or simply concave/convex, by comparing a logistic with a linear and
// a quadratic least-squares fit by small-sample AIC (Gaussian errors of equal variance).
type ShapeTest struct {
	Points                      int
	Linear, Quadratic, Logistic ShapeFit
	// Inflection (x0) and Width (w) of the logistic fit.
	Inflection, Width float64
	// DeltaAICc = min(AICc linear, AICc quadratic) − AICc logistic: > 0 favours the logistic.
	DeltaAICc float64
	// SShaped: DeltaAICc ≥ 2 and the inflection lies strictly between the second and the
	// penultimate x, so that the data show both the convex and the concave part (a logistic
	// whose inflection lies outside is only a saturating or accelerating curve).
	SShaped bool
}

// SigmoidTest fits the three models to (x, y), x strictly increasing, at least 7 points (the
// logistic's AICc needs n > 6).
func SigmoidTest(x, y []float64) (ShapeTest, error) {
	n := len(x)
	var t ShapeTest
	if len(y) != n {
		return t, fmt.Errorf("dynamics: sigmoid test: %d x values but %d y values", n, len(y))
	}
	if n < 7 {
		return t, fmt.Errorf("dynamics: sigmoid test: %d points, need at least 7", n)
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return t, fmt.Errorf("dynamics: sigmoid test: point %d (%v, %v) is not finite", i, x[i], y[i])
		}
		if i > 0 && x[i] <= x[i-1] {
			return t, fmt.Errorf("dynamics: sigmoid test: x is not strictly increasing at point %d", i)
		}
	}
	t.Points = n
	var tss float64
	my := meanOf(y)
	for _, v := range y {
		tss += (v - my) * (v - my)
	}
	// An exact fit would give ln 0: RSS is floored far below any rounding-level misfit.
	floor := 1e-24*tss + 1e-300
	aicc := func(rss float64, params int) float64 {
		k := float64(params + 1)
		nf := float64(n)
		return nf*math.Log(math.Max(rss, floor)/nf) + 2*k + 2*k*(k+1)/(nf-k-1)
	}
	poly := func(deg int) ShapeFit {
		cols := make([]func(float64) float64, deg+1)
		for d := range cols {
			cols[d] = func(v float64) float64 { return math.Pow(v, float64(d)) }
		}
		p, rss := linearFit(x, y, cols...)
		return ShapeFit{Params: p, RSS: rss, AICc: aicc(rss, deg+1)}
	}
	t.Linear, t.Quadratic = poly(1), poly(2)
	t.Linear.Model, t.Quadratic.Model = "linear", "quadratic"

	span := x[n-1] - x[0]
	logistic := func(x0, logW float64) ([]float64, float64) {
		w := math.Exp(logW)
		return linearFit(x, y, func(float64) float64 { return 1 },
			func(v float64) float64 { return 1 / (1 + math.Exp(-(v-x0)/w)) })
	}
	// Variable projection: a and b are linear given (x0, w); grid search, then Nelder–Mead.
	best := []float64{x[0], math.Log(span)}
	bestRSS := math.Inf(1)
	for i := 0; i <= 40; i++ {
		x0 := x[0] - 0.5*span + 2*span*float64(i)/40
		for j := 0; j <= 30; j++ {
			lw := math.Log(span/200) + math.Log(400)*float64(j)/30
			if _, rss := logistic(x0, lw); rss < bestRSS {
				best, bestRSS = []float64{x0, lw}, rss
			}
		}
	}
	prob := optimize.Problem{Func: func(p []float64) float64 {
		_, rss := logistic(p[0], p[1])
		return rss
	}}
	if res, err := optimize.Minimize(prob, best, &optimize.Settings{FuncEvaluations: 4000}, &optimize.NelderMead{}); err == nil && res.F < bestRSS {
		best, bestRSS = res.X, res.F
	}
	ab, rss := logistic(best[0], best[1])
	t.Inflection, t.Width = best[0], math.Exp(best[1])
	t.Logistic = ShapeFit{Model: "logistic", Params: []float64{ab[0], ab[1], t.Inflection, t.Width}, RSS: rss, AICc: aicc(rss, 4)}
	t.DeltaAICc = math.Min(t.Linear.AICc, t.Quadratic.AICc) - t.Logistic.AICc
	t.SShaped = t.DeltaAICc >= 2 && t.Inflection > x[1] && t.Inflection < x[n-2]
	return t, nil
}

// Eval returns the fitted model's value at x.
func (f ShapeFit) Eval(x float64) float64 {
	p := f.Params
	switch f.Model {
	case "linear":
		return p[0] + p[1]*x
	case "quadratic":
		return p[0] + p[1]*x + p[2]*x*x
	case "logistic":
		return p[0] + p[1]/(1+math.Exp(-(x-p[2])/p[3]))
	}
	return math.NaN()
}

// linearFit is the least-squares fit of y on the given basis functions of x; it returns the
// coefficients and the residual sum of squares (rank-deficient bases get the minimum-norm fit).
func linearFit(x, y []float64, cols ...func(float64) float64) ([]float64, float64) {
	n, k := len(x), len(cols)
	a := mat.NewDense(n, k, nil)
	for i, v := range x {
		for j, f := range cols {
			a.Set(i, j, f(v))
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return make([]float64, k), math.Inf(1)
	}
	rank := svd.Rank(1e-12)
	if rank == 0 {
		return make([]float64, k), math.Inf(1)
	}
	var beta mat.Dense
	svd.SolveTo(&beta, mat.NewDense(n, 1, append([]float64(nil), y...)), rank)
	p := mat.Col(nil, 0, &beta)
	var rss float64
	for i, v := range x {
		f := 0.0
		for j, c := range cols {
			f += p[j] * c(v)
		}
		rss += (y[i] - f) * (y[i] - f)
	}
	return p, rss
}
