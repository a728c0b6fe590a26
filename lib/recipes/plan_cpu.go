package recipes

import (
	"github.com/blockrec/blockrec/lib/notebook"
	"github.com/blockrec/blockrec/lib/vit"
)

// cpuPlan is the cpu scale: the strongest CIFAR experiment this 2-core machine runs in about
// two hours on XLA CPU. Costs measured on the 12-layer teacher (dim 64, patch 8, 17 tokens):
//
//   - teacher training, batch 64: 240–290 img/s, so one epoch of 50,000 images ≈ 3.5 min;
//   - Raptor, batch 16: ≈ 11 stage-1 steps/s for a 12-layer segment and ≈ 14 stage-2 steps/s,
//     plus ≈ 10 s of XLA compilation per stage and per evaluation graph: a fit of 1,000 steps
//     per stage ≈ 3 min whatever K, a fit of 150 steps ≈ 1 min (mostly compiling).
//
// Where the time goes: 8 teachers (4 rates × 2 seeds) ≈ 30 min; K = 1..4 with 2 seeds on the
// p = 0 teacher and K = 3 with 2 seeds on the other rates (14 fits of 1,000 steps) ≈ 45 min;
// Table 1's ablation at K = 3 with 1 seed (4 more fits without stage 2) ≈ 9 min;
// the random-phase baselines at K = 2 on the p = 0 teacher with a short recipe (all 11 other
// contiguous partitions, 10 shuffles and 2 max-cut fits with the same recipe) ≈ 25 min; swaps,
// controls, phases the rest. A second baseline rate would add ≈ 25 min and does not fit.
func cpuPlan() CIFARPlan {
	m := vit.Tiny(0)
	m.Depth = 12
	return CIFARPlan{Scale: notebook.CPU, Model: m, SDRates: []float64{0, 0.25, 0.5, 0.8}, TeacherSeeds: 2,
		// One epoch of all 50,000 training images, with the standard recipe (random crop + flip,
		// 5 % warm-up, cosine decay); the test split's 10,000 images score the teachers.
		Epochs: 1, BatchSize: 64, TrainImages: 0, TestImages: 0,
		ProbeImages: 500, EvalLimit: 2000, Ks: []int{1, 2, 3, 4},
		RaptorSteps: 1000, RaptorTrainImages: 2048, RaptorBatch: 16, RaptorLR: 1e-3, RaptorLayerScale: 0.1, RaptorSeeds: 2,
		RaptorSweepSDs: []float64{0}, RaptorOtherKs: []int{3},
		AblationK: 3, AblationSeeds: 1,
		BaselineKs: []int{2}, BaselineSDs: []float64{0}, BaselineSteps: 150, BaselineDraws: 10, BaselineShuffles: 10,
		DynamicsSD: 0, PhaseBootstrap: 200, NullReplicates: 99}
}
