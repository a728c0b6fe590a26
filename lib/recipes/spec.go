package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Validate reports every field of the spec that is out of range (named as in spec.json), so that
// a bad value is refused before a run folder is claimed for it.
func (s ViTSpec) Validate() error {
	var errs []error
	check := func(ok bool, field string, v any, want string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s %v: %s", field, v, want))
		}
	}
	check(finite(s.Epochs) && s.Epochs > 0, "epochs", s.Epochs, "must be a finite number > 0")
	check(s.BatchSize > 0, "batch_size", s.BatchSize, "must be > 0")
	check(finite(s.LR) && s.LR > 0, "lr", s.LR, "must be a finite number > 0")
	check(finite(s.MinLR) && s.MinLR >= 0 && s.MinLR <= s.LR, "min_lr", s.MinLR, "must be in [0, lr]")
	check(finite(s.WarmupFrac) && s.WarmupFrac >= 0 && s.WarmupFrac <= 1, "warmup_frac", s.WarmupFrac, "must be in [0, 1]")
	check(finite(s.WeightDecay) && s.WeightDecay >= 0, "weight_decay", s.WeightDecay, "must be a finite number >= 0")
	check(finite(s.ClipNorm) && s.ClipNorm >= 0, "clip_norm", s.ClipNorm, "must be a finite number >= 0")
	check(finite(s.LabelSmoothing) && s.LabelSmoothing >= 0 && s.LabelSmoothing < 1, "label_smoothing", s.LabelSmoothing, "must be in [0, 1)")
	check(s.TrainImages >= 0, "train_images", s.TrainImages, "must be >= 0 (0: all)")
	check(s.TestImages >= 0, "test_images", s.TestImages, "must be >= 0 (0: all)")
	if err := s.Model.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("model: %w", err))
	}
	return errors.Join(errs...)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// ClaimSpec is claimSpec for commands that record their own settings in a run folder.
func ClaimSpec(path string, spec any) error { return claimSpec(path, spec) }

// claimSpec records spec as JSON in path, or checks that the spec already there is the same; a
// different one is an error naming each differing field with its old and new value.
func claimSpec(path string, spec any) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return writeJSONAtomic(path, spec)
	}
	if err != nil {
		return err
	}
	var old any
	if err := json.Unmarshal(raw, &old); err != nil {
		return fmt.Errorf("%s: corrupt spec: %w", path, err)
	}
	cur, err := asJSONValue(spec)
	if err != nil {
		return err
	}
	if diffs := specDiff("", old, cur); len(diffs) > 0 {
		return fmt.Errorf("%s holds a different run (%s); rerun with the same settings to resume, or use another folder", path, strings.Join(diffs, ", "))
	}
	return nil
}

// asJSONValue is v as encoding/json decodes its encoding into an any (maps, slices, float64...).
func asJSONValue(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(raw, &out)
}

// specDiff lists the fields where two decoded JSON values differ, as "field: old -> new".
func specDiff(prefix string, old, cur any) []string {
	om, ok1 := old.(map[string]any)
	cm, ok2 := cur.(map[string]any)
	if ok1 && ok2 {
		keys := map[string]bool{}
		for k := range om {
			keys[k] = true
		}
		for k := range cm {
			keys[k] = true
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		var out []string
		for _, k := range names {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			out = append(out, specDiff(name, om[k], cm[k])...)
		}
		return out
	}
	a, _ := json.Marshal(old)
	b, _ := json.Marshal(cur)
	if string(a) == string(b) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s -> %s", prefix, a, b)}
}
