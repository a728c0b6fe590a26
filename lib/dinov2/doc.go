// Package dinov2 loads ViT checkpoints into lib/vit and extracts per-layer hidden states from
// them: HuggingFace Dinov2Model, Dinov2WithRegistersModel, ViTModel (google/vit-*,
// facebook/dino-vit*) and DeiTModel folders (config.json + model.safetensors, bare or with a task
// prefix such as "vit."), and timm's DINOv2 folders (vit_*_dinov2, vit_*_reg4_dinov2). DeiT's
// distillation token is held as lib/vit's one register token (a constant token after CLS).
// LoadDir also reads the model's own preprocessing (preprocessor_config.json, timm's
// pretrained_cfg) into Model.Preprocess.
//
// Pieces, one file each:
//
//   - safetensors.go: a reader and writer of the safetensors format (F32, F16, BF16 and F64 data,
//     all returned as float32), with errors naming the file and the offending tensor.
//   - config.go: HF config.json → vit.Config (SwiGLU width, register tokens, antialiased position
//     embedding interpolation for the with-registers model).
//   - vitfamily.go: the ViTModel / DeiTModel tensor layout; timm.go: timm's DINOv2 layout (the
//     architecture read off the shapes); preprocess.go: the models' preprocessing configs.
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
// Parity with HF transformers is tested against reference hidden states written by transformers
// 5.24.0 itself (scripts/make_hf_fixtures.py; testdata/hf-*, tiny-*) for tiny random models of
// every family, batch 2, at the training size and with interpolated position embeddings (square
// and non-square): every layer and token group within 1e-5 relative error. The timm fixtures are
// the same weights renamed to timm's layout.
package dinov2
