package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"golang.org/x/mod/module"
)

func versionCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "  shadowtest version", stdout, stderr)
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return exitPass
}

// versionLine names the module version and the commit it was built from:
// the VCS stamp of a build in a checkout, or the revision inside the
// pseudo-version of `go install module@commit`.
func versionLine(info *debug.BuildInfo) string {
	version, commit, modified := "(devel)", "unknown", false
	if info == nil {
		return fmt.Sprintf("shadowtest %s (commit %s)", version, commit)
	}
	if info.Main.Version != "" {
		version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if commit == "unknown" && module.IsPseudoVersion(version) {
		if rev, err := module.PseudoVersionRev(version); err == nil {
			commit = rev
		}
	}
	if modified {
		commit += ", modified"
	}
	return fmt.Sprintf("shadowtest %s (commit %s, %s)", version, commit, info.GoVersion)
}
