package main

import (
	"flag"
	"fmt"
	"math"
)

// flagRule is one range check of a numeric flag: ok says whether its value is acceptable, want
// what an acceptable value is.
type flagRule struct {
	name string
	ok   bool
	want string
}

// checkFlags returns an error naming the first flag (in the order given) whose value is out of
// range, e.g. "--batch 0: must be a whole number > 0".
func checkFlags(fs *flag.FlagSet, rules ...flagRule) error {
	for _, r := range rules {
		if !r.ok {
			value := "?"
			if f := fs.Lookup(r.name); f != nil {
				value = f.Value.String()
			}
			return fmt.Errorf("--%s %s: must be %s", r.name, value, r.want)
		}
	}
	return nil
}

// setFlags is the set of flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// finite reports whether x is neither NaN nor ±Inf.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// positive and nonNegative are the finite numbers > 0 and >= 0.
func positive(x float64) bool    { return finite(x) && x > 0 }
func nonNegative(x float64) bool { return finite(x) && x >= 0 }
