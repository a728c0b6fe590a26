// Package recipes holds blockrec's end-to-end experiment steps, shared by the notebooks and the
// command line: train a ViT teacher on a dataset (cached and resumable in its own folder), and
// the CIFAR experiment's later steps. Each step writes its results next to its checkpoints, so a
// notebook cell or a batch run that is repeated reuses them instead of recomputing.
package recipes
