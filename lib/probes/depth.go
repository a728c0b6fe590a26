package probes

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DepthBins are equal-width depth bins over [Min, Max] metres; bin i stands for its centre
// Min + (i+0.5)·(Max−Min)/N.
type DepthBins struct {
	N        int
	Min, Max float64
}

// PaperBins are the 256 linear bins over [0.001, 10] m of the paper's NYUv2 probe.
var PaperBins = DepthBins{N: 256, Min: 0.001, Max: 10}

// Centre is the depth bin i stands for.
func (b DepthBins) Centre(i int) float64 { return b.Min + (float64(i)+0.5)*(b.Max-b.Min)/float64(b.N) }

// Bin returns the bin holding depth d (clamped to the range).
func (b DepthBins) Bin(d float64) int32 {
	i := int(math.Floor((d - b.Min) / (b.Max - b.Min) * float64(b.N)))
	return int32(min(max(i, 0), b.N-1))
}

// Expected is the softmax expectation of the bin centres under logits (length N).
func (b DepthBins) Expected(logits []float32) float64 {
	p := make([]float64, len(logits))
	softmax(p, logits)
	s := 0.0
	for i, v := range p {
		s += v * b.Centre(i)
	}
	return s
}

// PatchDepths averages the valid (> 0) pixels of an h×w depth map over each cell of a gh×gw
// grid; a cell without valid pixels gets 0 (invalid).
func PatchDepths(depth []float32, h, w, gh, gw int) []float32 {
	out := make([]float32, gh*gw)
	for gy := range gh {
		for gx := range gw {
			s, n := 0.0, 0
			for y := gy * h / gh; y < (gy+1)*h/gh; y++ {
				for x := gx * w / gw; x < (gx+1)*w/gw; x++ {
					if d := depth[y*w+x]; d > 0 {
						s += float64(d)
						n++
					}
				}
			}
			if n > 0 {
				out[gy*gw+gx] = float32(s / float64(n))
			}
		}
	}
	return out
}

// DepthLoss weighs the two terms of the depth head's loss. The paper's probe (AdaBins-style)
// minimises SILogWeight·SI-log + CEWeight·cross-entropy on the target's bin, where over the valid
// rows of a batch, with g_i = log(pred_i) − log(target_i) and pred the softmax-expectation depth,
//
//	SI-log = sqrt(mean(g²) − Lambda·mean(g)²).
//
// Lambda = 1 makes SI-log blind to a global scale of the prediction; the paper uses 0.85.
type DepthLoss struct {
	SILogWeight float64
	Lambda      float64
	CEWeight    float64
}

// PaperDepthLoss is the paper's recipe: 10·SI-log (variance weight 0.85) + cross-entropy on bins.
var PaperDepthLoss = DepthLoss{SILogWeight: 10, Lambda: 0.85, CEWeight: 1}

// CrossEntropyOnly is the bin cross-entropy alone (the SI-log term switched off).
var CrossEntropyOnly = DepthLoss{CEWeight: 1}

// siLogFloor keeps the square root's gradient finite when a batch's log errors are all equal.
const siLogFloor = 1e-12

// depthBatchLoss returns the loss of head l on the given rows of x (each of length in) with
// targets depths, and adds its gradient with respect to l.W and l.B into gradW and gradB.
// Rows must have positive targets; the mean is over rows.
func depthBatchLoss(l *Linear, x []float32, rows []int, depths []float32, bins DepthBins, loss DepthLoss, gradW, gradB []float64) float64 {
	n := len(rows)
	k, in := l.Out, l.In
	probs := make([]float64, n*k)
	pred := make([]float64, n)
	g := make([]float64, n)
	logits := make([]float32, k)
	centres := make([]float64, k)
	for c := range k {
		centres[c] = bins.Centre(c)
	}
	ce, sumG, sumG2 := 0.0, 0.0, 0.0
	for r, row := range rows {
		p := probs[r*k : (r+1)*k]
		l.Logits(logits, x[row*in:(row+1)*in])
		softmax(p, logits)
		for c, pc := range p {
			pred[r] += pc * centres[c]
		}
		ce -= math.Log(math.Max(p[bins.Bin(float64(depths[row]))], 1e-300))
		g[r] = math.Log(pred[r]) - math.Log(float64(depths[row]))
		sumG += g[r]
		sumG2 += g[r] * g[r]
	}
	fn := float64(n)
	meanG := sumG / fn
	d := math.Max(sumG2/fn-loss.Lambda*meanG*meanG, siLogFloor)
	siLog := math.Sqrt(d)
	dLogit := make([]float64, k)
	for r, row := range rows {
		p := probs[r*k : (r+1)*k]
		// d SI-log / d pred_r, then through pred = Σ p_c·centre_c.
		dPred := loss.SILogWeight * (g[r] - loss.Lambda*meanG) / (fn * siLog) / pred[r]
		target := bins.Bin(float64(depths[row]))
		for c, pc := range p {
			dLogit[c] = loss.CEWeight*pc/fn + dPred*pc*(centres[c]-pred[r])
		}
		dLogit[target] -= loss.CEWeight / fn
		addOuter(gradW, gradB, x[row*in:(row+1)*in], dLogit)
	}
	return loss.SILogWeight*siLog + loss.CEWeight*ce/fn
}

