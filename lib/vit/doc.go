// Package vit is blockrec's Vision Transformer: patch embedding, CLS and register tokens, learned
// position embeddings (interpolated for other image sizes), pre-LN blocks (multi-head attention,
// GELU or SwiGLU MLP, optional LayerScale), uniform stochastic depth (DropPath that rescales the
// kept branch by 1/(1-p)), a final LayerNorm and a linear head.
//
// The forward pass returns the hidden state after the embedding and after every block, because
// every analysis in blockrec (similarity matrices, Raptor, dynamics) works on them. The same code
// hosts DINOv2 (lib/dinov2 maps HuggingFace weights onto the variable names listed by
// Config.WeightShapes).
//
// Images are NHWC float32 tensors. Every op used has a gradient on GoMLX's pure-Go backend: tokens
// are placed and read with constant selection matrices rather than Concatenate/Slice, whose
// gradients need Pad, which that backend lacks.
package vit
