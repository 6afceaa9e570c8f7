package spec

import (
	"cmp"
	"slices"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// Error is an invalid spec directory: every problem found, sorted by file and
// line. It is an input error, never an infrastructure failure.
type Error struct {
	Problems []Problem
}

// Problem is one mistake in a spec.
type Problem struct {
	// Pos is where the mistake is, in the user's files when possible. The
	// file name is relative to the current directory as the spec directory
	// was given to Load. It is zero for problems that have no place in a
	// file, such as a bad -t value.
	Pos framework.Position
	// Path is the CUE path of the value at fault, for example
	// endpoints."get-user".thresholds.matchRate; empty for syntax errors.
	Path string
	// Message says what is wrong, and when it can what is expected.
	Message string
}

// String formats the problem as "file:line:col: path: message", leaving out
// the parts it does not have.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Pos.File == "":
	case p.Pos.Line == 0:
		b.WriteString(p.Pos.File + ": ")
	default:
		b.WriteString(p.Pos.String() + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error prints one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// newError sorts and deduplicates problems; it returns nil when there are
// none, so that callers can return its result directly.
func newError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	slices.SortStableFunc(problems, compareProblems)
	problems = slices.Compact(problems)
	return &Error{Problems: problems}
}

func compareProblems(a, b Problem) int {
	return cmp.Or(
		cmp.Compare(a.Pos.File, b.Pos.File),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Col, b.Pos.Col),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Message, b.Message),
	)
}
