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
	"regexp"
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
		{"proxy", "live shadow: proxy to prod, mirror to the shadow, compare, metrics", proxyCommand},
		{"vet", "check a spec directory against the schema", vetCommand},
		{"init", "write starter specs from recorded traffic (init --from TRAFFIC DIR)", initCommand},
		{"traffic", "convert a HAR, GoReplay or JSONL recording to JSONL (traffic convert IN OUT)", trafficCommand},
		{"schema", "print the spec schema (its comments are the reference)", schemaCommand},
		{"demo", "run the built-in demo: two local services, real specs, real traffic", demoCommand},
		{"merge", "judge the union of several runs' results (shards) and write one JUnit", mergeCommand},
		{"report", "write the HTML report of an earlier run from its results and log", reportCommand},
		{"version", "print the version", versionCommand},
		{"completion", "print a shell completion script (completion bash|zsh|fish)", completionCommand},
	}
}

func main() {
	survivePipeReaders()
	code := dispatch(os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(code)
}

// stopProfile ends a CPU profile started by a binary built with the
// cpuprofile tag (profile.go, for the benchmark); a no-op otherwise.
var stopProfile = func() {}

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
	args = globalFlags(args)
	if len(args) == 0 {
		usage(stderr)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitPass
	case "--version", "-version":
		return versionCommand(args[1:], stdout, stderr)
	}
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
		names = append(names, c.name)
	}
	msg := fmt.Sprintf("shadowtest: unknown command %q", args[0])
	if strings.HasPrefix(args[0], "-") {
		msg = fmt.Sprintf("shadowtest: unknown flag %s before the command", args[0])
	}
	if s := suggest(args[0], names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	fmt.Fprintf(stderr, "%s\nRun 'shadowtest --help' for the commands.\n", msg)
	return exitInvalid
}

// globalFlags removes the flags every command takes from args and applies
// them: --no-color (the same as NO_COLOR=1).
func globalFlags(args []string) []string {
	out := args[:0:0]
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--no-color" || a == "-no-color" {
			os.Setenv("NO_COLOR", "1")
			continue
		}
		out = append(out, a)
	}
	return out
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "shadowtest: declarative shadow-traffic tests for CI")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: shadowtest COMMAND [flags] [args]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags of every command:")
	fmt.Fprintln(w, "  --help      show the command's flags and examples (on stdout)")
	fmt.Fprintln(w, "  --no-color  no colours (also NO_COLOR=1; FORCE_COLOR=1 forces them off a terminal)")
	fmt.Fprintln(w, "  --version   print the version")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'shadowtest COMMAND --help' for a command's flags and examples.")
	fmt.Fprintln(w, "Exit codes: 0 passed, 1 a threshold failed, 2 invalid input or an output not written, 3 run aborted or partial merge.")
}

// newFlagSet returns a flag set of its own (Ginkgo registers its flags on
// flag.CommandLine). --help prints the command's synopsis, flags (with the
// dashes the examples use) and examples on stdout; a flag error is one line
// on stderr, with a suggestion for a mistyped flag and a pointer to --help.
func newFlagSet(name, synopsis, examples string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package writes its error here, then calls Usage: an empty
	// buffer in Usage means --help was asked for.
	var failure strings.Builder
	fs.SetOutput(&failure)
	fs.Usage = func() {
		if failure.Len() == 0 {
			fmt.Fprintf(stdout, "Usage: shadowtest %s %s\n\nFlags:\n", name, synopsis)
			printFlags(stdout, fs)
			if examples != "" {
				fmt.Fprintf(stdout, "\nExamples:\n%s\n", examples)
			}
			return
		}
		msg := flagError(fs, strings.TrimSpace(failure.String()))
		failure.Reset()
		fmt.Fprintf(stderr, "shadowtest %s: %s\nRun 'shadowtest %s --help' for the flags and examples.\n", name, msg, name)
	}
	return fs
}

// dashed is how help and messages spell a flag: --name, or -t for a
// one-letter flag, as the examples do.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printFlags lists a flag set's flags as --name ARG, with the usage text
// and the default below.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		line := "  " + dashed(f.Name)
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintln(w, line)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "    \t%s\n", text)
	})
}

// flagPattern finds the flag a message of the flag package names.
var flagPattern = regexp.MustCompile(`(defined|argument|flag): -([A-Za-z0-9][A-Za-z0-9_.-]*)|flag -([A-Za-z0-9][A-Za-z0-9_.-]*):`)

// flagError rewrites an error of the flag package with the dashes the
// help uses, and suggests the nearest flag for an unknown one.
func flagError(fs *flag.FlagSet, msg string) string {
	m := flagPattern.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	name := m[2] + m[3]
	if strings.HasPrefix(msg, "flag provided but not defined") {
		out := "unknown flag " + dashed(name)
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := suggest(name, names); s != "" {
			out += fmt.Sprintf(" (did you mean %s?)", dashed(s))
		}
		return out
	}
	return strings.Replace(msg, "-"+name, dashed(name), 1)
}

// suggest returns the candidate closest to word (at most two edits away,
// or starting with it), "" when none is close.
func suggest(word string, candidates []string) string {
	word = strings.TrimLeft(word, "-")
	best, bestDistance := "", 3
	for _, c := range candidates {
		d := editDistance(word, c)
		if strings.HasPrefix(c, word) && len(word) >= 3 {
			d = min(d, 1)
		}
		if d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// parseArgs parses flags that may come before or after the positional
// arguments ("run specs/ --junit out.xml" and "run --junit out.xml specs/").
// It returns the positional arguments, or the exit code to stop with.
// parseSpecDirArgs parses the flags of a command that takes one spec
// directory, checks the named output flags (see checkOutputFlags) and
// returns the directory; on a mistake it has told stderr and returns the
// exit code with ok false. example shows the command's use in the message.
func parseSpecDirArgs(fs *flag.FlagSet, args []string, example string, stderr io.Writer, outputs ...string) (dir string, code int, ok bool) {
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return "", code, false
	}
	if len(outputs) > 0 {
		if err := checkOutputFlags(fs, outputs...); err != nil {
			fmt.Fprintf(stderr, "shadowtest %s: %v\n", fs.Name(), err)
			return "", exitInvalid, false
		}
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "shadowtest %s: want exactly one spec directory, e.g. %s\n", fs.Name(), example)
		return "", exitInvalid, false
	}
	return positional[0], 0, true
}

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
