package spec

import (
	"fmt"
	"os"
	"path/filepath"

	"cuelang.org/go/cue"

	"github.com/shadowtest/shadowtest/schemas"
)

// Vendor writes the schema into dir at VendorFile, plus a cue.mod/module.cue
// when dir has none, so that specs importing ImportPath resolve it in the
// real `cue` command and in editors. dir is the CUE module root: the
// directory cue commands run from, which holds the spec directories (the
// cue command looks for cue.mod in the current directory and its parents).
// It returns the files written.
func Vendor(dir string) ([]string, error) {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	if dependsOnSchema(dir) {
		return nil, fmt.Errorf("%s/cue.mod/module.cue already depends on %s through a registry: a vendored copy would make the import ambiguous", dir, SchemaModulePath)
	}
	schemaFile := filepath.Join(dir, filepath.FromSlash(VendorFile))
	if err := os.MkdirAll(filepath.Dir(schemaFile), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(schemaFile, []byte(schemas.Shadow), 0o644); err != nil {
		return nil, err
	}
	written := []string{schemaFile}
	moduleFile := filepath.Join(dir, "cue.mod", "module.cue")
	if _, err := os.Stat(moduleFile); os.IsNotExist(err) {
		if err := os.WriteFile(moduleFile, []byte(moduleCUE()), 0o644); err != nil {
			return nil, err
		}
		written = append(written, moduleFile)
	}
	return written, nil
}

// moduleCUE is the module file of a spec directory that has none.
func moduleCUE() string {
	return fmt.Sprintf("module: %q\nlanguage: version: %q\n", "shadowtest.local/spec", cue.LanguageVersion())
}
