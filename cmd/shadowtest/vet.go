package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/shadowtest/shadowtest/framework/spec"
)

const vetExamples = `  shadowtest vet specs/
  shadowtest vet -t env=staging specs/
  shadowtest vet --json specs/ | jq -r '"\(.file):\(.line):\(.col): \(.message)"'`

func vetCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("vet", "SPECDIR [-t key=value]", vetExamples, stdout, stderr)
	var tags tagFlags
	fs.Var(&tags, "t", tagUsage)
	asJSON := fs.Bool("json", false, "print each problem as one JSON object per line on stdout ({file, line, col, path, message}), nothing when the spec is valid; for editors and bots")
	dir, code, ok := parseSpecDirArgs(fs, args, "shadowtest vet specs/", stderr)
	if !ok {
		return code
	}
	plan, err := spec.Load(dir, spec.Options{Tags: tags})
	switch {
	case err != nil && *asJSON:
		writeProblemsJSON(stdout, err)
		return exitInvalid
	case err != nil:
		fmt.Fprintln(stderr, err)
		return exitInvalid
	case *asJSON:
		return exitPass
	}
	fmt.Fprintf(stdout, "%s: ok (%d endpoints)\n", dir, len(plan.Endpoints))
	for _, note := range spec.Notes(dir, plan) {
		fmt.Fprintln(stdout, note)
	}
	if plan.GRPC != nil && plan.GRPC.Reflection {
		// vet reads files only: the services are prod's to list.
		fmt.Fprintf(stdout, "%s: grpc.reflection: the endpoints' grpc selectors and synthetic rpc templates are checked against prod's server reflection when a run or proxy starts (exit 2 if one names no method)\n", plan.GRPC.Pos)
	}
	return exitPass
}

// vetProblem is one line of vet --json. File, line and col are empty and
// zero for a problem that has no place in a file (a bad -t value).
type vetProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// writeProblemsJSON writes a Load error as JSON lines, one per problem.
func writeProblemsJSON(w io.Writer, err error) {
	enc := json.NewEncoder(w)
	var specErr *spec.Error
	if !errors.As(err, &specErr) {
		enc.Encode(vetProblem{Message: err.Error()})
		return
	}
	for _, p := range specErr.Problems {
		enc.Encode(vetProblem{File: p.Pos.File, Line: p.Pos.Line, Col: p.Pos.Col, Path: p.Path, Message: p.Message})
	}
}
