// Package spec loads a shadowtest spec directory into a [framework.Plan].
//
// Load parses every .cue file of the directory with cue/load, unifies them
// with the embedded, closed #Spec schema, applies the -t target overrides,
// decodes the result and merges each endpoint's rules with the spec's
// defaults. Every mistake comes back as an [*Error] whose problems name a
// file, line, column and CUE path. Registry access is never attempted.
//
// It is the only package of shadowtest that imports CUE. It does not read
// traffic, send requests or compare responses: it only checks that the
// traffic files a spec names exist.
package spec
