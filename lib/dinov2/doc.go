// Package dinov2 loads HuggingFace DINOv2 checkpoints (Dinov2Model and Dinov2WithRegistersModel:
// config.json + model.safetensors) into lib/vit, and extracts per-layer hidden states from them.
//
// Pieces, one file each:
//
//   - safetensors.go: a reader and writer of the safetensors format (F32, F16, BF16 and F64 data,
//     all returned as float32), with errors naming the file and the offending tensor.
//   - config.go: HF config.json → vit.Config (SwiGLU width, register tokens, antialiased position
//     embedding interpolation for the with-registers model).
//   - convert.go: HF tensor names and layouts → lib/vit's variable names and layouts. Every HF
//     tensor must be used (embeddings.mask_token is the only one deliberately skipped: it replaces
//     masked patches during DINOv2 pre-training and plays no part in a forward pass without a
//     mask), every vit variable must be filled, and shapes must match.
//   - hub.go: model references: a local folder, or a HF hub id such as facebook/dinov2-small,
//     looked up in the HF caches first and downloaded with go-huggingface otherwise.
//   - generate.go: tiny random checkpoints in the exact HF layout, so that tests and notebooks
//     without real weights run the same loading pipeline.
//   - extract.go: streaming batches of NHWC images through the model into hidden.Batch values.
//   - cli.go: the `blockrec dinov2` subcommand (extract, info, generate).
//
// Parity with HF transformers is tested against reference hidden states produced by PyTorch for
// two tiny checkpoints (testdata/, from shared/fixtures/dinov2), including interpolated position
// embeddings for square (antialiased) and non-square (plain bicubic) inputs.
package dinov2
