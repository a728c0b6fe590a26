package dinov2

import (
	"fmt"
	"math"
)

// A plain-Go DINOv2 forward pass computed straight from HF-layout tensors (weights [out, in],
// convolution [D, C, P, P]) in float64: the independent reference for the GoMLX model, written
// from the HF modeling code's semantics rather than from lib/vit.

// mat is a row-major matrix of float64.
type mat struct {
	rows, cols int
	v          []float64
}

func newMat(rows, cols int) mat { return mat{rows, cols, make([]float64, rows*cols)} }

func (m mat) at(r, c int) float64 { return m.v[r*m.cols+c] }

func (m mat) row(r int) []float64 { return m.v[r*m.cols : (r+1)*m.cols] }

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// refLinear applies y = x·Wᵀ + b with HF's W [out, in] (rows out..) to every row of x.
func refLinear(x mat, w []float32, b []float32, out int) mat {
	y := newMat(x.rows, out)
	for r := range x.rows {
		for o := range out {
			s := 0.0
			if b != nil {
				s = float64(b[o])
			}
			for i := range x.cols {
				s += x.at(r, i) * float64(w[o*x.cols+i])
			}
			y.v[r*out+o] = s
		}
	}
	return y
}

func refLayerNorm(x mat, gain, offset []float32, eps float64) mat {
	y := newMat(x.rows, x.cols)
	for r := range x.rows {
		row := x.row(r)
		mean, vari := 0.0, 0.0
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		for _, v := range row {
			vari += (v - mean) * (v - mean)
		}
		vari /= float64(len(row))
		for c, v := range row {
			y.v[r*x.cols+c] = (v-mean)/math.Sqrt(vari+eps)*float64(gain[c]) + float64(offset[c])
		}
	}
	return y
}

// refAttention is multi-head self-attention: per head, softmax(q·kᵀ/√hd)·v, then the output
// projection. w holds HF's query/key/value/dense weights under prefix.
func refAttention(x mat, w map[string]*Array, prefix string, heads int) mat {
	d := x.cols
	hd := d / heads
	get := func(n string) *Array { return w[prefix+n] }
	bias := func(n string) []float32 {
		if a := get(n); a != nil {
			return a.Data
		}
		return nil
	}
	q := refLinear(x, get("attention.attention.query.weight").Data, bias("attention.attention.query.bias"), d)
	k := refLinear(x, get("attention.attention.key.weight").Data, bias("attention.attention.key.bias"), d)
	v := refLinear(x, get("attention.attention.value.weight").Data, bias("attention.attention.value.bias"), d)
	ctxv := newMat(x.rows, d)
	scores := make([]float64, x.rows)
	for h := range heads {
		for i := range x.rows {
			maxS := math.Inf(-1)
			for j := range x.rows {
				s := 0.0
				for c := h * hd; c < (h+1)*hd; c++ {
					s += q.at(i, c) * k.at(j, c)
				}
				scores[j] = s / math.Sqrt(float64(hd))
				maxS = math.Max(maxS, scores[j])
			}
			total := 0.0
			for j := range scores {
				scores[j] = math.Exp(scores[j] - maxS)
				total += scores[j]
			}
			for j := range x.rows {
				for c := h * hd; c < (h+1)*hd; c++ {
					ctxv.v[i*d+c] += scores[j] / total * v.at(j, c)
				}
			}
		}
	}
	return refLinear(ctxv, get("attention.output.dense.weight").Data, get("attention.output.dense.bias").Data, d)
}

