package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"

	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/schemas"
)

// messages explains the errors found at one path.
func (l *loader) messages(path []cue.Selector, group []errors.Error) []string {
	var alternatives []errors.Error
	disjunction, notAllowed := false, 0
	for _, e := range group {
		switch {
		case isDisjunctionHeader(e):
			disjunction = true
		case isNotAllowed(e):
			notAllowed++
			fallthrough
		default:
			alternatives = append(alternatives, e)
		}
	}
	if disjunction && notAllowed == len(alternatives) {
		return []string{l.formsMessage(path)} // folded by foldForms
	}
	if !disjunction {
		var out []string
		for _, e := range group {
			out = append(out, l.message(path, e))
		}
		return out
	}
	if m, ok := l.enumMessage(alternatives); ok {
		return []string{m}
	}
	// A disjunction with a default (*"5s" | #Duration) also fails against
	// the default literal; that conflict only restates the real reason.
	var out []string
	for _, e := range alternatives {
		if _, _, ok := literalConflict(e); !ok {
			out = append(out, l.message(path, e))
		}
	}
	if len(out) == 0 {
		out = append(out, format(group[0]))
	}
	slices.Sort(out)
	return []string{strings.Join(slices.Compact(out), "; ")}
}

// message explains one error.
func (l *loader) message(path []cue.Selector, e errors.Error) string {
	f, args := e.Msg()
	switch {
	case isNotAllowed(e):
		return l.notAllowed(path)
	case f == "incomplete value %v" && len(args) == 1:
		if len(l.forms(path)) > 0 {
			return l.formsMessage(path)
		}
		if want := fmt.Sprint(args[0]); !strings.Contains(want, "=~") {
			return fmt.Sprintf("required field not set (want %s)", want)
		}
		return "required field not set"
	case strings.HasSuffix(f, "(does not satisfy %s)") && len(args) == 2:
		// #Duration is the standard library's time.Duration.
		if fmt.Sprint(args[1]) == "time.Duration" {
			return durationMessage(fmt.Sprint(args[0]))
		}
	case f == "invalid value %v (out of bound %s)" && len(args) == 2:
		if describe := l.patternMessage(e); describe != nil {
			return describe(fmt.Sprint(args[0]))
		}
		return fmt.Sprintf("invalid value %v (must be %v)", args...)
	case strings.HasSuffix(f, "(mismatched types %s and %s)") && len(args) == 4:
		a, b := fmt.Sprint(args[0]), fmt.Sprint(args[1])
		switch {
		case isLiteral(a) && !isLiteral(b):
			return fmt.Sprintf("invalid value %s (want %v, got %v)", a, args[3], args[2])
		case isLiteral(b) && !isLiteral(a):
			return fmt.Sprintf("invalid value %s (want %v, got %v)", b, args[2], args[3])
		}
		// A list or struct: the user's side is the kind the user wrote.
		if l.user.Exists() {
			got := l.user.LookupPath(cue.MakePath(path...)).IncompleteKind().String()
			switch ta, tb := fmt.Sprint(args[2]), fmt.Sprint(args[3]); got {
			case ta:
				return fmt.Sprintf("want %s, got %s", tb, ta)
			case tb:
				return fmt.Sprintf("want %s, got %s", ta, tb)
			}
		}
	}
	return fmt.Sprintf(f, args...)
}

