package dinov2

import (
	"strings"
	"testing"

	"github.com/blockrec/blockrec/lib/vit"
)

func TestParseHFConfig(t *testing.T) {
	cases := []struct {
		name, json string
		check      func(t *testing.T, c vit.Config)
		wantErr    string
	}{
		{"giant swiglu width", `{"model_type":"dinov2","hidden_size":1536,"num_hidden_layers":40,"num_attention_heads":24,
			"use_swiglu_ffn":true,"image_size":518,"patch_size":14}`, func(t *testing.T, c vit.Config) {
			if c.MLP != vit.MLPSwiGLU || c.MLPHidden != 4096 {
				t.Errorf("MLP %s %d, want swiglu 4096", c.MLP, c.MLPHidden)
			}
		}, ""},
		{"odd swiglu width rounds up to 8", `{"hidden_size":100,"num_hidden_layers":1,"num_attention_heads":4,
			"use_swiglu_ffn":true,"image_size":28,"patch_size":14}`, func(t *testing.T, c vit.Config) {
			if c.MLPHidden != 272 { // int(400·2/3) = 266 → 272
				t.Errorf("hidden %d, want 272", c.MLPHidden)
			}
		}, ""},
		{"base with registers", `{"model_type":"dinov2_with_registers","hidden_size":768,"num_hidden_layers":12,
			"num_attention_heads":12,"num_register_tokens":4,"image_size":518,"patch_size":14,"layerscale_value":1.0}`,
			func(t *testing.T, c vit.Config) {
				if c.Registers != 4 || !c.PosEmbedAntialias || c.MLPHidden != 3072 || c.LayerNormEps != 1e-6 || c.Grid() != 37 {
					t.Errorf("got %+v", c)
				}
			}, ""},
		{"plain dinov2 has no antialias", `{"model_type":"dinov2","hidden_size":384,"num_hidden_layers":12,
			"num_attention_heads":6,"image_size":518,"patch_size":14}`, func(t *testing.T, c vit.Config) {
			if c.PosEmbedAntialias || c.Registers != 0 || c.ApproximateGELU {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"unsupported model type lists the supported ones", `{"model_type":"swin","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":1,"image_size":8,"patch_size":4}`,
			nil, `model_type "swin" is not supported (supported: dinov2, dinov2_with_registers, vit, deit)`},
		{"vit base", `{"model_type":"vit","hidden_size":768,"num_hidden_layers":12,"num_attention_heads":12,
			"intermediate_size":3072,"image_size":224,"patch_size":16}`, func(t *testing.T, c vit.Config) {
			if c.MLPHidden != 3072 || c.LayerScaleInit != 0 || c.Registers != 0 || c.LayerNormEps != 1e-12 || c.PosEmbedAntialias {
				t.Errorf("got %+v", c)
			}
		}, ""},
		{"deit distillation token is one register", `{"model_type":"deit","hidden_size":192,"num_hidden_layers":12,
			"num_attention_heads":3,"intermediate_size":768,"image_size":224,"patch_size":16,"layer_norm_eps":1e-6}`,
			func(t *testing.T, c vit.Config) {
				if c.Registers != 1 || c.LayerScaleInit != 0 || c.LayerNormEps != 1e-6 {
					t.Errorf("got %+v", c)
				}
			}, ""},
		{"vit needs intermediate_size", `{"model_type":"vit","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":1,"image_size":8,"patch_size":4}`,
			nil, "intermediate_size must be positive"},
		{"vit has no registers", `{"model_type":"vit","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":1,"image_size":8,"patch_size":4,
			"intermediate_size":16,"num_register_tokens":2}`, nil, "no register tokens"},
		{"activation", `{"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":1,"image_size":8,"patch_size":4,"hidden_act":"relu"}`,
			nil, `hidden_act "relu"`},
		{"heads", `{"hidden_size":10,"num_hidden_layers":1,"num_attention_heads":3,"image_size":8,"patch_size":4}`,
			nil, "divisible"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseHFConfig([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c.ViT())
		})
	}
}
