package notebook_test

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/notebook"
)

// A notebook sizes its work with the scale knob; the same code runs in CI (smoke) and for real.
func ExamplePick() {
	for _, level := range notebook.Levels {
		steps := notebook.Pick(level, 20, 2_000, 100_000)
		fmt.Println(level, steps)
	}
	// Output:
	// smoke 20
	// cpu 2000
	// paper 100000
}

func ExampleParseScale() {
	_, err := notebook.ParseScale("gpu")
	fmt.Println(err)
	// Output: blockrec: BLOCKREC_SCALE="gpu" is not a scale: use one of smoke, cpu, paper
}
