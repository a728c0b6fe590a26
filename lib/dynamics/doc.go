// Package dynamics implements the "depth as time" analyses of the paper's section 7 over the
// per-layer hidden states of any transformer (hidden.States), for each token group of a
// hidden.Layout (CLS, registers, patches).
//
// Layer l of hidden.States is read as time step l; the final layer L = States.Layers-1.
// Because token norms grow with depth, every angular quantity works on the unit sphere,
// x̂ = x/‖x‖, per token.
//
// Metrics (each an accumulator that streams over images: New…, Add(*hidden.States) per image,
// Result() for plain slices that are easy to plot; all but PCAFit and Trajectories also have
// Merge, for parallel streams; Feed and AddBatch drive several at once):
//
//   - Convergence: direction convergence γ_l = cos(x_l, x_L) per token, l = 0..L.
//   - Speed: angular speed s_l = ∠(x_l, x_{l+1}) in radians, l = 0..L-1 (the step of block l+1);
//     BoundaryTest asks whether speed jumps at given phase boundaries and stays flat inside phases.
//   - SelfCorrection: perturb selected tokens at layer l by a relative norm ε along a seeded
//     Gaussian direction, run the model to the end through a RunFrom, and measure how far the final
//     layer ends from the unperturbed one, per token group, as a function of l. With a RunPath
//     (NewSelfCorrectionPath) also the angle between the perturbed and the clean state at every
//     later layer, and the per-block angular contraction θ_{l+1}/θ_l with a percentile-bootstrap
//     interval over images: the relative deviation ‖f′ − f‖/‖f‖ shrinks with norm growth alone,
//     the angle does not.
//   - UpdateField: stable rank ‖Δ‖²_F/‖Δ‖²_2 and top-k singular values of the per-layer update
//     Δ_l = x_{l+1} − x_l (tokens × dim), per token scope, optionally centred, with the centred
//     stable rank always reported next to it; and the coherence of the update directions (mean
//     pairwise cosine, cosine with the mean update).
//   - SigmoidTest: is a curve (γ against depth) S-shaped? A logistic against a line and a parabola
//     by AICc, with the inflection required inside the data.
//   - PCAFit and Trajectories: a 2-D PCA of the CLS (or mean-patch) path through depth, with the
//     image labels carried through.
//   - Summarize turns results into booleans plus the numbers that decided them, one per claim
//     of the paper.
//
// All arithmetic is accumulated in float64. No accumulator keeps more than one image's states;
// per-token distributions are kept as fixed-range histograms (percentiles are exact to one bin
// width, see Stat), per-image scalars are kept exactly.
//
// Numerics: inputs are float32, so an update Δ = x_{l+1} − x_l carries the float32 rounding of
// the states (≈ 1e-7·‖x‖); spectra of updates far below that level (e.g. a centred field that is
// zero in exact arithmetic) measure rounding noise.
//
// Linear algebra is gonum's (EigenSym; Mul, QR and EigenSym inside the subspace iteration of the
// PCA); BenchmarkEigen records the comparison with the hand-written solvers it replaced.
//
// Cost for one 40-layer × 257-token × 1536-dim image (one core of a shared 2-core machine):
// Convergence and Speed ≈ 0.05 s each, PCAFit ≈ 0.12 s, UpdateField ≈ 3.7 s CPU (Gram matrices
// and two symmetric eigenvalue problems per scope and step, raw and centred; it spreads layers
// over Workers goroutines). See BenchmarkPerImage.
//
// Phase boundaries follow one convention everywhere: a boundary b is the layer index after which
// a new phase starts, so phases are layers [..b] and [b+1..]. With layer i the output of block i,
// this equals the "thresholds" of the paper's code (block j covers t ≤ threshold_j), and the jump
// at b is s_b − s_{b−1}: the step of the first block of the new phase minus that of the last block
// of the old one.
package dynamics
