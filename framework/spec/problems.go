package spec

import (
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// problems turns CUE's errors into problems: one per CUE path, with the
// "N errors in empty disjunction" detail folded into one message, at a
// position in the user's files when there is one.
func (l *loader) problems(err error) []Problem {
	var (
		groups = map[string][]errors.Error{}
		order  []string
		out    []Problem
	)
	for _, e := range errors.Errors(err) {
		path := selectors(e.Path())
		if len(path) == 0 && isNotAllowed(e) && len(errors.Errors(err)) > 1 {
			continue // an excluded field of a disjunction's alternative: explained at its path
		}
		if len(path) == 0 {
			out = append(out, Problem{Pos: l.position(l.userPos(e)), Message: l.clean(format(e))})
			continue
		}
		key := cue.MakePath(path...).String()
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], e)
	}
	order = l.foldForms(groups, order)
	for _, key := range order {
		group := groups[key]
		path := selectors(group[0].Path())
		pos := l.userPos(group...)
		if !pos.IsValid() {
			pos = l.nearest(path)
		}
		for _, message := range l.messages(path, group) {
			if strings.HasPrefix(message, "conflicting values") {
				message += l.alsoAt(pos, group)
			}
			out = append(out, Problem{Pos: l.position(pos), Path: key, Message: l.clean(message)})
		}
	}
	return out
}

// loadProblems turns cue/load's errors (syntax, packages, imports) into
// problems. Their paths name packages, not values, so they are left out.
func (l *loader) loadProblems(err error) []Problem {
	var out []Problem
	for _, e := range errors.Errors(err) {
		pos := l.userPos(e)
		if !pos.IsValid() {
			pos = e.Position()
		}
		message := format(e)
		if f, _ := e.Msg(); f == "import failed" {
			// The reason is in the wrapped error, after its own position.
			message = leadingPos.ReplaceAllString(strings.TrimPrefix(e.Error(), "import failed: "), "")
			message += fmt.Sprintf(" (a spec can import only %q)", ImportPath)
		}
		if f, args := e.Msg(); f == "no tag for %q" && len(args) == 1 {
			message = fmt.Sprintf("-t %v: no field of the spec declares @tag(%[1]v)", args[0])
		}
		out = append(out, Problem{Pos: l.position(pos), Message: l.clean(message)})
	}
	return out
}

var leadingPos = regexp.MustCompile(`^\S+:\d+:\d+: `)

// selectors converts an error path ("#Spec", "endpoints", "\"get-user\"",
// "ignore", "0") into selectors relative to the spec root.
func selectors(elems []string) []cue.Selector {
	if len(elems) > 0 && elems[0] == "#Spec" {
		elems = elems[1:]
	}
	path := make([]cue.Selector, 0, len(elems))
	for _, elem := range elems {
		switch {
		case strings.HasPrefix(elem, `"`):
			if s, err := literal.Unquote(elem); err == nil {
				elem = s
			}
			path = append(path, cue.Str(elem))
		case strings.HasPrefix(elem, "#"):
			path = append(path, cue.Def(elem))
		default:
			if i, err := strconv.Atoi(elem); err == nil {
				path = append(path, cue.Index(i))
			} else {
				path = append(path, cue.Str(elem))
			}
		}
	}
	return path
}

// userPos returns the first position, in file order, that the errors have in
// the user's files.
func (l *loader) userPos(errs ...errors.Error) token.Pos {
	var best token.Pos
	for _, e := range errs {
		for _, p := range append([]token.Pos{e.Position()}, e.InputPositions()...) {
			if l.isUser(p) && (!best.IsValid() || comparePos(p, best) < 0) {
				best = p
			}
		}
	}
	return best
}

// alsoAt names the other user positions of a conflict, since the two values
// are often in different files.
func (l *loader) alsoAt(shown token.Pos, group []errors.Error) string {
	var others []string
	for _, e := range group {
		for _, p := range e.InputPositions() {
			if l.isUser(p) && comparePos(p, shown) != 0 {
				others = append(others, l.position(p).String())
			}
		}
	}
	if len(others) == 0 {
		return ""
	}
	slices.Sort(others)
	return " (also set at " + strings.Join(slices.Compact(others), ", ") + ")"
}

func comparePos(a, b token.Pos) int {
	return cmp.Or(cmp.Compare(a.Filename(), b.Filename()), cmp.Compare(a.Line(), b.Line()), cmp.Compare(a.Column(), b.Column()))
}

// clean shows file names inside messages as the user gave the directory.
func (l *loader) clean(message string) string {
	return strings.ReplaceAll(message, l.absDir+string(filepath.Separator), l.dir+string(filepath.Separator))
}

func format(e errors.Error) string {
	f, args := e.Msg()
	return fmt.Sprintf(f, args...)
}

// schemaPos returns the first position of e in the schema, which for a
// literal conflict is the schema's literal.
func (l *loader) schemaPos(e errors.Error) token.Pos {
	for _, p := range e.InputPositions() {
		if l.isSchema(p) {
			return p
		}
	}
	return token.NoPos
}
