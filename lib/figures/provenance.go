package figures

import "time"

// Provenance says what a figure was made from. It is saved next to the figure as <name>.json.
type Provenance struct {
	// Dataset names the data (e.g. "CIFAR-100 test, 512 images").
	Dataset string `json:"dataset"`
	// Scale is the BLOCKREC_SCALE level; Save fills it in when empty.
	Scale string `json:"scale"`
	// Model names the model and its checkpoint (e.g. "DINOv2 ViT-S/14 with registers").
	Model string `json:"model"`
	// Backend describes the GoMLX backend that computed the numbers (backend.Describe).
	Backend string `json:"backend"`
	// Notes is free text: seeds, caveats, what to look at.
	Notes string `json:"notes,omitempty"`
	// Extra holds any other settings worth recording; values must encode as JSON.
	Extra map[string]any `json:"extra,omitempty"`
	// Date is when the figure was saved; Save fills it in when zero.
	Date time.Time `json:"date"`
}

// sidecar is the content of <name>.json.
type sidecar struct {
	Name string `json:"name"`
	Provenance
	WidthCm  float64  `json:"width_cm"`
	HeightCm float64  `json:"height_cm"`
	Files    []string `json:"files"`
}
