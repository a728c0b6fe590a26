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
// once. ctx is in evaluation mode.
func EvaluateLogits(b backends.Backend, ctx *context.Context, channels int, logits func(ctx *context.Context, images *Node) *Node, batches func(yield func(EvalBatch) bool)) (float64, error) {
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, images, labels *Node) *Node {
		ctx.SetTraining(images.Graph(), false)
		pred := ArgMax(logits(ctx, images), -1, dtypes.Int32)
		return ReduceAllSum(ConvertDType(Equal(pred, labels), dtypes.Int32))
	})
	if err != nil {
		return 0, err
	}
	correct, total := 0, 0
	var runErr error
	batches(func(batch EvalBatch) bool {
		n := len(batch.Labels)
		if len(batch.Images) != n*batch.H*batch.W*channels {
			runErr = fmt.Errorf("evaluate: batch of %d labels has %d pixel values, want %d", n, len(batch.Images), n*batch.H*batch.W*channels)
			return false
		}
		outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(batch.Images, n, batch.H, batch.W, channels),
			tensors.FromFlatDataAndDimensions(batch.Labels, n))
		if err != nil {
			runErr = err
			return false
		}
		correct += int(outs[0].Value().(int32))
		total += n
		return true
	})
	if runErr != nil {
		return 0, runErr
	}
	if total == 0 {
		return 0, fmt.Errorf("evaluate: no images")
	}
	return float64(correct) / float64(total), nil
}
