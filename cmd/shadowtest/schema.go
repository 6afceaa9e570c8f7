package main

import (
	"fmt"
	"io"

	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/schemas"
)

const schemaExamples = `  shadowtest schema > shadow.cue         # the schema, with its comments
  shadowtest schema reference            # the same documentation as Markdown tables
  shadowtest schema results > results.schema.json   # the JSON Schema of --results files
  shadowtest schema vendor               # in the directory that holds specs/: let specs import the schema:
      // specs/shop.cue
      package shadow
      import "` + spec.ImportPath + `"
      shadow.#Spec
  cue vet -c=false ./specs/               # the real cue command checks them too (-c=false: target urls may come from -t)`

func schemaCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("schema", "[reference | results | vendor [DIR]]", schemaExamples, stdout, stderr)
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(positional) == 0:
		io.WriteString(stdout, schemas.Shadow)
		return exitPass
	case positional[0] == "reference" && len(positional) == 1:
		reference, err := spec.Reference()
		if err != nil {
			fmt.Fprintf(stderr, "shadowtest schema reference: %v\n", err)
			return exitInvalid
		}
		io.WriteString(stdout, reference)
		return exitPass
	case positional[0] == "results" && len(positional) == 1:
		io.WriteString(stdout, schemas.Results)
		return exitPass
	case positional[0] == "vendor" && len(positional) <= 2:
		dir := "."
		if len(positional) == 2 {
			dir = positional[1]
		}
		written, err := spec.Vendor(dir)
		if err != nil {
			fmt.Fprintf(stderr, "shadowtest schema vendor: %v\n", err)
			return exitInvalid
		}
		for _, f := range written {
			fmt.Fprintf(stdout, "wrote %s\n", f)
		}
		fmt.Fprintf(stdout, "specs under %s can now import %q (run cue from %[1]s)\n", dir, spec.ImportPath)
		return exitPass
	}
	fmt.Fprintln(stderr, "shadowtest schema: want no argument (print the schema), 'reference' (Markdown), 'results' (the results file's JSON Schema) or 'vendor [DIR]'")
	return exitInvalid
}
