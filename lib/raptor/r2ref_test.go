package raptor

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/blockrec/blockrec/lib/hidden"
)

// r2Reference is testdata/r2_reference.json, written by testdata/make_r2_reference.py with
// overcomplete's own r2_score.
type r2Reference struct {
	OvercompleteVersion string  `json:"overcomplete_version"`
	Epsilon             float64 `json:"epsilon"`
	Cases               []struct {
		Name                                    string
		Images, Tokens, Dim, Registers, Patches int
		Target, Pred                            []float32
		R2                                      map[string]struct {
			TargetFirst float64 `json:"target_first"`
			PredFirst   float64 `json:"pred_first"`
			PerFeature  float64 `json:"per_feature"`
		}
	}
}

// TestR2MatchesOvercomplete feeds the reference arrays image by image through Comparison and
// checks R2 against r2_score(target, pred), R2Trainer against r2_score(pred, target) and
// R2PerFeature against an independent numpy computation, for every token group.
func TestR2MatchesOvercomplete(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "r2_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref r2Reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("testdata/r2_reference.json: %v", err)
	}
	if ref.Epsilon != R2Epsilon {
		t.Errorf("overcomplete %s epsilon %g, R2Epsilon %g", ref.OvercompleteVersion, ref.Epsilon, R2Epsilon)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("testdata/r2_reference.json has no cases")
	}
	for _, tc := range ref.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			layout := hidden.Layout{NumRegisters: tc.Registers, NumPatches: tc.Patches}
			per := tc.Tokens * tc.Dim
			if layout.NumTokens() != tc.Tokens || len(tc.Target) != tc.Images*per || len(tc.Pred) != len(tc.Target) {
				t.Fatalf("malformed case: %d images × %d tokens × %d, %d/%d values", tc.Images, tc.Tokens, tc.Dim, len(tc.Target), len(tc.Pred))
			}
			c := NewComparison(1, tc.Dim, layout)
			for i := range tc.Images {
				p := &hidden.States{Layers: 1, Tokens: tc.Tokens, Dim: tc.Dim, Data: tc.Pred[i*per : (i+1)*per]}
				x := &hidden.States{Layers: 1, Tokens: tc.Tokens, Dim: tc.Dim, Data: tc.Target[i*per : (i+1)*per]}
				if err := c.Add(p, x); err != nil {
					t.Fatal(err)
				}
			}
			for g, name := range GroupNames {
				want, ok := tc.R2[name]
				if !ok {
					if v := c.R2(0, g); !math.IsNaN(v) {
						t.Errorf("%s: R2 %g of an empty group, want NaN", name, v)
					}
					continue
				}
				for _, m := range []struct {
					method    string
					got, want float64
				}{
					{"R2", c.R2(0, g), want.TargetFirst},
					{"R2Trainer", c.R2Trainer(0, g), want.PredFirst},
					{"R2PerFeature", c.R2PerFeature(0, g), want.PerFeature},
				} {
					if math.Abs(m.got-m.want) > 1e-6 {
						t.Errorf("%s %s = %.9f, overcomplete reference %.9f", name, m.method, m.got, m.want)
					}
				}
			}
			// The case offset_features exists to tell the definitions apart.
			if tc.Name == "offset_features" && math.Abs(c.R2(0, GroupAll)-c.R2PerFeature(0, GroupAll)) < 0.1 {
				t.Errorf("grand-mean R² %g and per-feature R² %g barely differ", c.R2(0, GroupAll), c.R2PerFeature(0, GroupAll))
			}
		})
	}
}
