// Package raptor distils a Vision Transformer (any teacher built with lib/vit: the CIFAR ViTs and
// DINOv2) into Raptor, a block-recurrent model: k weight-tied blocks, where block i runs at the
// layers of phase i, so that Raptor has exactly the teacher's depth (L block applications).
//
// Model (config.go, block.go, model.go). Raptor starts from the teacher's embedding output a_0 and
// applies L block steps; step t (1-based layer index) uses block Assign[t-1]. Assign comes from
// thresholds (block i serves t ≤ threshold_i, the official Raptor(blocks, thresholds)) or from any
// partition of the layers (random-shuffled baselines). A block is pre-LN attention plus an MLP
// (SwiGLU or GELU), each with LayerScale, and optional depth scaling: a small MLP of the raw layer
// index t (1→16, SiLU, →3·D, last layer initialised N(0, 1e-4), plus 1) gives per-channel scales
// t1 (attention residual), t2 (MLP residual) and t3 (block output). The teacher's final LayerNorm
// and head are reused, frozen, for evaluation.
//
// Training (loss.go, plan.go, train.go). The teacher-forced loss feeds the teacher's a_{l-1} and
// compares with a_l, every pair of the trained layers in one batch with its own t; the
// autoregressive loss rolls Raptor's own states out from the teacher's state at a segment start and
// supervises every step, averaged over steps. They mix as λ·TF + (1−λ)·AR with
// λ = max(0, 1 − step/(frac·steps)). Losses are plain MSE or the token-group weighted MSE (CLS,
// registers and patches each averaged separately, then weighted). Stage 1 trains each block alone
// on its own phase, starting from the teacher's activations at the phase start; Stage 2 chains all
// blocks from layer 0 to L, fully autoregressive, initialised from Stage 1. Training reads the
// teacher's hidden states from an on-disk cache (cache.go), never re-running the teacher; the
// optimisation loop is lib/train's.
//
// A non-contiguous phase (random-shuffled baseline) is trained in Stage 1 on each maximal run of
// consecutive layers it owns, each run rolled out from the teacher's state before it: for a
// contiguous phase this is exactly the official single span [start→end].
//
// Evaluation (metrics.go, eval.go): top-1 accuracy with the teacher's head on Raptor's output, and
// per layer and token group (CLS, registers, patches, all) the R² and the mean cosine between
// Raptor's and the teacher's hidden states. Comparison.R2 is overcomplete's r2_score, the metric of
// the released trainer: 1 − MSE / (mean squared deviation of the teacher's states from their grand
// scalar mean + 1e-6); R2Trainer swaps the arguments as the trainer does (SST of the prediction);
// R2PerFeature takes SST around the per-feature mean. Evaluate also returns per-image top-1
// predictions of Raptor and the teacher, for paired statistics (Agreement, McNemar).
//
// Layer swap (swap.go) is the training-free test: run the teacher with 1..3 of its layers replaced
// by another layer of the same phase (intra) or another phase (inter) and measure accuracy.
package raptor
