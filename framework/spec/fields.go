package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
)

// notAllowed explains a field the schema does not declare.
func (l *loader) notAllowed(path []cue.Selector) string {
	// CUE may report a disallowed list-valued field at its elements.
	for len(path) > 1 && path[len(path)-1].Type() == cue.IndexLabel {
		path = path[:len(path)-1]
	}
	name := label(path[len(path)-1])
	parent := path[:len(path)-1]
	if len(parent) > 0 && (parent[len(parent)-1].String() == "tolerance" || parent[len(parent)-1].String() == "shape") {
		return pathMessage(strconv.Quote(name)) // tolerance and shape keys are paths
	}
	message := fmt.Sprintf("field %q not allowed", name)
	allowed := l.allowed(parent)
	if len(allowed) == 0 {
		return message
	}
	if guess := closest(name, allowed); guess != "" {
		return fmt.Sprintf("%s (did you mean %q?)", message, guess)
	}
	return fmt.Sprintf("%s (allowed: %s)", message, strings.Join(allowed, ", "))
}

// allowed lists the fields #Spec declares at path, sorted.
func (l *loader) allowed(path []cue.Selector) []string {
	v, ok := l.schemaAt(path)
	if !ok {
		return nil
	}
	names := fieldNames(v)
	slices.Sort(names)
	return slices.Compact(names)
}

// forms lists the fields of each alternative of the disjunction #Spec
// declares at path.
func (l *loader) forms(path []cue.Selector) [][]string {
	v, ok := l.schemaAt(path)
	if !ok {
		return nil
	}
	op, alternatives := v.Eval().Expr()
	if op != cue.OrOp {
		return nil
	}
	var forms [][]string
	for _, a := range alternatives {
		forms = append(forms, fieldNames(a))
	}
	return forms
}

// schemaAt returns the schema's constraint for the value at path, following
// list elements and pattern fields such as endpoints.[string].
func (l *loader) schemaAt(path []cue.Selector) (cue.Value, bool) {
	v := l.spec
	for _, sel := range path {
		switch {
		case sel.Type() == cue.IndexLabel:
			v = v.LookupPath(cue.MakePath(cue.AnyIndex))
		case v.LookupPath(cue.MakePath(sel)).Exists():
			v = v.LookupPath(cue.MakePath(sel))
		case v.LookupPath(cue.MakePath(sel.Optional())).Exists():
			v = v.LookupPath(cue.MakePath(sel.Optional()))
		default:
			v = v.LookupPath(cue.MakePath(cue.AnyString))
		}
		if !v.Exists() {
			return cue.Value{}, false
		}
	}
	return v, true
}

// fieldNames lists the fields of a struct, or of each struct of a
// disjunction such as #Traffic.
func fieldNames(v cue.Value) []string {
	if op, alternatives := v.Eval().Expr(); op == cue.OrOp {
		var names []string
		for _, a := range alternatives {
			names = append(names, fieldNames(a)...)
		}
		return names
	}
	iter, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var names []string
	for iter.Next() {
		if iter.Value().IncompleteKind() == cue.BottomKind {
			continue // `jsonl?: _|_`: excluded from this alternative
		}
		names = append(names, label(iter.Selector()))
	}
	return names
}

// label is a selector as a user writes it: a field name unquoted.
func label(sel cue.Selector) string {
	if sel.IsString() {
		return sel.Unquoted()
	}
	return sel.String()
}

// closest returns the candidate a typo most likely meant, or "".
func closest(name string, candidates []string) string {
	best, bestDistance := "", len(name)/3+1
	for _, c := range candidates {
		// Distance 0 is a field allowed only in another alternative of a
		// disjunction: not a typo.
		if d := distance(strings.ToLower(name), strings.ToLower(c)); d > 0 && d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	previous := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current := make([]int, len(b)+1)
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous = current
	}
	return previous[len(b)]
}

// foldForms explains a value that matches none of the structs of a
// disjunction, such as #Traffic's {har: string} | {jsonl: string}. CUE
// reports it as a bare "N errors in empty disjunction" at the value and one
// "field not allowed" per field below it; those become one message at the
// value. Other errors below it (a wrong type) are reasons enough on their
// own, so then only the noise is dropped. It returns the keys left.
func (l *loader) foldForms(groups map[string][]errors.Error, order []string) []string {
	var kept []string
	drop := map[string]bool{}
	for _, key := range order {
		group := groups[key]
		if len(group) != 1 || !isDisjunctionHeader(group[0]) {
			continue
		}
		var children []string
		onlyNotAllowed := true
		for _, other := range order {
			if other != key && (strings.HasPrefix(other, key+".") || strings.HasPrefix(other, key+"[")) {
				children = append(children, other)
				for _, e := range groups[other] {
					if !isNotAllowed(e) {
						onlyNotAllowed = false
					}
				}
			}
		}
		if len(children) == 0 {
			continue
		}
		for _, child := range children {
			if onlyNotAllowed {
				groups[key] = append(groups[key], groups[child]...)
				drop[child] = true
			} else {
				groups[child] = slices.DeleteFunc(groups[child], isNotAllowed)
			}
		}
		if !onlyNotAllowed {
			drop[key] = true
		}
	}
	for _, key := range order {
		if !drop[key] && len(groups[key]) > 0 {
			kept = append(kept, key)
		}
	}
	return kept
}

// isNotAllowed reports a field the schema does not declare, or excludes
// with `field?: _|_` (an alternative of #Traffic).
func isNotAllowed(e errors.Error) bool {
	f, _ := e.Msg()
	return f == "field not allowed" || f == "explicit error (_|_ literal) in source"
}

func isDisjunctionHeader(e errors.Error) bool {
	f, _ := e.Msg()
	return strings.HasSuffix(f, "errors in empty disjunction:")
}

// formsMessage explains a struct that fits none of the alternatives of the
// disjunction at path.
func (l *loader) formsMessage(path []cue.Selector) string {
	forms := l.forms(path)
	single := len(forms) > 0
	var fields, names []string
	for _, form := range forms {
		single = single && len(form) == 1
		fields = append(fields, form...)
		names = append(names, "{"+strings.Join(form, ", ")+"}")
	}
	switch {
	case single:
		return "set exactly one of " + strings.Join(fields, ", ")
	case len(names) > 0:
		return "fits none of the allowed forms: " + strings.Join(names, " | ")
	}
	return "fits none of the allowed forms"
}
