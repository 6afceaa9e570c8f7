package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"golang.org/x/mod/module"
)

// version and commit are set by release builds
// (-ldflags "-X main.version=v1.2.0 -X main.commit=..."; see .goreleaser.yaml).
// Other builds leave them empty and take both from the Go build info.
var version, commit string

func versionCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "  shadowtest version", stdout, stderr)
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(stamped(info, version, commit)))
	return exitPass
}

// stamped returns info with the release build's version and commit, when
// the linker set them, in place of what the go command recorded.
func stamped(info *debug.BuildInfo, version, commit string) *debug.BuildInfo {
	if version == "" && commit == "" {
		return info
	}
	out := &debug.BuildInfo{}
	if info != nil {
		*out = *info
		out.Settings = nil
		for _, s := range info.Settings {
			if commit != "" && (s.Key == "vcs.revision" || s.Key == "vcs.modified") {
				continue
			}
			out.Settings = append(out.Settings, s)
		}
	}
	if version != "" {
		out.Main.Version = version
	}
	if commit != "" {
		out.Settings = append(out.Settings, debug.BuildSetting{Key: "vcs.revision", Value: commit})
	}
	return out
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
