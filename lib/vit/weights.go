package vit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// WeightShapes lists every variable of the model as "scope/.../name" relative to the model's
// scope, with its shape. It is the contract between lib/vit and weight loaders (lib/dinov2).
func (c Config) WeightShapes() map[string][]int {
	d, hdim := c.Dim, c.MLPHidden
	grid := c.Grid()
	w := map[string][]int{
		"patch_embed/weights": {c.PatchSize * c.PatchSize * c.Channels, d},
		"patch_embed/biases":  {d},
		"pos_embed":           {1 + grid*grid, d},
		"cls_token":           {d},
		"norm/gain":           {d},
		"norm/offset":         {d},
	}
	if c.Registers > 0 {
		w["reg_tokens"] = []int{c.Registers, d}
	}
	for i := range c.Depth {
		s := BlockScope(i) + "/"
		for _, n := range []string{"norm1", "norm2"} {
			w[s+n+"/gain"], w[s+n+"/offset"] = []int{d}, []int{d}
		}
		for _, n := range []string{"query", "key", "value", "proj"} {
			w[s+"attn/"+n+"/weights"], w[s+"attn/"+n+"/biases"] = []int{d, d}, []int{d}
		}
		if c.LayerScaleInit != 0 {
			w[s+"ls1/gamma"], w[s+"ls2/gamma"] = []int{d}, []int{d}
		}
		if c.MLP == MLPSwiGLU {
			w[s+"mlp/w1/weights"], w[s+"mlp/w1/biases"] = []int{d, hdim}, []int{hdim}
			w[s+"mlp/w2/weights"], w[s+"mlp/w2/biases"] = []int{d, hdim}, []int{hdim}
			w[s+"mlp/w3/weights"], w[s+"mlp/w3/biases"] = []int{hdim, d}, []int{d}
		} else {
			w[s+"mlp/fc1/weights"], w[s+"mlp/fc1/biases"] = []int{d, hdim}, []int{hdim}
			w[s+"mlp/fc2/weights"], w[s+"mlp/fc2/biases"] = []int{hdim, d}, []int{d}
		}
	}
	if c.NumClasses > 0 {
		in := d
		if c.HeadInput == HeadCLSMeanPatch {
			in = 2 * d
		}
		w["head/weights"], w["head/biases"] = []int{in, c.NumClasses}, []int{c.NumClasses}
	}
	return w
}

// SetWeights stores weights (keyed as in WeightShapes) as variables under ctx's scope. Every
// weight the config needs must be present with the right shape, and no other may be given: the
// error names each offending tensor. Head weights may be omitted (a fresh head is then created).
func (c Config) SetWeights(ctx *context.Context, weights map[string]*tensors.Tensor) error {
	want := c.WeightShapes()
	var problems []string
	for name, shape := range want {
		t, ok := weights[name]
		if !ok {
			if strings.HasPrefix(name, "head/") {
				continue
			}
			problems = append(problems, fmt.Sprintf("missing tensor %q (shape %v)", name, shape))
			continue
		}
		if !equalDims(t.Shape().Dimensions, shape) {
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, want %v", name, t.Shape().Dimensions, shape))
		}
	}
	for name := range weights {
		if _, ok := want[name]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected tensor %q", name))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("vit weights: %s", strings.Join(problems, "; "))
	}
	for name, t := range weights {
		scope, leaf := splitName(name)
		sc := ctx
		if scope != "" {
			for _, part := range strings.Split(scope, "/") {
				sc = sc.In(part)
			}
		}
		// Variables own their tensors (executions may donate them), so store a copy.
		owned, err := t.LocalClone()
		if err != nil {
			return fmt.Errorf("vit weights: copying %q: %w", name, err)
		}
		if v := sc.GetVariableByScopeAndName(sc.Scope(), leaf); v != nil {
			if err := v.SetValue(owned); err != nil {
				return fmt.Errorf("vit weights: setting %q: %w", name, err)
			}
			continue
		}
		sc.Checked(false).VariableWithValue(leaf, owned)
	}
	return nil
}

// Weights reads the model's variables (as named by WeightShapes) from ctx's scope.
func (c Config) Weights(ctx *context.Context) (map[string]*tensors.Tensor, error) {
	out := map[string]*tensors.Tensor{}
	for name := range c.WeightShapes() {
		scope, leaf := splitName(name)
		full := ctx.Scope()
		if scope != "" {
			full = strings.TrimSuffix(full, "/") + "/" + scope
		}
		v := ctx.GetVariableByScopeAndName(full, leaf)
		if v == nil {
			return nil, fmt.Errorf("vit weights: variable %s/%s not found (model not built yet?)", full, leaf)
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("vit weights: %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

func splitName(name string) (scope, leaf string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

func equalDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
