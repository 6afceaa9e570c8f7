package main

import (
	"fmt"
	"io"

	"github.com/shadowtest/shadowtest/framework/spec"
)

func vetCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("vet", "SPECDIR [-t key=value]", "  shadowtest vet specs/\n  shadowtest vet -t env=staging specs/", stdout, stderr)
	var tags tagFlags
	fs.Var(&tags, "t", tagUsage)
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "shadowtest vet: want exactly one spec directory, e.g. shadowtest vet specs/")
		return exitInvalid
	}
	plan, err := spec.Load(positional[0], spec.Options{Tags: tags})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	fmt.Fprintf(stdout, "%s: ok (%d endpoints)\n", positional[0], len(plan.Endpoints))
	return exitPass
}
