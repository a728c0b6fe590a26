package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// LossFn builds the scalar loss of one batch from its inputs, plus optional named scalar metrics
// that are logged with it. It runs with ctx in training mode.
type LossFn func(ctx *context.Context, inputs []*Node) (loss *Node, metrics map[string]*Node)

// Batches returns the inputs of a 0-based step. It must be deterministic in step: resuming at step
// s must see the batches an uninterrupted run would have seen.
type Batches func(step int) ([]*tensors.Tensor, error)

// gradientUpdater is the part of GoMLX's Adam that applies gradients computed (and clipped) by us.
type gradientUpdater interface {
	UpdateGraphWithGradients(ctx *context.Context, grads []*Node, lossDType dtypes.DType)
}

// Record is one line of metrics.jsonl.
type Record struct {
	Step        int                `json:"step"` // steps completed
	Seconds     float64            `json:"seconds"`
	LR          float64            `json:"lr"`
	Loss        float64            `json:"loss"` // mean over the steps since the previous record
	GradNorm    float64            `json:"grad_norm"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	StepsPerSec float64            `json:"steps_per_sec"`
}

// Result summarises a run.
type Result struct {
	StartStep   int      // step the run started (or resumed) at
	Steps       int      // steps completed in total
	Records     []Record // records written by this invocation
	StepsPerSec float64  // measured by this invocation, excluding the first (compiling) step
	LastLoss    float64  // mean loss of the last logging window
}

// ErrNonFinite is returned (wrapped) when the loss, the learning rate, the gradient norm or a
// metric becomes NaN or infinite.
var ErrNonFinite = errors.New("not finite")

// Run trains the variables of ctx to minimise lossFn. With cfg.Dir set it resumes from the newest
// checkpoint there, writes checkpoints every cfg.CheckpointEvery steps and at the end, and appends
// to metrics.jsonl. Running it again after it finished does nothing and returns the final step.
func Run(b backends.Backend, ctx *context.Context, cfg Config, lossFn LossFn, batches Batches) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("train %s: %w", cfg.Name, err)
	}
	start := 0
	if cfg.Dir != "" {
		latest, _, skipped, err := ResumeCheckpoint(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("train %s: cannot resume: %w", cfg.Name, err)
		}
		for _, note := range skipped {
			fmt.Fprintf(cfg.progress(), "train %s: %s; resuming from %s\n", cfg.Name, note, latest)
		}
		if latest != "" {
			step, err := LoadCheckpoint(ctx, latest)
			if err != nil {
				return nil, fmt.Errorf("train %s: cannot resume: %w", cfg.Name, err)
			}
			start = step
			if start < cfg.Steps {
				fmt.Fprintf(cfg.progress(), "train %s: resuming at step %d of %d from %s\n", cfg.Name, start, cfg.Steps, filepath.Base(latest))
			}
		}
	}
	if start == 0 {
		if err := ctx.SetRNGStateFromSeed(cfg.Seed); err != nil {
			return nil, err
		}
	}
	res := &Result{StartStep: start, Steps: start}
	if start >= cfg.Steps {
		return res, nil
	}
	var log *metricsLog
	if cfg.Dir != "" {
		var err error
		if log, err = openMetricsLog(filepath.Join(cfg.Dir, "metrics.jsonl"), start); err != nil {
			return nil, fmt.Errorf("train %s: %w", cfg.Name, err)
		}
		defer log.close()
	}

	var metricNames []string
	optimizer, ok := optimizers.Adam().LearningRate(cfg.LR).WeightDecay(cfg.WeightDecay).Done().(gradientUpdater)
	if !ok {
		return nil, fmt.Errorf("train %s: GoMLX's Adam no longer accepts precomputed gradients", cfg.Name)
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, inputs []*Node) []*Node {
		g := inputs[0].Graph()
		ctx.SetTraining(g, true)
		step := inputs[len(inputs)-1]
		loss, metrics := lossFn(ctx, inputs[:len(inputs)-1])
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		var sq *Node
		for _, gr := range grads {
			s := ReduceAllSum(Square(gr))
			if sq == nil {
				sq = s
			} else {
				sq = Add(sq, s)
			}
		}
		norm := Sqrt(sq)
		if cfg.ClipNorm > 0 {
			scale := MinScalar(Div(Scalar(g, norm.DType(), cfg.ClipNorm), AddScalar(norm, 1e-6)), 1)
			for i := range grads {
				grads[i] = Mul(grads[i], ConvertDType(scale, grads[i].DType()))
			}
		}
		lr := cfg.learningRateGraph(step)
		optimizers.LearningRateVar(ctx, lr.DType(), cfg.LR).SetValueGraph(lr)
		optimizer.UpdateGraphWithGradients(ctx, grads, loss.DType())
		metricNames = metricNames[:0]
		for name := range metrics {
			metricNames = append(metricNames, name)
		}
		sort.Strings(metricNames)
		outs := []*Node{loss, lr, norm}
		for _, name := range metricNames {
			outs = append(outs, metrics[name])
		}
		return outs
	})
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", cfg.Name, err)
	}

	bar := newProgress(cfg.Progress, cfg.Name, start, cfg.Steps, cfg.ImagesPerStep)
	began := time.Now()
	var timedFrom time.Time
	var window struct {
		n                  int
		loss, norm, lr     float64
		metrics            map[string]float64
		since              time.Time
		stepsAtWindowStart int
	}
	window.since = time.Now()
	window.stepsAtWindowStart = start
	for step := start; step < cfg.Steps; step++ {
		inputs, err := batches(step)
		if err != nil {
			return res, fmt.Errorf("train %s: batch for step %d: %w", cfg.Name, step, err)
		}
		args := make([]any, 0, len(inputs)+1)
		for _, t := range inputs {
			args = append(args, t)
		}
		args = append(args, float32(step))
		outs, err := exec.Exec(args...)
		if err != nil {
			return res, fmt.Errorf("train %s: step %d: %w", cfg.Name, step, err)
		}
		if step == start {
			timedFrom = time.Now()
		}
		loss := scalarOf(outs[0])
		values := map[string]float64{"loss": loss, "lr": scalarOf(outs[1]), "grad_norm": scalarOf(outs[2])}
		for i, name := range metricNames {
			values[name] = scalarOf(outs[3+i])
		}
		if name, v, bad := firstNonFiniteValue(values); bad {
			return res, fmt.Errorf("train %s: step %d: %s = %g: %w; %s; lower the learning rate or check the inputs",
				cfg.Name, step, name, v, ErrNonFinite, safeCheckpoint(cfg.Dir))
		}
		window.n++
		window.loss += loss
		window.lr = scalarOf(outs[1])
		window.norm += scalarOf(outs[2])
		if window.metrics == nil {
			window.metrics = map[string]float64{}
		}
		for i, name := range metricNames {
			window.metrics[name] += scalarOf(outs[3+i])
		}
		done := step + 1
		res.Steps = done
		last := done == cfg.Steps
		if done%cfg.logEvery() == 0 || last {
			rec := Record{Step: done, Seconds: time.Since(began).Seconds(), LR: window.lr,
				Loss: window.loss / float64(window.n), GradNorm: window.norm / float64(window.n), Metrics: map[string]float64{}}
			for name, v := range window.metrics {
				rec.Metrics[name] = v / float64(window.n)
			}
			if dt := time.Since(window.since).Seconds(); dt > 0 {
				rec.StepsPerSec = float64(done-window.stepsAtWindowStart) / dt
			}
			res.Records = append(res.Records, rec)
			res.LastLoss = rec.Loss
			if log != nil {
				if name, v, bad := firstNonFiniteValue(recordValues(rec)); bad {
					return res, fmt.Errorf("train %s: step %d: logged %s = %g: %w; %s", cfg.Name, done, name, v, ErrNonFinite, safeCheckpoint(cfg.Dir))
				}
				if err := log.write(rec); err != nil {
					return res, fmt.Errorf("train %s: %w", cfg.Name, err)
				}
			}
			bar.update(done, rec.Loss, last)
			window.n, window.loss, window.norm, window.metrics = 0, 0, 0, nil
			window.since, window.stepsAtWindowStart = time.Now(), done
		}
		if cfg.Dir != "" && (last || (cfg.CheckpointEvery > 0 && done%cfg.CheckpointEvery == 0) || slices.Contains(cfg.KeepSteps, done)) {
			if err := checkWeights(ctx, cfg.maxWeight()); err != nil {
				return res, fmt.Errorf("train %s: step %d: not saving a checkpoint: %w; %s; lower the learning rate",
					cfg.Name, done, err, safeCheckpoint(cfg.Dir))
			}
			if err := SaveCheckpoint(ctx, done, filepath.Join(cfg.Dir, checkpointName(done))); err != nil {
				return res, fmt.Errorf("train %s: %w", cfg.Name, err)
			}
			pruneCheckpoints(cfg.Dir, cfg.keep(), cfg.KeepSteps)
		}
	}
	if timed := res.Steps - start - 1; timed > 0 {
		res.StepsPerSec = float64(timed) / time.Since(timedFrom).Seconds()
	}
	return res, nil
}

// firstNonFiniteValue returns the alphabetically first NaN or ±Inf of values.
func firstNonFiniteValue(values map[string]float64) (string, float64, bool) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if v := values[name]; math.IsNaN(v) || math.IsInf(v, 0) {
			return name, v, true
		}
	}
	return "", 0, false
}

// recordValues are the numbers of a metrics record, by the names they are logged under.
func recordValues(r Record) map[string]float64 {
	values := map[string]float64{"loss": r.Loss, "lr": r.LR, "grad_norm": r.GradNorm, "seconds": r.Seconds, "steps_per_sec": r.StepsPerSec}
	for name, v := range r.Metrics {
		values["metrics."+name] = v
	}
	return values
}

// checkWeights checks that every trainable float variable of ctx is finite and at most limit in
// absolute value, naming the first that is not.
func checkWeights(ctx *context.Context, limit float64) error {
	var err error
	for v := range ctx.IterVariables() {
		if !v.Trainable || err != nil {
			continue
		}
		t, verr := v.Value()
		if verr != nil {
			return fmt.Errorf("variable %s: %w", v.ScopeAndName(), verr)
		}
		dt := t.DType()
		if dt != dtypes.Float32 && dt != dtypes.Float64 {
			continue
		}
		if cerr := t.ConstBytes(func(b []byte) {
			if i, x, bad := firstNonFinite(dt, b); bad {
				err = fmt.Errorf("weight %s[%d] is %g", v.ScopeAndName(), i, x)
				return
			}
			if m := maxAbs(dt, b); m > limit {
				err = fmt.Errorf("weight %s has diverged: its largest |value| is %.3g, above the sanity limit %.3g", v.ScopeAndName(), m, limit)
			}
		}); cerr != nil {
			return fmt.Errorf("variable %s: %w", v.ScopeAndName(), cerr)
		}
	}
	return err
}

// maxAbs is the largest absolute value of little-endian float32 or float64 values.
func maxAbs(dt dtypes.DType, b []byte) float64 {
	m := 0.0
	if dt == dtypes.Float64 {
		for i := 0; 8*i+8 <= len(b); i++ {
			m = max(m, math.Abs(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))))
		}
		return m
	}
	for i := 0; 4*i+4 <= len(b); i++ {
		m = max(m, math.Abs(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))))
	}
	return m
}

// safeCheckpoint says which checkpoint of dir a rerun would safely resume from (the newest that
// verifies), for error messages.
func safeCheckpoint(dir string) string {
	if dir == "" {
		return "no checkpoints are written (no Dir)"
	}
	path, step, _, err := peekResumeCheckpoint(dir)
	switch {
	case err != nil:
		return err.Error()
	case path == "":
		return "no checkpoint was saved yet: a rerun starts over"
	}
	return fmt.Sprintf("the newest checkpoint that verifies is %s (step %d): a rerun resumes from it", path, step)
}

func scalarOf(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case int64:
		return float64(v)
	case int32:
		return float64(v)
	}
	return math.NaN()
}

// metricsLog appends records to a JSONL file. On resume it first drops records beyond the step
// the run resumes from, so the log reads as one uninterrupted run.
type metricsLog struct {
	f *os.File
}

func openMetricsLog(path string, resumeStep int) (*metricsLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	var kept []byte
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r Record
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.Step <= resumeStep {
				kept = append(kept, sc.Bytes()...)
				kept = append(kept, '\n')
			}
		}
		f.Close()
	}
	if err := writeAtomic(path, func(w io.Writer) error { _, err := w.Write(kept); return err }); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &metricsLog{f: f}, nil
}

func (l *metricsLog) write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = l.f.Write(append(b, '\n'))
	return err
}

func (l *metricsLog) close() { _ = l.f.Close() }

// ReadMetrics reads a metrics.jsonl file.
func ReadMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	line := 0
	for sc.Scan() {
		line++
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
