package dynamics

import "math"

// dot32 is the float64-accumulated dot product of two float32 vectors of equal length.
func dot32(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(a[i]) * float64(b[i])
		s1 += float64(a[i+1]) * float64(b[i+1])
		s2 += float64(a[i+2]) * float64(b[i+2])
		s3 += float64(a[i+3]) * float64(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i]) * float64(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// dot64 is the dot product of two float64 vectors of equal length.
func dot64(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func norm32(a []float32) float64 { return math.Sqrt(dot32(a, a)) }

// cos32 is the cosine between a and b; 0 when either is zero.
func cos32(a, b []float32) float64 {
	na, nb := norm32(a), norm32(b)
	if na == 0 || nb == 0 {
		return 0
	}
	return clamp(dot32(a, b)/(na*nb), -1, 1)
}

// angle32 is the angle in radians between a and b, computed as 2·asin(‖â−b̂‖/2), which stays
// accurate for tiny angles where acos(cos) loses half the digits. Known norms may be passed
// (na, nb > 0); a zero vector gives angle 0.
func angle32(a, b []float32, na, nb float64) float64 {
	if na == 0 || nb == 0 {
		return 0
	}
	ia, ib := 1/na, 1/nb
	b = b[:len(a)]
	var s float64
	for i := range a {
		d := float64(a[i])*ia - float64(b[i])*ib
		s += d * d
	}
	return 2 * math.Asin(clamp(math.Sqrt(s)/2, 0, 1))
}

// angle64 is angle32 for float64 vectors with norms computed here.
func angle64(a, b []float64) float64 {
	na, nb := math.Sqrt(dot64(a, a)), math.Sqrt(dot64(b, b))
	if na == 0 || nb == 0 {
		return 0
	}
	var s float64
	for i := range a {
		d := a[i]/na - b[i]/nb
		s += d * d
	}
	return 2 * math.Asin(clamp(math.Sqrt(s)/2, 0, 1))
}

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// tokenNorms returns the norm of every token of a layer (tokens × dim, row-major).
func tokenNorms(layer []float32, tokens, dim int, out []float64) []float64 {
	if cap(out) < tokens {
		out = make([]float64, tokens)
	}
	out = out[:tokens]
	for t := 0; t < tokens; t++ {
		out[t] = norm32(layer[t*dim : (t+1)*dim])
	}
	return out
}