// TrainDepth fits the depth head on n patch rows (features n×in, target depths n, ≤ 0 meaning
// invalid) with the given loss (see DepthLoss; PaperDepthLoss is the paper's), by AdamW with
// warm-up and cosine decay. A batch whose loss is not finite is an error.
func TrainDepth(x []float32, n, in int, depths []float32, bins DepthBins, loss DepthLoss, opts TrainOptions) (*Linear, error) {
	if len(depths) != n || len(x) != n*in {
		return nil, fmt.Errorf("probes: %d depths and %d feature values for %d rows of %d", len(depths), len(x), n, in)
	}
	if bins.N <= 0 || !(bins.Max > bins.Min) {
		return nil, fmt.Errorf("probes: depth bins %+v: need N > 0 and Max > Min", bins)
	}
	if loss.SILogWeight < 0 || loss.CEWeight < 0 || loss.SILogWeight+loss.CEWeight == 0 {
		return nil, fmt.Errorf("probes: depth loss %+v: weights must be ≥ 0 and not both 0", loss)
	}
	if loss.SILogWeight > 0 && bins.Centre(0) <= 0 {
		return nil, fmt.Errorf("probes: SI-log needs positive bin centres, bins %+v start at %g m", bins, bins.Centre(0))
	}
	var rows []int
	for i, d := range depths {
		if d > 0 {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("probes: no row with a valid (> 0) depth to train on")
	}
	o := opts.withDefaults(func(b int) int { return (len(rows) + b - 1) / b })
	total := o.Epochs * ((len(rows) + o.BatchSize - 1) / o.BatchSize)
	l := NewLinear(in, bins.N)
	adam := newAdam(len(l.W) + len(l.B))
	gradW, gradB := make([]float64, len(l.W)), make([]float64, len(l.B))
	rng := rand.New(rand.NewPCG(o.Seed, 0x6465707468))
	step := 0
	for epoch := range o.Epochs {
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for start := 0; start < len(rows); start += o.BatchSize {
			clear(gradW)
			clear(gradB)
			batch := rows[start:min(start+o.BatchSize, len(rows))]
			if v := depthBatchLoss(l, x, batch, depths, bins, loss, gradW, gradB); math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("probes: depth loss is %g at epoch %d, step %d (learning rate %g)", v, epoch, step, o.LR)
			}
			lr := LearningRate(step, o.Warmup, total, o.LR, o.MinLR)
			adam.step(l.W, gradW, 1, lr, o.WeightDecay, 0)
			adam.step(l.B, gradB, 1, lr, 0, len(l.W))
			adam.t++
			step++
		}
	}
	return l, nil
}

// PredictDepth applies the head to one image's patch features (gh·gw×In), upsamples the bin
// logits bilinearly to h×w (equivalent to upsampling the features, the head being linear) and
// returns the softmax-expectation depth of every pixel.
func PredictDepth(head *Linear, bins DepthBins, patches []float32, gh, gw, h, w int) []float32 {
	logits := make([]float32, gh*gw*head.Out)
	for p := range gh * gw {
		head.Logits(logits[p*head.Out:(p+1)*head.Out], patches[p*head.In:(p+1)*head.In])
	}
	up := UpsampleBilinear(logits, gh, gw, head.Out, h, w)
	out := make([]float32, h*w)
	for i := range out {
		out[i] = float32(bins.Expected(up[i*head.Out : (i+1)*head.Out]))
	}
	return out
}

// RMSE accumulates squared depth errors over valid pixels (ground truth > 0, inside an optional
// mask) across images.
type RMSE struct {
	sum float64
	n   int64
}

// Add counts one image; mask (nil: all pixels) selects the evaluated pixels.
func (r *RMSE) Add(pred, gt []float32, mask []bool) error {
	if len(pred) != len(gt) || (mask != nil && len(mask) != len(gt)) {
		return fmt.Errorf("probes: RMSE of %d predictions against %d depths (mask %d)", len(pred), len(gt), len(mask))
	}
	for i, g := range gt {
		if g <= 0 || (mask != nil && !mask[i]) {
			continue
		}
		d := float64(pred[i] - g)
		r.sum += d * d
		r.n++
	}
	return nil
}

// Value is sqrt(mean squared error), NaN with no valid pixel.
func (r *RMSE) Value() float64 {
	if r.n == 0 {
		return math.NaN()
	}
	return math.Sqrt(r.sum / float64(r.n))
}

// EigenCrop is the evaluation mask of Eigen et al. for an h×w map: rows 45..470 and columns
// 41..600 of a 480×640 image, scaled proportionally for other sizes.
func EigenCrop(h, w int) []bool {
	m := make([]bool, h*w)
	y0, y1 := 45*h/480, 471*h/480
	x0, x1 := 41*w/640, 601*w/640
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m[y*w+x] = true
		}
	}
	return m
}
