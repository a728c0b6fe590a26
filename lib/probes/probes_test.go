package probes

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLearningRate(t *testing.T) {
	const lr, minLR = 1e-3, 1e-6
	for _, tc := range []struct {
		step int
		want float64
	}{
		{0, 0.01 * lr}, {50, lr * (0.01 + 0.99*0.5)}, {100, lr}, {550, minLR + 0.5*(lr-minLR)}, {1000, minLR},
	} {
		if got := LearningRate(tc.step, 100, 1000, lr, minLR); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("step %d: lr %g, want %g", tc.step, got, tc.want)
		}
	}
}

// plantedTask draws n points in dim dimensions labelled by the argmax of a random linear map.
func plantedTask(rng *rand.Rand, n, dim, classes int, truth []float64) ([]float32, []int32) {
	x := make([]float32, n*dim)
	y := make([]int32, n)
	for i := range n {
		best, bestV := 0, math.Inf(-1)
		for k := range dim {
			x[i*dim+k] = float32(rng.NormFloat64())
		}
		for c := range classes {
			v := 0.0
			for k := range dim {
				v += float64(x[i*dim+k]) * truth[k*classes+c]
			}
			if v > bestV {
				best, bestV = c, v
			}
		}
		y[i] = int32(best)
	}
	return x, y
}

// TestSoftmaxLearnsPlantedTask: a linearly separable 5-class task is learnt to > 95% held-out
// top-1, also when a third of the training labels are replaced by the ignore label.
func TestSoftmaxLearnsPlantedTask(t *testing.T) {
	const dim, classes = 16, 5
	rng := rand.New(rand.NewPCG(1, 2))
	truth := make([]float64, dim*classes)
	for i := range truth {
		truth[i] = rng.NormFloat64()
	}
	xTrain, yTrain := plantedTask(rng, 3000, dim, classes, truth)
	xTest, yTest := plantedTask(rng, 1000, dim, classes, truth)
	for _, ignore := range []bool{false, true} {
		labels := append([]int32(nil), yTrain...)
		if ignore {
			for i := 0; i < len(labels); i += 3 {
				labels[i] = IgnoreLabel
			}
		}
		head, err := TrainSoftmax(xTrain, 3000, dim, labels, classes,
			TrainOptions{Epochs: 60, BatchSize: 32, LR: 2e-2, Seed: 3, UseIgnore: ignore, Ignore: IgnoreLabel})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := Top1(head.Predict(xTest, 1000), yTest)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ignore=%v: held-out top-1 %.3f", ignore, acc)
		if acc < 0.95 {
			t.Errorf("ignore=%v: held-out top-1 %.3f < 0.95", ignore, acc)
		}
	}
	if _, err := TrainSoftmax(xTrain, 3000, dim, yTrain, 3, TrainOptions{}); err == nil {
		t.Error("labels outside [0, classes) accepted")
	}
}

func TestCLSMeanPatch(t *testing.T) {
	// 1 image, tokens CLS, 1 register, 2 patches; dim 2.
	normed := []float32{1, 2, 100, 100, 3, 5, 5, 7}
	got := CLSMeanPatch(normed, 1, 4, 2, 2)
	want := []float32{1, 2, 4, 6}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestConfusionMIoU checks IoU on a hand-computed case:
// gt   = 0 0 1 1 2 ign, pred = 0 1 1 1 0 2 over 4 classes (class 3 absent).
// IoU0 = 1/(2+2-1) = 1/3, IoU1 = 2/(2+3-2) = 2/3, IoU2 = 0/(1+0-0) = 0, mIoU = 1/3.
func TestConfusionMIoU(t *testing.T) {
	cm := NewConfusion(4)
	if err := cm.Add([]int32{0, 1, 1, 1, 0, 2}, []int32{0, 0, 1, 1, 2, IgnoreLabel}); err != nil {
		t.Fatal(err)
	}
	iou := cm.IoU()
	for c, want := range []float64{1.0 / 3, 2.0 / 3, 0} {
		if math.Abs(iou[c]-want) > 1e-12 {
			t.Errorf("IoU[%d] = %g, want %g", c, iou[c], want)
		}
	}
	if !math.IsNaN(iou[3]) {
		t.Errorf("absent class IoU %g, want NaN", iou[3])
	}
	if got := cm.MeanIoU(); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("mIoU %g, want 1/3", got)
	}
	if err := cm.Add([]int32{0}, []int32{7}); err == nil {
		t.Error("label 7 of 4 classes accepted")
	}
}

