package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

func versionCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "", stderr)
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	version, commit := "(devel)", "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	fmt.Fprintf(stdout, "shadowtest %s (commit %s)\n", version, commit)
	return exitPass
}
