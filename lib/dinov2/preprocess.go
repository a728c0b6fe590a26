package dinov2

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/blockrec/blockrec/lib/data"
)

const preprocessorFileName = "preprocessor_config.json"

// hfPreprocessor holds the fields of a HF image-processor config (BitImageProcessor for DINOv2,
// ViTImageProcessor for ViT and DeiT's processors) that define evaluation preprocessing.
type hfPreprocessor struct {
	DoResize     *bool          `json:"do_resize"`
	Size         map[string]int `json:"size"`      // {"shortest_edge": n} or {"height": h, "width": w}
	CropSize     map[string]int `json:"crop_size"` // {"height": h, "width": w}
	DoCenterCrop bool           `json:"do_center_crop"`
	Resample     int            `json:"resample"` // PIL: 2 bilinear, 3 bicubic
	ImageMean    []float32      `json:"image_mean"`
	ImageStd     []float32      `json:"image_std"`
}

// ReadPreprocessing returns the model's own evaluation preprocessing from the folder's
// preprocessor_config.json (HF) as a data.Preprocessor, and false when the folder has none.
//
// A {"shortest_edge": n} size is data.Preprocessor's Resize; a square {"height": n, "width": n}
// size without crop (ViTImageProcessor) becomes Resize n, Crop n, which is HF's exact n×n resize
// for square images only (HF stretches other images, data.Preprocessor keeps the aspect ratio and
// crops). Non-square sizes and crops are refused.
func ReadPreprocessing(dir string) (data.Preprocessor, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, preprocessorFileName))
	if errors.Is(err, os.ErrNotExist) {
		return data.Preprocessor{}, false, nil
	}
	if err != nil {
		return data.Preprocessor{}, false, fmt.Errorf("dinov2 preprocessing: %w", err)
	}
	p, err := parseHFPreprocessor(b)
	if err != nil {
		return data.Preprocessor{}, false, fmt.Errorf("dinov2 preprocessing %s: %w", filepath.Join(dir, preprocessorFileName), err)
	}
	return p, true, nil
}

func parseHFPreprocessor(b []byte) (data.Preprocessor, error) {
	var c hfPreprocessor
	if err := json.Unmarshal(b, &c); err != nil {
		return data.Preprocessor{}, fmt.Errorf("bad JSON: %w", err)
	}
	p := data.Preprocessor{Filter: data.Bicubic, Stats: data.Stats{Mean: c.ImageMean, Std: c.ImageStd}}
	switch c.Resample {
	case 2:
		p.Filter = data.Bilinear
	case 3:
	default:
		return data.Preprocessor{}, fmt.Errorf("resample %d is not supported (want 2, bilinear, or 3, bicubic)", c.Resample)
	}
	if len(c.ImageMean) != 3 || len(c.ImageStd) != 3 {
		return data.Preprocessor{}, fmt.Errorf("image_mean and image_std must have 3 values, got %d and %d", len(c.ImageMean), len(c.ImageStd))
	}
	if n, ok := c.Size["shortest_edge"]; ok {
		p.Resize = n
	} else if h, w := c.Size["height"], c.Size["width"]; h > 0 && h == w {
		p.Resize, p.Crop = h, h
	} else {
		return data.Preprocessor{}, fmt.Errorf("size %v is not supported (want shortest_edge, or equal height and width)", c.Size)
	}
	if c.DoCenterCrop {
		h, w := c.CropSize["height"], c.CropSize["width"]
		if h <= 0 || h != w {
			return data.Preprocessor{}, fmt.Errorf("crop_size %v is not supported (want equal height and width)", c.CropSize)
		}
		p.Crop = h
	}
	if p.Crop == 0 {
		return data.Preprocessor{}, errors.New("no center crop and no square size: the output size is not fixed")
	}
	return p, nil
}

// timmPreprocessing maps timm's pretrained_cfg (input_size [C, H, W], crop_pct, interpolation,
// mean, std) onto data.Preprocessor: Resize floor(H / crop_pct), Crop H, as timm's eval transform.
func timmPreprocessing(c timmPretrainedCfg) (data.Preprocessor, error) {
	if len(c.InputSize) != 3 || c.InputSize[1] != c.InputSize[2] || c.InputSize[1] <= 0 {
		return data.Preprocessor{}, fmt.Errorf("pretrained_cfg.input_size %v is not supported (want [C, n, n])", c.InputSize)
	}
	if len(c.Mean) != 3 || len(c.Std) != 3 {
		return data.Preprocessor{}, fmt.Errorf("pretrained_cfg mean and std must have 3 values, got %d and %d", len(c.Mean), len(c.Std))
	}
	p := data.Preprocessor{Crop: c.InputSize[1], Filter: data.Bicubic, Stats: data.Stats{Mean: c.Mean, Std: c.Std}}
	switch c.Interpolation {
	case "bicubic", "":
	case "bilinear":
		p.Filter = data.Bilinear
	default:
		return data.Preprocessor{}, fmt.Errorf("pretrained_cfg.interpolation %q is not supported (want bicubic or bilinear)", c.Interpolation)
	}
	pct := c.CropPct
	if pct == 0 {
		pct = 0.875 // timm's DEFAULT_CROP_PCT
	}
	p.Resize = int(math.Floor(float64(p.Crop) / pct))
	return p, nil
}