// enumMessage explains a value that is none of a disjunction's literals:
// `invalid value "all" (must be one of "skip", "isolated")`, with the
// choices in schema order.
func (l *loader) enumMessage(alternatives []errors.Error) (string, bool) {
	if len(alternatives) < 2 {
		return "", false
	}
	type choice struct {
		value string
		pos   token.Pos
	}
	var choices []choice
	counts := map[string]int{}
	for _, e := range alternatives {
		a, b, ok := literalConflict(e)
		if !ok {
			return "", false
		}
		counts[a]++
		counts[b]++
		choices = append(choices, choice{a + "\x00" + b, l.schemaPos(e)})
	}
	// The user's value is the one every alternative conflicts with.
	var given string
	for v, n := range counts {
		if n == len(alternatives) {
			given = v
		}
	}
	if given == "" {
		return "", false
	}
	slices.SortStableFunc(choices, func(x, y choice) int { return comparePos(x.pos, y.pos) })
	names := make([]string, len(choices))
	for i, c := range choices {
		a, b, _ := strings.Cut(c.value, "\x00")
		names[i] = a
		if a == given {
			names[i] = b
		}
	}
	hint := ""
	for _, name := range names {
		if name != given && strings.EqualFold(name, given) {
			hint = fmt.Sprintf("; did you mean %s?", name)
		}
	}
	return fmt.Sprintf("invalid value %s (must be one of %s%s)", given, strings.Join(names, ", "), hint), true
}

// literalConflict reports the two literals of a "conflicting values" error
// between two concrete scalars, such as "skip" and "all".
func literalConflict(e errors.Error) (a, b string, ok bool) {
	f, args := e.Msg()
	if !strings.HasPrefix(f, "conflicting values %s and %s") || len(args) < 2 {
		return "", "", false
	}
	a, b = fmt.Sprint(args[0]), fmt.Sprint(args[1])
	return a, b, isLiteral(a) && isLiteral(b)
}

// isLiteral reports whether a value as CUE prints it is one concrete scalar
// (a string, number, bool or null), not a type, bound or structure.
func isLiteral(s string) bool {
	switch {
	case s == "true" || s == "false" || s == "null":
		return true
	case strings.HasPrefix(s, `"`):
		_, err := literal.Unquote(s)
		return err == nil
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// A regular expression in an error says nothing to a user; these say what
// the schema's patterns stand for. Each is found by the line of the schema
// that declares it, so the schema's wording can change freely.
var patterns = []struct {
	marker   string // how the declaring line of the schema starts
	describe func(value string) string
}{
	{"#Duration:", durationMessage},
	{"#Path:", pathMessage},
	{"url: =~", func(v string) string {
		if raw, err := strconv.Unquote(v); err == nil {
			v = strconv.Quote(scrub.URL(raw)) // credentials and query may be secret
		}
		return fmt.Sprintf("invalid URL %s (want http:// or https://, a host, an optional port and path prefix; grpc:// or grpcs:// for gRPC)", v)
	}},
	{"dryRunHeader: *", func(v string) string {
		return fmt.Sprintf(`invalid header %s (want "Name: value", for example "X-Shadow-Dry-Run: true")`, v)
	}},
	{"path?: =~", func(v string) string {
		return fmt.Sprintf(`invalid path template %s (must start with "/", for example "/users/{id}")`, v)
	}},
}

// patternLines maps a schema line number to the description of the pattern
// declared there.
var patternLines = sync.OnceValue(func() map[int]func(string) string {
	lines := map[int]func(string) string{}
	for i, line := range strings.Split(schemas.Shadow, "\n") {
		line = strings.TrimSpace(line)
		for _, p := range patterns {
			if strings.HasPrefix(line, p.marker) {
				lines[i+1] = p.describe
			}
		}
	}
	return lines
})

func durationMessage(value string) string {
	return fmt.Sprintf(`invalid duration %s (want Go syntax such as "250ms", "3s" or "1m30s")`, value)
}

// pathWant says what a path looks like.
const pathWant = `want "$" followed by .field, ."any name", [*], [N], [field=value] or ..field, or header:Name`

func pathMessage(value string) string {
	return fmt.Sprintf(`invalid path %s (%s)`, value, pathWant)
}

// patternMessage returns the description of the schema pattern e failed, or
// nil.
func (l *loader) patternMessage(e errors.Error) func(string) string {
	for _, p := range append(e.InputPositions(), e.Position()) {
		if l.isSchema(p) {
			if describe := patternLines()[p.Line()]; describe != nil {
				return describe
			}
		}
	}
	return nil
}
