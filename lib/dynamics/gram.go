package dynamics

// gramChunk is the number of columns processed at a time, so that the rows being multiplied
// stay in cache.
const gramChunk = 256

// gramRows returns the n×n Gram matrix G_ij = r_i·r_j of rows from..to-1 of the row-major
// rows×dim matrix x, optionally centred (rows minus their mean row). out is reused if large enough.
func gramRows(x []float64, dim, from, to int, centered bool, out []float64) []float64 {
	n := to - from
	out = resize(out, n*n)
	clear(out)
	for c0 := 0; c0 < dim; c0 += gramChunk {
		c1 := min(c0+gramChunk, dim)
		for i := 0; i < n; i++ {
			ri := x[(from+i)*dim+c0 : (from+i)*dim+c1]
			for j := i; j < n; j++ {
				out[i*n+j] += dot64(ri, x[(from+j)*dim+c0:(from+j)*dim+c1])
			}
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			out[i*n+j] = out[j*n+i]
		}
	}
	if centered {
		centerGram(out, n)
	}
	return out
}

// centerGram turns the Gram matrix of rows r_i into that of r_i − mean(r):
// G − r1ᵀ − 1rᵀ + s11ᵀ with r_i = mean_j G_ij and s = mean_ij G_ij.
func centerGram(g []float64, n int) {
	r := make([]float64, n)
	var s float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			r[i] += g[i*n+j]
		}
		s += r[i]
		r[i] /= float64(n)
	}
	s /= float64(n * n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			g[i*n+j] += s - r[i] - r[j]
		}
	}
}

// subGram copies the block [from, to) × [from, to) of an n×n matrix, optionally centring it.
func subGram(g []float64, n, from, to int, centered bool, out []float64) []float64 {
	m := to - from
	out = resize(out, m*m)
	for i := 0; i < m; i++ {
		copy(out[i*m:(i+1)*m], g[(from+i)*n+from:(from+i)*n+to])
	}
	if centered {
		centerGram(out, m)
	}
	return out
}

// gramCols returns the dim×dim matrix Xᵀ X of rows from..to-1 of x (rows×dim), optionally with
// the rows centred first. Used when a scope has more tokens than dimensions.
func gramCols(x []float64, dim, from, to int, centered bool, out []float64) []float64 {
	n := to - from
	mean := make([]float64, dim)
	if centered {
		for i := from; i < to; i++ {
			for j, v := range x[i*dim : (i+1)*dim] {
				mean[j] += v
			}
		}
		for j := range mean {
			mean[j] /= float64(n)
		}
	}
	out = resize(out, dim*dim)
	clear(out)
	row := make([]float64, dim)
	for i := from; i < to; i++ {
		for j, v := range x[i*dim : (i+1)*dim] {
			row[j] = v - mean[j]
		}
		for a := 0; a < dim; a++ {
			ra := row[a]
			if ra == 0 {
				continue
			}
			o := out[a*dim : (a+1)*dim]
			for b := a; b < dim; b++ {
				o[b] += ra * row[b]
			}
		}
	}
	for a := 0; a < dim; a++ {
		for b := 0; b < a; b++ {
			out[a*dim+b] = out[b*dim+a]
		}
	}
	return out
}

func resize(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}
