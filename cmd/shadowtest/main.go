// Command shadowtest replays recorded traffic to a production system and a
// shadow system, compares every pair of responses under CUE spec rules and
// gates a release on the spec's thresholds, with JUnit XML for the CI UI.
//
// Exit codes: 0 every threshold held; 1 a threshold failed; 2 invalid input
// (spec, traffic, flags), an output asked for not written, or an
// incomplete set of shards given to merge; 3 the run was aborted (prod
// unreachable, interrupted) or merge --allow-partial judged an incomplete
// set; partial results are still written. 2 wins over 3, 3 over 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shadowtest/shadowtest/framework/scrub"
)

// Exit codes.
const (
	exitPass    = 0
	exitFail    = 1
	exitInvalid = 2
	exitAborted = 3
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "replay traffic to prod and shadow, compare, assert thresholds", runCommand},
		{"vet", "check a spec directory against the schema", vetCommand},
		{"init", "write starter specs from recorded traffic (init --from TRAFFIC DIR)", initCommand},
		{"traffic", "convert a HAR, GoReplay or JSONL recording to JSONL (traffic convert IN OUT)", trafficCommand},
		{"schema", "print the spec schema (its comments are the reference)", schemaCommand},
		{"demo", "run the built-in demo: two local services, real specs, real traffic", demoCommand},
		{"merge", "judge the union of several runs' results (shards) and write one JUnit", mergeCommand},
		{"report", "write the HTML report of an earlier run from its results and log", reportCommand},
		{"version", "print the version", versionCommand},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs a command with stdout and stderr behind one scrubber, so
// that no secret the command learns, and no control character, reaches
// them (see framework/scrub).
func dispatch(args []string, stdout, stderr io.Writer) int {
	sc := scrub.New()
	out, errOut := sc.Terminal(stdout), sc.Terminal(stderr)
	defer errOut.Flush()
	defer out.Flush()
	return dispatchTo(args, out, errOut)
}

func dispatchTo(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitInvalid
		}
		return exitPass
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "shadowtest: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitInvalid
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "shadowtest: declarative shadow-traffic tests for CI")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: shadowtest COMMAND [flags] [args]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'shadowtest COMMAND --help' for a command's flags and examples.")
	fmt.Fprintln(w, "Exit codes: 0 passed, 1 a threshold failed, 2 invalid input or an output not written, 3 run aborted or partial merge.")
}

// newFlagSet returns a flag set of its own (Ginkgo registers its flags on
// flag.CommandLine) whose usage shows the command's synopsis and examples.
func newFlagSet(name, synopsis, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: shadowtest %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
		if examples != "" {
			fmt.Fprintf(stderr, "\nExamples:\n%s\n", examples)
		}
	}
	return fs
}

// parseArgs parses flags that may come before or after the positional
// arguments ("run specs/ --junit out.xml" and "run --junit out.xml specs/").
// It returns the positional arguments, or the exit code to stop with.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitPass, false
			}
			return nil, exitInvalid, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, 0, true
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), 0, true
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// tagFlags collects repeated -t flags: CUE tags as `cue export -t` takes
// them (key=value or a bare key); prod=URL and shadow=URL set the targets.
type tagFlags []string

func (t *tagFlags) String() string { return strings.Join(*t, " ") }

func (t *tagFlags) Set(v string) error {
	if v == "" || strings.HasPrefix(v, "=") {
		return fmt.Errorf("want key=value or a tag name, got %q", v)
	}
	*t = append(*t, v)
	return nil
}

// tagUsage is the -t flag's help.
const tagUsage = "a CUE tag `key=value`, as cue export -t takes it: sets the fields declared @tag(key); a bare key selects @if(key) files; prod=URL and shadow=URL set the target urls (repeatable)"
