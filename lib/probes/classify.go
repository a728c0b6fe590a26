package probes

import "fmt"

// CLSMeanPatch builds DINOv2's linear-probe features from normed tokens: for each of n images
// with tokens×dim values (CLS first, then registers, then patches from patchFrom on), the
// concatenation [CLS, mean of tokens patchFrom..tokens-1] (n×2·dim).
func CLSMeanPatch(normed []float32, n, tokens, dim, patchFrom int) []float32 {
	out := make([]float32, n*2*dim)
	for i := range n {
		img := normed[i*tokens*dim : (i+1)*tokens*dim]
		dst := out[i*2*dim : (i+1)*2*dim]
		copy(dst[:dim], img[:dim])
		for t := patchFrom; t < tokens; t++ {
			for k, v := range img[t*dim : (t+1)*dim] {
				dst[dim+k] += v
			}
		}
		for k := dim; k < 2*dim; k++ {
			dst[k] /= float32(tokens - patchFrom)
		}
	}
	return out
}

// Top1 is the fraction of predictions equal to the labels.
func Top1(pred, labels []int32) (float64, error) {
	if len(pred) != len(labels) || len(pred) == 0 {
		return 0, fmt.Errorf("probes: top-1 of %d predictions against %d labels", len(pred), len(labels))
	}
	hits := 0
	for i := range pred {
		if pred[i] == labels[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(pred)), nil
}
