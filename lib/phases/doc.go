// Package phases discovers the phases ("blocks") of a transformer's depth from a layer-by-layer
// dissimilarity matrix, as in "Block-Recurrent Dynamics in Vision Transformers" (section 2 of the
// research notes), and checks how block-like the phases are.
//
// The pipeline is:
//
//  1. Stream hidden states (one hidden.States per image) into a similarity accumulator:
//     [CLSMeanPatch] (the paper's measure), [TokenCosine] or [CKA]. Each returns an L×L
//     dissimilarity matrix W (zero diagonal, symmetric, larger = more different).
//  2. Find phases with one of two exact solvers:
//     [RecursiveBisection] reproduces the released notebook (recursive exact max-cut, not
//     constrained to be contiguous); [Contiguous] finds the k contiguous phases that maximise the
//     dissimilarity across phases (equivalently minimise the summed dissimilarity within phases) by
//     dynamic programming.
//  3. Judge the phases: [BlockIndex] against the smooth-drift null model [SmoothDrift],
//     [BoundaryStrengths], and the random baselines [RandomContiguous] and [RandomShuffled].
//
// A partition of the layers is a [Partition]: a [][]int of 0-based row indices of W, each phase
// sorted, phases ordered by their first member. Its String form is 1-indexed and inclusive,
// "1-7 8-10 11-12"; a non-contiguous phase lists its runs separated by commas, "1,3-4 2,5".
// Whether row 0 is the embedding output (layer 0) or the output of block 1 depends on the
// accumulator's IncludeEmbedding option; with the paper's default (false) row i is block i+1, so
// the String form names the blocks as the paper does.
//
// Everything is float64 and pure Go; no accelerator is needed.
package phases
