package dynamics

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/hidden"
)

// Trajectories projects each image's path through depth (the CLS token or the mean patch, per the
// PCA's config) onto a fitted PCA, keeping one small record per image.
type Trajectories struct {
	layout hidden.Layout
	pca    *PCA
	out    []Trajectory
	point  []float64
}

// Trajectory is one image's projected path: Coords[i][c] is the coordinate on component c at layer
// Layers[i]; X and Y are components 0 and 1 (Y is nil for a 1-component PCA).
type Trajectory struct {
	Image  int
	Label  int
	Layers []int
	Coords [][]float64
	X, Y   []float64
}

// TrajectoryResult holds every projected path plus the PCA's explained-variance ratios.
type TrajectoryResult struct {
	Kind         TrajectoryKind
	Explained    []float64
	Trajectories []Trajectory
}

// NewTrajectories returns an empty accumulator projecting onto pca.
func NewTrajectories(layout hidden.Layout, pca *PCA) (*Trajectories, error) {
	if pca == nil || len(pca.Components) == 0 {
		return nil, fmt.Errorf("dynamics: trajectories: no fitted PCA")
	}
	return &Trajectories{layout: layout, pca: pca}, nil
}

// Add projects one image's path; label (e.g. its class) is carried through for colouring.
func (t *Trajectories) Add(s *hidden.States, label int) error {
	if err := checkStates("trajectories", t.layout, s, 1); err != nil {
		return err
	}
	if s.Dim != len(t.pca.Mean) {
		return fmt.Errorf("dynamics: trajectories: states have dim %d, the PCA was fitted on dim %d", s.Dim, len(t.pca.Mean))
	}
	layers, err := trajectoryLayers(t.pca.Config, s.Layers)
	if err != nil {
		return fmt.Errorf("dynamics: trajectories: %w", err)
	}
	t.point = resize(t.point, s.Dim)
	tr := Trajectory{Image: len(t.out), Label: label, Layers: append([]int(nil), layers...)}
	for _, l := range layers {
		trajectoryPoint(t.layout, t.pca.Config, s, l, t.point)
		c := t.pca.Project(t.point)
		tr.Coords = append(tr.Coords, c)
		tr.X = append(tr.X, c[0])
		if len(c) > 1 {
			tr.Y = append(tr.Y, c[1])
		}
	}
	t.out = append(t.out, tr)
	return nil
}

// Result returns the projected paths in the order they were added.
func (t *Trajectories) Result() TrajectoryResult {
	return TrajectoryResult{Kind: t.pca.Config.Kind, Explained: append([]float64(nil), t.pca.Explained...), Trajectories: t.out}
}
