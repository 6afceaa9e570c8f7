package spec

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// NestedDirs lists the immediate subdirectories of a spec directory that
// hold .cue files (cue.mod and hidden directories aside), in name order.
// They are not part of the spec: CUE loads one directory as one instance,
// so endpoints written in specs/users/ are left out of `run specs/`
// without a word, and the gate passes without them. vet and run name them.
func NestedDirs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var nested []string
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "cue.mod" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if files, _ := filepath.Glob(filepath.Join(sub, "*.cue")); len(files) > 0 {
			nested = append(nested, sub)
		}
	}
	return nested
}

// Notes are what vet and run say of the .cue files near a spec directory
// that are not part of its plan: the subdirectories NestedDirs finds, then
// the files in plan.LeftOut.
func Notes(dir string, plan *framework.Plan) []string {
	var notes []string
	for _, sub := range NestedDirs(dir) {
		notes = append(notes, nestedNote(dir, sub))
	}
	for _, file := range plan.LeftOut {
		notes = append(notes, leftOutNote(dir, file))
	}
	return notes
}

// nestedNote is what vet and run say of a subdirectory NestedDirs found.
func nestedNote(dir, sub string) string {
	return sub + ": not part of the spec " + dir + " (a subdirectory is a spec directory of its own): " +
		"its endpoints are not checked nor run with it; move its files up, or vet and run " + sub + " apart"
}

// leftOutNote is what vet and run say of a file in Plan.LeftOut: a file of
// the spec's package in a parent directory, which the cue command unifies
// into the directory (`cue export ./specs/users` shows it) and shadowtest
// does not (`cue export specs/users/*.cue` shows what it loads).
func leftOutNote(dir, file string) string {
	return file + ": not part of the spec " + dir + " (a spec is its directory's own files; the cue command, given the directory, would also unify this file of the same package from a parent directory): " +
		"share fields through an import, or give the file another package name"
}
