package train

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/vit"
)

// CrossEntropy is the mean cross-entropy of logits [batch, classes] against integer labels
// [batch], with label smoothing ε (targets (1-ε)·onehot + ε/classes).
func CrossEntropy(logits, labels *Node, smoothing float64) *Node {
	classes := logits.Shape().Dim(-1)
	target := OneHot(labels, classes, logits.DType())
	if smoothing > 0 {
		target = AddScalar(MulScalar(target, 1-smoothing), smoothing/float64(classes))
	}
	return Neg(ReduceAllMean(ReduceSum(Mul(target, LogSoftmax(logits, -1)), -1)))
}

// Accuracy is the fraction of rows whose arg-max logit equals the label.
func Accuracy(logits, labels *Node) *Node {
	pred := ArgMax(logits, -1, labels.DType())
	return ReduceAllMean(ConvertDType(Equal(pred, labels), logits.DType()))
}

// ClassifierLoss is the LossFn of a ViT classifier; its inputs are images [batch, H, W, C]
// float32 and labels [batch] int32. It logs the batch accuracy as "accuracy".
func ClassifierLoss(m *vit.Model, labelSmoothing float64) LossFn {
	return func(ctx *context.Context, inputs []*Node) (*Node, map[string]*Node) {
		images, labels := inputs[0], inputs[1]
		out := m.Forward(ctx, images)
		return CrossEntropy(out.Logits, labels, labelSmoothing), map[string]*Node{"accuracy": Accuracy(out.Logits, labels)}
	}
}

// EvalBatch is one evaluation batch: images [n, H, W, C] float32 and labels [n] int32.
type EvalBatch struct {
	Images []float32
	Labels []int32
	H, W   int
}

// Evaluate returns the top-1 accuracy of the classifier in ctx (evaluation mode: no DropPath)
// over the batches, counting every image once.
func Evaluate(b backends.Backend, ctx *context.Context, m *vit.Model, batches func(yield func(EvalBatch) bool)) (float64, error) {
	return EvaluateLogits(b, ctx, m.Config.Channels, func(ctx *context.Context, images *Node) *Node {
		return m.Forward(ctx, images).Logits
	}, batches)
}

// EvaluateLogits returns the top-1 accuracy of any classifier graph logits(ctx, images)
// [batch, classes] over the batches of images with `channels` channels, counting every image
// once. ctx is in evaluation mode. It is the accuracy of EvaluatePredictions.
func EvaluateLogits(b backends.Backend, ctx *context.Context, channels int, logits func(ctx *context.Context, images *Node) *Node, batches func(yield func(EvalBatch) bool)) (float64, error) {
	preds, labels, err := EvaluatePredictions(b, ctx, channels, logits, batches)
	if err != nil {
		return 0, err
	}
	return TopOneAccuracy(preds, labels)
}

// EvaluatePredictions runs the classifier graph logits(ctx, images) [batch, classes] (ctx in
// evaluation mode) over the batches of images with `channels` channels and returns, one per image
// in batch order, the arg-max class and the label, for paired statistics between models.
func EvaluatePredictions(b backends.Backend, ctx *context.Context, channels int, logits func(ctx *context.Context, images *Node) *Node, batches func(yield func(EvalBatch) bool)) (preds, labels []int, err error) {
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, images *Node) *Node {
		ctx.SetTraining(images.Graph(), false)
		return ArgMax(logits(ctx, images), -1, dtypes.Int32)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate: %w", err)
	}
	var runErr error
	batches(func(batch EvalBatch) bool {
		n := len(batch.Labels)
		if len(batch.Images) != n*batch.H*batch.W*channels {
			runErr = fmt.Errorf("evaluate: batch of %d labels has %d pixel values, want %d", n, len(batch.Images), n*batch.H*batch.W*channels)
			return false
		}
		if n == 0 {
			return true
		}
		outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(batch.Images, n, batch.H, batch.W, channels))
		if err != nil {
			runErr = fmt.Errorf("evaluate: %w", err)
			return false
		}
		var p []int32
		if err := tensors.ConstFlatData(outs[0], func(v []int32) { p = append(p, v...) }); err != nil {
			runErr = fmt.Errorf("evaluate: predictions: %w", err)
			return false
		}
		if len(p) != n {
			runErr = fmt.Errorf("evaluate: classifier gave %d predictions for a batch of %d images", len(p), n)
			return false
		}
		for k := range n {
			preds = append(preds, int(p[k]))
			labels = append(labels, int(batch.Labels[k]))
		}
		return true
	})
	if runErr != nil {
		return nil, nil, runErr
	}
	if len(preds) == 0 {
		return nil, nil, fmt.Errorf("evaluate: no images")
	}
	return preds, labels, nil
}

// TopOneAccuracy is the share of images whose prediction equals the label; an error for no
// images or slices of different lengths.
func TopOneAccuracy(preds, labels []int) (float64, error) {
	if len(preds) != len(labels) {
		return 0, fmt.Errorf("accuracy: %d predictions for %d labels", len(preds), len(labels))
	}
	if len(preds) == 0 {
		return 0, fmt.Errorf("accuracy: no images")
	}
	correct := 0
	for i, p := range preds {
		if p == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(preds)), nil
}
