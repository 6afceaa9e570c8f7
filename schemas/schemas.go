// Package schemas embeds the CUE schema every shadowtest spec is unified
// with. The schema's comments are the reference documentation of the spec
// language.
package schemas

import _ "embed"

// Shadow is the text of shadow.cue, the #Spec schema.
//
//go:embed shadow.cue
var Shadow string

// File is the name the schema is loaded under.
const File = "shadow.cue"