// TestRMSE: pred 1 2 3 4 vs gt 1 0 5 2 (0 invalid) → errors 0, -2, 2 → sqrt(8/3); with a mask
// keeping only the first two pixels → 0.
func TestRMSE(t *testing.T) {
	var r RMSE
	if err := r.Add([]float32{1, 2, 3, 4}, []float32{1, 0, 5, 2}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := r.Value(), math.Sqrt(8.0/3); math.Abs(got-want) > 1e-12 {
		t.Errorf("RMSE %g, want %g", got, want)
	}
	var m RMSE
	m.Add([]float32{1, 2, 3, 4}, []float32{1, 0, 5, 2}, []bool{true, true, false, false})
	if m.Value() != 0 {
		t.Errorf("masked RMSE %g, want 0", m.Value())
	}
	crop := EigenCrop(480, 640)
	if !crop[45*640+41] || crop[44*640+41] || crop[45*640+40] || !crop[470*640+600] || crop[471*640+600] || crop[470*640+601] {
		t.Error("Eigen crop bounds wrong")
	}
}

// TestUpsampleBilinear: 2×2 [[0,1],[2,3]] to 4×4 with align_corners=False gives taps
// {0, 0.25, 0.75, 1} on each axis, so out(y, x) = 2·ty + tx.
func TestUpsampleBilinear(t *testing.T) {
	got := UpsampleBilinear([]float32{0, 1, 2, 3}, 2, 2, 1, 4, 4)
	taps := []float32{0, 0.25, 0.75, 1}
	for y := range 4 {
		for x := range 4 {
			if want := 2*taps[y] + taps[x]; math.Abs(float64(got[y*4+x]-want)) > 1e-6 {
				t.Errorf("(%d,%d) = %g, want %g", y, x, got[y*4+x], want)
			}
		}
	}
}

func TestPatchLabelsAndDepths(t *testing.T) {
	// 4×4 map, 2×2 grid; top-left cell: 3 of class 1, 1 ignored; top-right all ignored;
	// bottom-left a 2-2 tie between 2 and 4 (smaller wins); bottom-right class 0.
	I := int32(IgnoreLabel)
	labels := []int32{
		1, 1, I, I,
		1, I, I, I,
		4, 2, 0, 0,
		2, 4, 0, 0,
	}
	got := PatchLabels(labels, 4, 4, 2, 2)
	want := []int32{1, IgnoreLabel, 2, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("patch labels %v, want %v", got, want)
		}
	}
	depth := []float32{1, 3, 0, 0, 0, 0, 0, 0, 2, 2, 5, 5, 2, 2, 5, 7}
	d := PatchDepths(depth, 4, 4, 2, 2)
	for i, w := range []float32{2, 0, 2, 5.5} {
		if d[i] != w {
			t.Fatalf("patch depths %v", d)
		}
	}
	b := PaperBins
	for _, i := range []int{0, 17, 255} {
		if b.Bin(b.Centre(i)) != int32(i) {
			t.Errorf("bin of centre %d is %d", i, b.Bin(b.Centre(i)))
		}
	}
	peaked := make([]float32, b.N)
	peaked[40] = 50
	if got := b.Expected(peaked); math.Abs(got-b.Centre(40)) > 1e-6 {
		t.Errorf("expectation of a peaked softmax %g, want %g", got, b.Centre(40))
	}
}

