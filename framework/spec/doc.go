// Package spec loads a shadowtest spec directory into a [framework.Plan].
//
// Load parses every .cue file of the directory with cue/load (in the CUE
// module that encloses it, as the cue command finds it, with the CUE tags of
// -t), unifies them with the embedded, closed #Spec schema, applies the -t
// target overrides, decodes the result and merges each endpoint's rules
// with the spec's defaults. Every mistake comes back as an [*Error] whose
// problems name a file, line, column and CUE path. A module registry is
// used only when CUE_REGISTRY is set.
//
// It is the only package of shadowtest that imports CUE. It does not read
// traffic, send requests or compare responses: it only checks that the
// traffic files a spec names exist.
package spec
