// Package schemas embeds the CUE schema every shadowtest spec is unified
// with, whose comments are the reference documentation of the spec
// language, and the JSON Schema of the results file.
package schemas

import _ "embed"

// Shadow is the text of shadow.cue, the #Spec schema.
//
//go:embed shadow.cue
var Shadow string

// File is the name the schema is loaded under.
const File = "shadow.cue"

// Results is the text of results.schema.json, the JSON Schema (draft
// 2020-12) of the results file that run --results and merge --results
// write.
//
//go:embed results.schema.json
var Results string
