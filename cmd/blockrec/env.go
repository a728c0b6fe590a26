package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/blockrec/blockrec/lib/backend"
	"github.com/blockrec/blockrec/lib/notebook"
)

func init() {
	register("version", "print the versions of Go, blockrec and its key modules", runVersion)
	register("env", "print versions, the scale, the repository root and the GoMLX backend", runEnv)
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "Prints the versions of Go, blockrec and its key modules.", stderr)
	if code, done := parseFlags(fs, args, 0, stdout); done {
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	writeVersions(tw)
	tw.Flush()
	return 0
}

func writeVersions(w io.Writer) {
	for _, v := range notebook.Versions() {
		fmt.Fprintf(w, "%s\t%s\n", v.Name, v.Version)
	}
}

func runEnv(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("env", "[--no-backend]", "Prints versions, the scale, the repository root and the GoMLX backend.", stderr)
	noBackend := fs.Bool("no-backend", false, "do not start the GoMLX backend (only say which would be chosen)")
	if code, done := parseFlags(fs, args, 0, stdout); done {
		return code
	}
	status := 0
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	writeVersions(tw)
	if scale, err := notebook.LookupScale(); err != nil {
		fmt.Fprintf(tw, "scale\tERROR: %v\n", err)
		status = 1
	} else {
		fmt.Fprintf(tw, "scale\t%s (%s)\n", scale, notebook.ScaleEnv)
	}
	if root, err := notebook.RepoRoot(); err != nil {
		fmt.Fprintf(tw, "root\t(not in a checkout: %v)\n", err)
	} else {
		fmt.Fprintf(tw, "root\t%s\n", root)
	}
	choice, err := backend.Choose()
	switch {
	case err != nil:
		fmt.Fprintf(tw, "backend\tERROR: %v\n", err)
		status = 1
	case *noBackend:
		fmt.Fprintf(tw, "backend\t%s (not started): %s\n", choice, choice.Reason)
	default:
		backend.Notice = stderr
		b, err := backend.New()
		if err != nil {
			fmt.Fprintf(tw, "backend\tERROR: %v\n", err)
			status = 1
		} else {
			fmt.Fprintf(tw, "backend\t%s\n", backend.Describe(b))
		}
	}
	tw.Flush()
	return status
}
