package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// OLSResult is the outcome of [OLS]: one estimate per column of X, the
// coefficient of determination and the residual degrees of freedom n - p.
type OLSResult struct {
	Coef []Estimate
	R2   float64
	DoF  int
}

// OLS fits y = X·beta by least squares and returns each coefficient with its
// Student t interval (residual variance with n - p degrees of freedom) and
// R² = 1 - SSR/SST with SST about the mean of y (the usual R² when X has an
// intercept column; the caller includes that column of ones). R² is NaN when
// y is constant. Each Estimate has N = n.
//
// It errors when X is empty or ragged, len(y) differs from the number of rows,
// n <= p, X is rank deficient (a singular value at or below
// max(n, p)·eps times the largest), a value is not finite, or the level is bad.
func OLS(X [][]float64, y []float64, level float64) (OLSResult, error) {
	n := len(X)
	if n == 0 {
		return OLSResult{}, errors.New("stats.OLS: X has no rows")
	}
	p := len(X[0])
	if p == 0 {
		return OLSResult{}, errors.New("stats.OLS: X has no columns")
	}
	if len(y) != n {
		return OLSResult{}, fmt.Errorf("stats.OLS: X has %d rows but len(y) = %d", n, len(y))
	}
	if n <= p {
		return OLSResult{}, fmt.Errorf("stats.OLS: %d rows for %d coefficients, want more rows than coefficients", n, p)
	}
	if err := checkLevel("OLS", level); err != nil {
		return OLSResult{}, err
	}
	a := mat.NewDense(n, p, nil)
	for i, row := range X {
		if len(row) != p {
			return OLSResult{}, fmt.Errorf("stats.OLS: row %d of X has %d values, row 0 has %d", i, len(row), p)
		}
		if err := checkFinite("OLS", fmt.Sprintf("X[%d]", i), row); err != nil {
			return OLSResult{}, err
		}
		a.SetRow(i, row)
	}
	if err := checkFinite("OLS", "y", y); err != nil {
		return OLSResult{}, err
	}

	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return OLSResult{}, errors.New("stats.OLS: singular value decomposition of X failed")
	}
	s := svd.Values(nil)
	rcond := float64(max(n, p)) * 0x1p-52
	if r := svd.Rank(rcond); r < p {
		return OLSResult{}, fmt.Errorf("stats.OLS: X has rank %d < %d columns (collinear columns)", r, p)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)

	// beta = V S^-1 U^T y.
	yv := mat.NewVecDense(n, y)
	var uty mat.VecDense
	uty.MulVec(u.T(), yv)
	for j := range p {
		uty.SetVec(j, uty.AtVec(j)/s[j])
	}
	var beta mat.VecDense
	beta.MulVec(&v, &uty)

	var fitted mat.VecDense
	fitted.MulVec(a, &beta)
	ymean, _ := MeanSD(y)
	var ssr, sst float64
	for i := range n {
		r := y[i] - fitted.AtVec(i)
		ssr += r * r
		d := y[i] - ymean
		sst += d * d
	}
	dof := n - p
	sigma2 := ssr / float64(dof)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(dof)}.Quantile(1 - (1-level)/2)

	res := OLSResult{Coef: make([]Estimate, p), R2: math.NaN(), DoF: dof}
	if sst > 0 {
		res.R2 = 1 - ssr/sst
	}
	for j := range p {
		// Var(beta_j) = sigma² Σ_k V[j,k]² / s_k².
		var vj float64
		for k := range p {
			q := v.At(j, k) / s[k]
			vj += q * q
		}
		half := t * math.Sqrt(sigma2*vj)
		b := beta.AtVec(j)
		res.Coef[j] = Estimate{Value: b, N: n, CI: Interval{Lo: b - half, Hi: b + half, Level: level, Method: "t"}}
	}
	return res, nil
}