// TestSegmentationProbePlanted: patch features carry a noisy class code; the per-patch head
// reaches mIoU > 0.9 on new images at pixel resolution.
func TestSegmentationProbePlanted(t *testing.T) {
	const classes, dim, g, px = 4, 8, 4, 16 // 4×4 patches, 16×16 label maps
	rng := rand.New(rand.NewPCG(5, 6))
	codes := make([]float64, classes*dim)
	for i := range codes {
		codes[i] = rng.NormFloat64()
	}
	image := func() (feats []float32, labels []int32, patchLabels []int32) {
		patchLabels = make([]int32, g*g)
		feats = make([]float32, g*g*dim)
		for p := range g * g {
			c := rng.IntN(classes)
			patchLabels[p] = int32(c)
			for k := range dim {
				feats[p*dim+k] = float32(codes[c*dim+k] + 0.3*rng.NormFloat64())
			}
		}
		labels = make([]int32, px*px)
		for y := range px {
			for x := range px {
				labels[y*px+x] = patchLabels[(y/(px/g))*g+x/(px/g)]
			}
		}
		return
	}
	var xs []float32
	var ys []int32
	for range 60 {
		f, l, _ := image()
		xs = append(xs, f...)
		ys = append(ys, PatchLabels(l, px, px, g, g)...)
	}
	head, err := TrainSoftmax(xs, len(ys), dim, ys, classes, TrainOptions{Epochs: 20, BatchSize: 64, LR: 1e-2, UseIgnore: true, Ignore: IgnoreLabel})
	if err != nil {
		t.Fatal(err)
	}
	cm := NewConfusion(classes)
	for range 10 {
		f, l, _ := image()
		if err := cm.Add(PredictSegmentation(head, f, g, g, px, px), l); err != nil {
			t.Fatal(err)
		}
	}
	// Bilinear upsampling blurs patch borders, so a perfect patch classifier still errs there.
	t.Logf("mIoU %.3f", cm.MeanIoU())
	if m := cm.MeanIoU(); m < 0.7 {
		t.Errorf("mIoU %.3f < 0.7", m)
	}
}

// TestDepthProbePlanted: with features (d, d², 1) the bin logits −(d − centre)² are linear, so
// the depth head can learn depth; RMSE on new patches must be far below the target's spread.
func TestDepthProbePlanted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	bins := DepthBins{N: 64, Min: 0.001, Max: 10}
	feats := func(n int) ([]float32, []float32) {
		x, d := make([]float32, 3*n), make([]float32, n)
		for i := range n {
			d[i] = float32(1 + 4*rng.Float64())
			x[3*i], x[3*i+1], x[3*i+2] = d[i], d[i]*d[i]/5, 1
		}
		return x, d
	}
	x, d := feats(4000)
	xt, dt := feats(500)
	for _, tc := range []struct {
		name string
		loss DepthLoss
	}{{"paper SI-log + CE", PaperDepthLoss}, {"CE only", CrossEntropyOnly}, {"SI-log only", DepthLoss{SILogWeight: 1, Lambda: 0.85}}} {
		t.Run(tc.name, func(t *testing.T) {
			head, err := TrainDepth(x, 4000, 3, d, bins, tc.loss, TrainOptions{Epochs: 40, BatchSize: 64, LR: 3e-2, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var r RMSE
			pred := make([]float32, 500)
			for i := range 500 {
				pred[i] = float32(PredictDepth(head, bins, xt[3*i:3*i+3], 1, 1, 1, 1)[0])
			}
			r.Add(pred, dt, nil)
			t.Logf("depth RMSE %.3f m", r.Value())
			if v := r.Value(); v > 0.4 { // the targets have std 4/√12 ≈ 1.15 m
				t.Errorf("depth RMSE %.3f m > 0.4", v)
			}
		})
	}
}

// TestDepthLossDirect checks depthBatchLoss's value against the formula computed from
// Expected, and that SI-log with Lambda = 1 ignores a global scale of the targets.
func TestDepthLossDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bins := DepthBins{N: 6, Min: 0.5, Max: 6.5}
	l, x, depths, rows := randomDepthProblem(rng, bins, 9, 4)
	for _, loss := range []DepthLoss{PaperDepthLoss, CrossEntropyOnly, {SILogWeight: 2, Lambda: 0.3}} {
		got, _, _ := depthLossAndGradient(l, x, rows, depths, bins, loss)
		sumG, sumG2, ce := 0.0, 0.0, 0.0
		logits, p := make([]float32, bins.N), make([]float64, bins.N)
		for _, r := range rows {
			l.Logits(logits, x[r*4:(r+1)*4])
			softmax(p, logits)
			ce -= math.Log(p[bins.Bin(float64(depths[r]))])
			g := math.Log(bins.Expected(logits) / float64(depths[r]))
			sumG += g
			sumG2 += g * g
		}
		n := float64(len(rows))
		want := loss.SILogWeight*math.Sqrt(sumG2/n-loss.Lambda*(sumG/n)*(sumG/n)) + loss.CEWeight*ce/n
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("loss %+v: %.12g, direct %.12g", loss, got, want)
		}
	}
	// Scale invariance at Lambda = 1: halving every target changes every g by log 2 only.
	siOnly := DepthLoss{SILogWeight: 1, Lambda: 1}
	a, _, _ := depthLossAndGradient(l, x, rows, depths, bins, siOnly)
	half := make([]float32, len(depths))
	for i, d := range depths {
		half[i] = d / 2
	}
	if b, _, _ := depthLossAndGradient(l, x, rows, half, bins, siOnly); math.Abs(a-b) > 1e-6 {
		t.Errorf("SI-log with Lambda 1 changed under target scaling: %g vs %g", a, b)
	}
}

