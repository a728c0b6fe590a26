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
//  3. Judge the phases: [WarpedDriftNull] (below); [BlockIndex] against the stationary
//     smooth-drift model [SmoothDrift] (which a decelerating drift passes, so it is not a test),
//     [BoundaryStrengths], and the random baselines [RandomContiguous] and [RandomShuffled].
//
// # Phases or drift
//
// [WarpedDriftNull] asks whether W has phases beyond a block-free drift. Its null is a 1-D warped
// drift, W_ij = F(|τ_i − τ_j|) + noise, F non-decreasing (isotonic) and τ moving at a speed whose
// logarithm is a smooth polynomial in depth (second difference at most
// [DefaultMaxCurvature] per layer²): constant, decelerating, accelerating and S-shaped drifts
// all belong to it. The alternative adds K−1 free jumps to τ at the better of the contiguous
// max-cut boundaries and a greedy scan. The statistic is the share of the null's residual that
// the jumps remove, and the p-value is a parametric bootstrap: the null's fit plus its residuals
// (inflated for the fit's degrees of freedom) resampled, with the whole procedure rerun on each
// replicate, so that the phases are re-optimised on the null as on the data. The K-phase
// max-cut is also re-optimised on the null's fitted matrix (NullTest.NullPartition,
// NullIndex), so the block index of the data can be set against that of the null with its own
// best phases.
//
// What it can tell: localised speed jumps, a change of τ within one layer larger than a smooth
// speed profile allows, from drifts whose speed changes smoothly; it is scale-free in W (F is
// free). What it cannot tell: a speed bump narrower than about 1/√MaxCurvature ≈ 1.4 layers is
// a jump by definition, so a very sharp S-shaped drift is "blocks"; a phase of one layer at
// either end is indistinguishable from fast early (or late) drift; only the order of the
// distances is identified, not the size of a jump; structure that no 1-D path explains (two
// phases alike but far apart in depth) is not what it looks for. The noise model is the
// residuals of the null fit, resampled independently: correlated noise (rows of W share
// images) makes it anti-conservative, and so does a matrix whose pairs mostly sit at F ≈ 0 (an
// accelerating drift that leaves the first half of 24 layers static is called blocks, p =
// 1/60, a known false positive). With a p-value uniform under the null, α of all drifts are
// called blocks; with images, a bootstrap over images is the better noise model.
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
