// Package envref decides which environment variables a spec may read and
// expands its ${NAME} references, and ${NAME:-default} ones, which read
// default (it may be empty) when the variable is unset or empty.
//
// A spec is code that a pull request can change, and the CI job that runs
// it usually holds secrets of its own (cloud keys, registry tokens). A
// target header such as "X-Debug: ${AWS_SECRET_ACCESS_KEY}" would send one
// of them to whatever URL the spec names. So a spec reads only variables
// whose names start with SHADOW_ or SHADOWTEST_, and those the job itself
// lists in SHADOWTEST_ALLOW_ENV: the job, not the spec, decides what a spec
// may read.
package envref

import (
	"os"
	"slices"
	"strings"
	"sync"
)

// AllowVar names the environment variable listing, separated by commas or
// spaces, the other variables a spec may read.
const AllowVar = "SHADOWTEST_ALLOW_ENV"

// withheld holds the variables no spec may read whatever their names (see
// Withhold).
var withheld sync.Map

// Withhold makes the variable name unreadable to every spec this process
// loads from now on, even one whose name the allow-list admits: the live
// proxy's admin token (SHADOWTEST_ADMIN_TOKEN by default) controls the
// kill switch, and a spec, which a pull request can change, must not send
// it to a target of its choosing.
func Withhold(name string) {
	withheld.Store(name, true)
}

// Withheld reports whether Withhold was called for name.
func Withheld(name string) bool {
	_, ok := withheld.Load(name)
	return ok
}

// Allowed reports whether a spec may read the environment variable name.
func Allowed(name string) bool {
	if Withheld(name) {
		return false
	}
	if strings.HasPrefix(name, "SHADOW_") || strings.HasPrefix(name, "SHADOWTEST_") {
		return true
	}
	return slices.Contains(strings.FieldsFunc(os.Getenv(AllowVar), func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	}), name)
}

// Names returns the variables value refers to ($NAME, ${NAME} and
// ${NAME:-default}, as os.Expand reads them), in order, each once.
func Names(value string) []string {
	return names(value, false)
}

// Required returns the variables value refers to without a default
// ($NAME, ${NAME}): a request would carry them empty when they are unset
// or empty. ${NAME:-} is how a spec says that empty is meant.
func Required(value string) []string {
	return names(value, true)
}

func names(value string, required bool) []string {
	var names []string
	os.Expand(value, func(ref string) string {
		name, _, hasDefault := split(ref)
		if required && hasDefault {
			return ""
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return ""
	})
	return names
}

// Nested returns the first variable of value whose ${NAME:-default}
// default holds a "$" ("" when none). A default is literal text: in
// ${SHADOW_TOKEN:-${SHADOW_FALLBACK}} os.Expand ends the reference at the
// first "}", so with SHADOW_TOKEN unset every request carried the text
// "${SHADOW_FALLBACK}", which two targets refuse alike (a false match).
func Nested(value string) string {
	nested := ""
	os.Expand(value, func(ref string) string {
		if name, def, ok := split(ref); ok && nested == "" && strings.Contains(def, "$") {
			nested = name
		}
		return ""
	})
	return nested
}

// split reads a reference as os.Expand hands it over: NAME, or
// NAME:-default for ${NAME:-default}.
func split(ref string) (name, def string, hasDefault bool) {
	return strings.Cut(ref, ":-")
}

// Refused returns the variables value refers to that a spec may not read.
func Refused(value string) []string {
	var refused []string
	for _, name := range Names(value) {
		if !Allowed(name) {
			refused = append(refused, name)
		}
	}
	return refused
}

// Expand replaces value's references by the variables' values. A reference
// to a variable the spec may not read expands to nothing: spec.Load refuses
// such a spec, so this only guards callers that skipped it.
func Expand(value string) string {
	return ExpandFunc(value, nil)
}

// ExpandFunc is Expand that also hands every value it reads to seen (when
// not nil), so that the caller can register it as a secret. A
// ${NAME:-default} reference whose variable is unset or empty reads
// default, the spec's own text.
func ExpandFunc(value string, seen func(string)) string {
	return os.Expand(value, func(ref string) string {
		name, def, _ := split(ref)
		if !Allowed(name) {
			return ""
		}
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		if seen != nil {
			seen(v)
		}
		return v
	})
}
