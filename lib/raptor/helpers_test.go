package raptor

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/internal/testctx"
	"github.com/blockrec/blockrec/lib/train"
	"github.com/blockrec/blockrec/lib/vit"
)

// tinyTeacher is a 6-layer ViT on 8×8 images: 4 patches, 1 register, CLS (6 tokens), dim 16.
func tinyTeacher() vit.Config {
	return vit.Config{ImageSize: 8, PatchSize: 4, Channels: 3, Dim: 16, Depth: 6, Heads: 2, MLPHidden: 32,
		MLP: vit.MLPGELU, LayerNormEps: 1e-6, Registers: 1, NumClasses: 3, HeadInput: vit.HeadCLS}
}

// recurrentTeacherWeights returns random weights for cfg whose blocks are tied by group: block i
// uses the weights of block source[i]. Weight matrices are N(0, gain²/fan_in), so each layer moves
// the state substantially (unlike the 0.02 init, where every layer is close to the identity).
func recurrentTeacherWeights(cfg vit.Config, source []int, gain float64, seed uint64) map[string]*tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := map[string]*tensors.Tensor{}
	shapes := cfg.WeightShapes()
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	// Deterministic order.
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	for _, name := range names {
		dims := shapes[name]
		n := 1
		for _, d := range dims {
			n *= d
		}
		data := make([]float32, n)
		leaf := name[strings.LastIndexByte(name, '/')+1:]
		switch {
		case leaf == "gain" || leaf == "gamma":
			for i := range data {
				data[i] = 1
			}
		case leaf == "offset" || leaf == "biases":
		case leaf == "weights":
			std := gain / math.Sqrt(float64(dims[0]))
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
		default: // tokens and position embeddings
			for i := range data {
				data[i] = float32(rng.NormFloat64())
			}
		}
		out[name] = tensors.FromFlatDataAndDimensions(data, dims...)
	}
	for i, s := range source {
		if s == i {
			continue
		}
		from, to := vit.BlockScope(s)+"/", vit.BlockScope(i)+"/"
		for name := range shapes {
			if strings.HasPrefix(name, to) {
				// A copy: variables must not share one tensor (the backend may reuse its buffer).
				c, err := out[from+strings.TrimPrefix(name, to)].LocalClone()
				if err != nil {
					panic(err)
				}
				out[name] = c
			}
		}
	}
	return out
}

func randomImages(rng *rand.Rand, n, h, w, c int) []float32 {
	data := make([]float32, n*h*w*c)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return data
}

// teacherPredictions returns the teacher's arg-max classes (used as labels, so that accuracy
// measures agreement with the teacher).
func teacherPredictions(t testing.TB, b backends.Backend, ctx *context.Context, teacher *vit.Model, images []float32, n int) []int32 {
	c := teacher.Config
	exec := context.MustNewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
		ctx.SetTraining(x.Graph(), false)
		return ArgMax(teacher.Forward(ctx.In(TeacherScope), x).Logits, -1, dtypes.Int32)
	})
	out := exec.MustExec(tensors.FromFlatDataAndDimensions(images, n, c.ImageSize, c.ImageSize, c.Channels))
	var p []int32
	tensors.MustConstFlatData(out[0], func(v []int32) { p = append(p, v...) })
	return p
}

// imageBatches yields images in batches of size batch, with labels.
func imageBatches(cfg vit.Config, images []float32, labels []int32, batch int) func(yield func(train.EvalBatch) bool) {
	per := cfg.ImageSize * cfg.ImageSize * cfg.Channels
	return func(yield func(train.EvalBatch) bool) {
		for s := 0; s < len(labels); s += batch {
			e := min(s+batch, len(labels))
			if !yield(train.EvalBatch{Images: images[s*per : e*per], Labels: labels[s:e], H: cfg.ImageSize, W: cfg.ImageSize}) {
				return
			}
		}
	}
}

// buildTeacherCache makes a block-recurrent teacher (blocks tied as source), labels images with
// its own predictions, and caches its states in dir.
func buildTeacherCache(t testing.TB, b backends.Backend, cfg vit.Config, source []int, n int, seed uint64, dir string) (*context.Context, *vit.Model, *Cache) {
	teacher, err := vit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testctx.New(t)
	if err := SetTeacher(ctx, cfg, recurrentTeacherWeights(cfg, source, teacherGain, seed)); err != nil {
		t.Fatal(err)
	}
	images := randomImages(rand.New(rand.NewPCG(seed, 99)), n, cfg.ImageSize, cfg.ImageSize, cfg.Channels)
	labels := teacherPredictions(t, b, ctx, teacher, images, n)
	cache, err := ComputeCache(b, ctx, teacher, imageBatches(cfg, images, labels, 64), dir, "test teacher", CacheOptions{ChunkImages: 100})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, teacher, cache
}

var teacherGain = func() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("RAPTOR_E2E_GAIN"), 64); err == nil {
		return v
	}
	return 1.0
}()
