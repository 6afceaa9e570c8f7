package spec

import "github.com/shadowtest/shadowtest/schemas"

// ImportPath is the import path under which a spec may import the schema to
// use its definitions, for example:
//
//	import "github.com/shadowtest/shadowtest/schemas:shadow"
//
//	endpoints: [string]: shadow.#Endpoint
//
// The ":shadow" qualifier is needed because the schema's package is named
// shadow while the last element of the path is schemas. Load provides the
// package itself, unless the spec's module depends on SchemaModulePath
// through a registry.
const ImportPath = "github.com/shadowtest/shadowtest/schemas:shadow"

// SchemaModulePath is the path of the CUE module the schema is published as
// (schemas/cue.mod/module.cue), without its major version. A module that
// depends on it through a registry imports ImportPath from there.
const SchemaModulePath = "github.com/shadowtest/shadowtest/schemas"

// VendorFile is where, relative to a spec directory, Load places the schema
// for imports. Writing Schema() there (with a cue.mod/module.cue) lets `cue
// vet` and editors resolve ImportPath too.
const VendorFile = "cue.mod/gen/github.com/shadowtest/shadowtest/schemas/" + schemas.File

// Schema returns the text of the schema every spec is unified with; its
// comments are the reference of the spec language.
func Schema() string { return schemas.Shadow }
