package parity

import (
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/blockrec/blockrec/lib/backend"
)

// Tolerance is the largest relative error accepted between the engines.
const Tolerance = 1e-4

// Engines are the two backends compared.
type Engines struct {
	Go, XLA backends.Backend
}

// NewEngines starts both engines. The XLA one uses the installed CPU plugin; ok is false (with the
// reason) when there is none.
func NewEngines() (e Engines, ok bool, reason string, err error) {
	path, found := backend.FindPlugin("cpu")
	if !found {
		return e, false, "no XLA CPU plugin installed (run scripts/install_xla_cpu.sh)", nil
	}
	if e.Go, err = backend.NewPureGo(); err != nil {
		return e, false, "", err
	}
	if e.XLA, err = backend.NewXLA(path); err != nil {
		return e, false, "", fmt.Errorf("XLA CPU plugin %s: %w", path, err)
	}
	return e, true, "", nil
}

// MustHaveXLA tells whether a missing plugin is a failure ($BLOCKREC_EXPECT_BACKEND=xla) rather than a skip.
func MustHaveXLA() bool { return os.Getenv(backend.ExpectEnvVar) == "xla" }

// CopyVariables returns a new context holding a host copy of every variable of src, so that the
// same weights can run on another backend.
func CopyVariables(src *context.Context) (*context.Context, error) {
	dst := context.New()
	var firstErr error
	src.EnumerateVariables(func(v *context.Variable) {
		if firstErr != nil {
			return
		}
		value, err := v.Value()
		if err == nil {
			value, err = value.LocalClone()
		}
		if err != nil {
			firstErr = fmt.Errorf("copy variable %s: %w", v.ScopeAndName(), err)
			return
		}
		dst.InAbsPath(v.Scope()).VariableWithValue(v.Name(), value)
	})
	return dst, firstErr
}

// TrainableNames lists the trainable float32 variables of ctx (the weights; not the RNG state),
// sorted by scope and name.
func TrainableNames(ctx *context.Context) []string {
	var names []string
	ctx.EnumerateVariables(func(v *context.Variable) {
		if v.Trainable && v.Shape().DType == dtypes.Float32 {
			names = append(names, v.ScopeAndName())
		}
	})
	sort.Strings(names)
	return names
}

// RelError is max|got − want| / max|want| (max|got − want| when want is all zero), and +Inf when
// the sizes differ or either holds a NaN or Inf.
func RelError(got, want []float32) float64 { return RelErrorFloor(got, want, 0) }

// MaxAbs is max|x|.
func MaxAbs(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// RelErrorFloor is RelError with the denominator at least floor: for tensors that are (nearly)
// zero in exact arithmetic, the error is measured against a scale given by the caller.
func RelErrorFloor(got, want []float32, floor float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var diff, scale float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsInf(g, 0) || math.IsNaN(w) || math.IsInf(w, 0) {
			return math.Inf(1)
		}
		diff = math.Max(diff, math.Abs(g-w))
		scale = math.Max(scale, math.Abs(w))
	}
	scale = math.Max(scale, floor)
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// Flat copies a float32 tensor's data.
func Flat(t *tensors.Tensor) ([]float32, error) {
	return tensors.CopyFlatData[float32](t)
}
