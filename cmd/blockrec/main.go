// Command blockrec runs blockrec's experiments and tools from the command line.
//
// Usage:
//
//	blockrec COMMAND [flags]
//	blockrec help            # lists the commands
//	blockrec help COMMAND    # a command's flags
//
// Each command lives in its own file and registers itself from an init function:
//
//	func init() { register("phases", "discover phases from a dissimilarity matrix", runPhases) }
//
// Sizes follow BLOCKREC_SCALE (smoke, cpu, paper) and the GoMLX backend follows GOMLX_BACKEND,
// as in the notebooks.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/blockrec/blockrec/lib/notebook"
)

// command is one registered subcommand.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a subcommand. run gets the arguments after the command name and returns the
// process exit status: 0 success, 1 failure, 2 bad usage. Registering a name twice panics.
func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	if name == "" || run == nil {
		panic("blockrec: register needs a name and a run function")
	}
	if _, dup := commands[name]; dup {
		panic("blockrec: command " + name + " registered twice")
	}
	commands[name] = command{summary: summary, run: run}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the command named by args[0] and returns the exit status.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if _, ok := commands[args[1]]; ok {
				return commands[args[1]].run([]string{"-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "blockrec: unknown command %q; run 'blockrec help' for the list\n", args[1])
			return 2
		}
		usage(stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "blockrec: unknown command %q; run 'blockrec help' for the list\n", name)
		return 2
	}
	return cmd.run(args[1:], stdout, stderr)
}

// newFlagSet makes a command's flag set with the usage layout every command shares:
//
//	usage: blockrec NAME ARGS
//	ABOUT
//
//	flags:
//	  -flag ...
//
// Errors of the flag package go to stderr with the prefix "blockrec NAME: ".
func newFlagSet(name, args, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: blockrec %s %s\n", name, args)
		if about != "" {
			fmt.Fprintln(w, about)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args with fs, taking flags before, between or after the positional
// arguments ("--" ends the flags). -h or --help prints the usage to stdout and ends the command
// with status 0; a bad flag, or a number of positional arguments other than nargs (-1: any),
// prints one error line to stderr, "blockrec NAME: what is wrong (see blockrec NAME -h)", and ends
// it with status 2. done reports whether the command must return code now.
func parseFlags(fs *flag.FlagSet, args []string, nargs int, stdout io.Writer) (code int, done bool) {
	errOut := fs.Output()
	var positional []string
	for {
		fs.SetOutput(io.Discard) // the flag package's own messages are replaced by ours
		err := fs.Parse(args)
		fs.SetOutput(errOut)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			fs.SetOutput(errOut)
			return 0, true
		}
		if err != nil {
			usageError(errOut, fs.Name(), err.Error())
			return 2, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if ended := len(args) > len(rest) && args[len(args)-len(rest)-1] == "--"; ended {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	switch {
	case nargs == 0 && len(positional) > 0:
		usageError(errOut, fs.Name(), fmt.Sprintf("unexpected argument %q", positional[0]))
		return 2, true
	case nargs >= 0 && len(positional) != nargs:
		usageError(errOut, fs.Name(), fmt.Sprintf("%d arguments given, want %d", len(positional), nargs))
		return 2, true
	}
	// Leave the positional arguments where fs.Arg and fs.NArg find them.
	fs.SetOutput(io.Discard)
	fs.Parse(append([]string{"--"}, positional...))
	fs.SetOutput(errOut)
	return 0, false
}

// usageError writes the one line of a usage error: "blockrec NAME: MSG (see blockrec NAME -h)".
func usageError(w io.Writer, name, msg string) {
	fmt.Fprintf(w, "blockrec %s: %s (see blockrec %s -h)\n", name, msg, name)
}

// commandError writes err as the command's one error line, "blockrec NAME: ERR". A leading
// "NAME: " that a library already put on err is not repeated.
func commandError(w io.Writer, name string, err error) {
	fmt.Fprintf(w, "blockrec %s: %s\n", name, strings.TrimPrefix(err.Error(), name+": "))
}

// scaleFlag resolves a --scale flag: its value, else $BLOCKREC_SCALE, else the default. The
// result is written back to BLOCKREC_SCALE, so that everything the command calls (figure
// folders, caches, provenance) sees the same scale as the flag.
func scaleFlag(value string) (notebook.Level, error) {
	level, err := notebook.LookupScale()
	if value != "" {
		level, err = notebook.ParseScale(value)
		if err != nil {
			return "", fmt.Errorf("--scale %q: use one of smoke, cpu, paper", value)
		}
	}
	if err != nil {
		return "", err
	}
	return level, os.Setenv(notebook.ScaleEnv, string(level))
}

// usage lists the commands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: blockrec COMMAND [flags]   (blockrec help COMMAND for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	width := len("help")
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "list the commands, or show a command's flags")
	fmt.Fprintln(w, "\nenvironment: BLOCKREC_SCALE=smoke|cpu|paper (default cpu), GOMLX_BACKEND=go|xla:/abs/path/plugin.so")
}