func refGELU(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

func refSiLU(x float64) float64 { return x / (1 + math.Exp(-x)) }

// refMLP is fc1 → exact GELU → fc2, or SwiGLU: weights_in → silu(first half)·second half →
// weights_out.
func refMLP(x mat, w map[string]*Array, prefix string, c HFConfig) mat {
	d, h := x.cols, c.MLPHidden()
	if !c.UseSwiGLU {
		a := refLinear(x, w[prefix+"mlp.fc1.weight"].Data, w[prefix+"mlp.fc1.bias"].Data, h)
		for i := range a.v {
			a.v[i] = refGELU(a.v[i])
		}
		return refLinear(a, w[prefix+"mlp.fc2.weight"].Data, w[prefix+"mlp.fc2.bias"].Data, d)
	}
	both := refLinear(x, w[prefix+"mlp.weights_in.weight"].Data, w[prefix+"mlp.weights_in.bias"].Data, 2*h)
	g := newMat(x.rows, h)
	for r := range x.rows {
		for j := range h {
			g.v[r*h+j] = refSiLU(both.at(r, j)) * both.at(r, h+j)
		}
	}
	return refLinear(g, w[prefix+"mlp.weights_out.weight"].Data, w[prefix+"mlp.weights_out.bias"].Data, d)
}

// refLayerScale multiplies every row by γ.
func refLayerScale(x mat, gamma []float32) mat {
	y := newMat(x.rows, x.cols)
	for i := range x.v {
		y.v[i] = x.v[i] * float64(gamma[i%x.cols])
	}
	return y
}

// keys is the Keys cubic convolution kernel, written piecewise as in Keys (1981).
func keys(s, a float64) float64 {
	s = math.Abs(s)
	if s < 1 {
		return (a+2)*s*s*s - (a+3)*s*s + 1
	}
	if s < 2 {
		return a*s*s*s - 5*a*s*s + 8*a*s - 4*a
	}
	return 0
}

// refBicubic2D resizes a gridH×gridW×D field to outH×outW by evaluating, for every output
// pixel, the 2-D sum over input pixels of separable kernel weights: without antialias, the 4×4
// neighbourhood of the source point with indices clamped to the border (a = -0.75); with
// antialias, PyTorch's area-aware kernel (a = -0.5, widened by the downscale factor, weights
// renormalised over the pixels inside the image).
func refBicubic2D(in []float64, inH, inW, d, outH, outW int, antialias bool) []float64 {
	out := make([]float64, outH*outW*d)
	weights := func(o, n, outN int) map[int]float64 {
		scale := float64(n) / float64(outN)
		w := map[int]float64{}
		if !antialias {
			src := scale*(float64(o)+0.5) - 0.5
			base := math.Floor(src)
			for k := -1; k <= 2; k++ {
				idx := int(base) + k
				clamped := min(max(idx, 0), n-1)
				w[clamped] += keys(src-float64(idx), -0.75)
			}
			return w
		}
		stretch := math.Max(scale, 1)
		centre := scale * (float64(o) + 0.5)
		total := 0.0
		for i := range n { // every input pixel; the kernel vanishes beyond 2·stretch
			dist := (float64(i) + 0.5 - centre) / stretch
			if math.Abs(dist) >= 2 {
				continue
			}
			w[i] = keys(dist, -0.5)
			total += w[i]
		}
		for i := range w {
			w[i] /= total
		}
		return w
	}
	for oy := range outH {
		wy := weights(oy, inH, outH)
		for ox := range outW {
			wx := weights(ox, inW, outW)
			for iy, a := range wy {
				for ix, b := range wx {
					for c := range d {
						out[(oy*outW+ox)*d+c] += a * b * in[(iy*inW+ix)*d+c]
					}
				}
			}
		}
	}
	return out
}

// refForward returns the hidden states (layers 0..L) and the normed output of one image
// img [C, H, W] (NCHW order, as HF takes it).
func refForward(c HFConfig, w map[string]*Array, img []float32, h, wd int) (states []mat, normed mat) {
	d, p, ch := c.HiddenSize, c.PatchSize, c.NumChannels
	gh, gw := h/p, wd/p
	grid := c.ImageSize / p
	conv := w["embeddings.patch_embeddings.projection.weight"].Data
	convB := w["embeddings.patch_embeddings.projection.bias"].Data
	pos := f64(w[hfPositionEmbeddingsName].Data)
	posGrid := pos[d:]
	if gh != grid || gw != grid {
		posGrid = refBicubic2D(posGrid, grid, grid, d, gh, gw, c.ModelType == ModelTypeWithRegisters)
	}
	r := c.NumRegisterTokens
	x := newMat(1+r+gh*gw, d)
	for k := range d {
		x.v[k] = float64(w["embeddings.cls_token"].Data[k]) + pos[k]
	}
	for i := range r {
		for k := range d {
			x.v[(1+i)*d+k] = float64(w["embeddings.register_tokens"].Data[i*d+k])
		}
	}
	for gy := range gh {
		for gx := range gw {
			tok := 1 + r + gy*gw + gx
			for o := range d {
				s := float64(convB[o])
				for cc := range ch {
					for py := range p {
						for px := range p {
							s += float64(conv[((o*ch+cc)*p+py)*p+px]) * float64(img[(cc*h+gy*p+py)*wd+gx*p+px])
						}
					}
				}
				x.v[tok*d+o] = s + posGrid[(gy*gw+gx)*d+o]
			}
		}
	}
	states = append(states, x)
	for l := range c.NumHiddenLayers {
		pre := fmt.Sprintf("encoder.layer.%d.", l)
		a := refAttention(refLayerNorm(x, w[pre+"norm1.weight"].Data, w[pre+"norm1.bias"].Data, c.LayerNormEps), w, pre, c.NumAttentionHeads)
		a = refLayerScale(a, w[pre+"layer_scale1.lambda1"].Data)
		y := newMat(x.rows, d)
		for i := range y.v {
			y.v[i] = x.v[i] + a.v[i]
		}
		f := refMLP(refLayerNorm(y, w[pre+"norm2.weight"].Data, w[pre+"norm2.bias"].Data, c.LayerNormEps), w, pre, c)
		f = refLayerScale(f, w[pre+"layer_scale2.lambda1"].Data)
		for i := range y.v {
			y.v[i] += f.v[i]
		}
		x = y
		states = append(states, x)
	}
	return states, refLayerNorm(x, w["layernorm.weight"].Data, w["layernorm.bias"].Data, c.LayerNormEps)
}