// TestDepthLossGradient compares depthBatchLoss's gradient with central finite differences in
// float64 over every weight and bias of a small head, for each loss mix.
func TestDepthLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	bins := DepthBins{N: 5, Min: 0.5, Max: 5.5}
	l, x, depths, rows := randomDepthProblem(rng, bins, 7, 3)
	for _, loss := range []DepthLoss{PaperDepthLoss, CrossEntropyOnly, {SILogWeight: 1, Lambda: 0.85}} {
		_, gw, gb := depthLossAndGradient(l, x, rows, depths, bins, loss)
		check := func(name string, params []float32, grad []float64) {
			for i := range params {
				orig := params[i]
				const h = 1e-2
				params[i] = orig + h
				up, _, _ := depthLossAndGradient(l, x, rows, depths, bins, loss)
				params[i] = orig - h
				down, _, _ := depthLossAndGradient(l, x, rows, depths, bins, loss)
				params[i] = orig
				fd := (up - down) / (2 * h)
				if math.Abs(fd-grad[i]) > 2e-3*math.Max(1, math.Abs(fd)) {
					t.Errorf("loss %+v: d/d%s[%d] = %.6g, finite difference %.6g", loss, name, i, grad[i], fd)
				}
			}
		}
		check("W", l.W, gw)
		check("B", l.B, gb)
	}
}

// depthLossAndGradient is depthBatchLoss with fresh gradient buffers.
func depthLossAndGradient(l *Linear, x []float32, rows []int, depths []float32, bins DepthBins, loss DepthLoss) (float64, []float64, []float64) {
	gw, gb := make([]float64, len(l.W)), make([]float64, len(l.B))
	v := depthBatchLoss(l, x, rows, depths, bins, loss, gw, gb)
	return v, gw, gb
}

// randomDepthProblem returns a random head over bins, n rows of in features, positive targets
// inside the bins' range and the list of all rows.
func randomDepthProblem(rng *rand.Rand, bins DepthBins, n, in int) (*Linear, []float32, []float32, []int) {
	l := NewLinear(in, bins.N)
	for i := range l.W {
		l.W[i] = float32(rng.NormFloat64())
	}
	for i := range l.B {
		l.B[i] = float32(rng.NormFloat64())
	}
	x, depths, rows := make([]float32, n*in), make([]float32, n), make([]int, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range depths {
		depths[i] = float32(bins.Min + rng.Float64()*(bins.Max-bins.Min))
		rows[i] = i
	}
	return l, x, depths, rows
}

// TestTrainDepthRejectsBadInput names what is wrong with each bad call.
func TestTrainDepthRejectsBadInput(t *testing.T) {
	bins := DepthBins{N: 4, Min: 0.5, Max: 4.5}
	x, d := []float32{1, 2, 3, 4}, []float32{1, 2}
	for _, tc := range []struct {
		name   string
		x, d   []float32
		bins   DepthBins
		loss   DepthLoss
		substr string
	}{
		{"rows mismatch", x, []float32{1}, bins, PaperDepthLoss, "1 depths"},
		{"empty bins", x, d, DepthBins{}, PaperDepthLoss, "need N > 0"},
		{"zero loss", x, d, bins, DepthLoss{}, "not both 0"},
		{"negative weight", x, d, bins, DepthLoss{SILogWeight: -1, CEWeight: 1}, "≥ 0"},
		{"SI-log with centre ≤ 0", x, d, DepthBins{N: 4, Min: -1, Max: 1}, PaperDepthLoss, "positive bin centres"},
		{"no valid target", x, []float32{0, -1}, bins, PaperDepthLoss, "no row with a valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TrainDepth(tc.x, 2, 2, tc.d, tc.bins, tc.loss, TrainOptions{Epochs: 1})
			if err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %v, want one containing %q", err, tc.substr)
			}
		})
	}
}
