// Package probes trains and scores the frozen-backbone probes of the paper's DINOv2 evaluation
// (§5.1) on precomputed features, in plain Go:
//
//   - linear.go: multinomial softmax regression trained with minibatch AdamW and a linear-warm-up
//     cosine learning-rate schedule; labels equal to an ignore value are skipped.
//   - classify.go: the ImageNet-style probe on [CLS, mean patch] features; top-1 accuracy.
//   - segment.go: the ADE20k-style per-patch linear head; patch logits bilinearly upsampled to the
//     label map; confusion matrix and mIoU over C classes with ignore label 255.
//   - depth.go: the NYUv2-style depth head: 256 linear bins over [0.001, 10] m, softmax-expectation
//     depth, trained with the paper's 10·SI-log (variance weight 0.85) + cross-entropy on the bin of
//     each patch's target depth (DepthLoss picks the mix), scored by RMSE in metres over valid pixels.
//   - datasets.go: readers for ADE20k's SceneParse150 layout and NYUv2's CSV layout.
//
// Features come from any backbone (lib/dinov2, Raptor); this package knows no model.
package probes
