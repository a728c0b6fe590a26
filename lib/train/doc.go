// Package train is blockrec's one training loop, shared by the ViT classifiers and Raptor: AdamW
// with linear warm-up then cosine decay, gradient clipping by global norm, a progress line with
// step/s and ETA, a metrics log (JSONL) per run, checkpoints written atomically, and resumption
// after interruption (restart the same run and it continues from the last checkpoint, ending with
// the same step count). A NaN or infinite loss, learning rate, gradient norm or metric stops
// training with an error naming the step and the value; weights that are not finite or have
// diverged past Config.MaxWeight are never saved, and the error names the newest checkpoint that
// verifies. Resuming skips (and renames to .corrupt) newer checkpoints that fail verification.
//
// The loop knows no model: a run is a loss function (a GoMLX graph of the batch inputs) and a
// batch function that returns the inputs of any step deterministically, which is what makes
// resumption exact. classify.go adds the ViT classification loss and evaluation.
package train
