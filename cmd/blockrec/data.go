package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/blockrec/blockrec/lib/data"
)

func init() {
	register("data", "check (or fetch) the data sets, in the order the notebooks use them, and say which one they will use", runData)
}

// dataSources are the sources Open tries, in its order.
var dataSources = []data.Kind{data.KindCIFAR100, data.KindCIFAR10JPEG, data.KindFashionMNIST, data.KindSynthetic}

func runData(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("data", "[--fetch]", "Loads each data set source in turn (checksums included) and reports what is there.", stderr)
	fetch := fs.Bool("fetch", false, "download CIFAR-100 when it is not in data/ (needs the network; without it nothing is downloaded)")
	if code, done := parseFlags(fs, args, 0, stdout); done {
		return code
	}
	ctx := context.Background()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "source\tstatus\timages (train / test)\tdetail")
	chosen, broken := "", false
	for _, kind := range dataSources {
		opts := data.Options{Only: kind, Offline: !*fetch, SyntheticTrain: 0}
		if *fetch && kind == data.KindCIFAR100 {
			opts.Logf = func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }
		}
		s, err := data.Open(ctx, opts)
		switch {
		case err == nil:
			fmt.Fprintf(tw, "%v\tok\t%d / %d\t%s\n", kind, s.Train.Len(), s.Test.Len(), s.Provenance())
			if chosen == "" && !broken {
				chosen = kind.String()
			}
		case errors.Is(err, data.ErrNotAvailable):
			fmt.Fprintf(tw, "%v\tmissing\t-\t%s\n", kind, howToGet(kind, err))
		default:
			fmt.Fprintf(tw, "%v\tBROKEN\t-\t%v\n", kind, err)
			broken = true
		}
	}
	tw.Flush()
	if broken {
		fmt.Fprintln(stderr, "blockrec data: a data set is present but broken: the notebooks stop on it; remove or repair it (see above)")
		return 1
	}
	fmt.Fprintf(stdout, "\nthe notebooks will use: %s\n", chosen)
	return 0
}

// howToGet says how to get a missing source.
func howToGet(kind data.Kind, err error) string {
	switch kind {
	case data.KindCIFAR100:
		return fmt.Sprintf("not in data/: run 'make data FETCH=1' online, or copy %s into data/", data.CIFAR100.Archive)
	case data.KindCIFAR10JPEG:
		return fmt.Sprintf("no %s in the shared folder (set BLOCKREC_SHARED_DATA)", data.StandInArchive)
	case data.KindFashionMNIST:
		return fmt.Sprintf("apt-get install %s (or set %s)", data.FashionMNISTPackage, data.FashionMNISTDirEnv)
	}
	return err.Error()
}
