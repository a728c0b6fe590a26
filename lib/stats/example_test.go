package stats_test

import (
	"fmt"

	"github.com/blockrec/blockrec/lib/stats"
)

func ExampleWilson() {
	// 333 of 1000 images classified correctly.
	iv, err := stats.Wilson(333, 1000, stats.DefaultLevel)
	if err != nil {
		fmt.Println(err)
		return
	}
	e := stats.Estimate{Value: 0.333, CI: iv, N: 1000}
	fmt.Println(iv.Method, iv)
	fmt.Println(e.Format(100, 1), "%")
	fmt.Println("above chance (10%):", stats.Above(iv, 0.10))
	fmt.Println("above 35%:", stats.Above(iv, 0.35))
	// Output:
	// Wilson [0.304, 0.363]
	// 33.3 [30.4, 36.3] %
	// above chance (10%): holds
	// above 35%: not testable at this scale
}

func ExampleMcNemar() {
	// Two models on the same 10 images: a is right on 3 images where b is
	// wrong, and wrong on none where b is right.
	a := []bool{true, true, true, true, false, true, true, false, true, true}
	b := []bool{true, false, false, true, false, true, false, false, true, true}
	r, err := stats.McNemar(a, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("B=%d C=%d p=%.3f\n", r.B, r.C, r.P)
	// Output:
	// B=3 C=0 p=0.250
}
