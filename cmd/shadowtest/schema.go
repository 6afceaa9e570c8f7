package main

import (
	"io"

	"github.com/shadowtest/shadowtest/schemas"
)

func schemaCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("schema", "", "  shadowtest schema > shadow.cue", stderr)
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	io.WriteString(stdout, schemas.Shadow)
	return exitPass
}
