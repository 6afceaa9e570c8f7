package compare

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
)

// response builds a received response; header is "Name: value" lines.
func response(status int, body string, header ...string) *framework.Response {
	r := &framework.Response{Status: status, Header: http.Header{}, Body: []byte(body)}
	for _, line := range header {
		name, value, _ := strings.Cut(line, ":")
		r.Header.Add(name, strings.TrimSpace(value))
	}
	return r
}

// jsonResponse is a 200 with a JSON content type.
func jsonResponse(body string) *framework.Response {
	return response(200, body, "Content-Type: application/json")
}

func failure(kind, msg string) *framework.Response {
	return &framework.Response{Err: errors.New(msg), ErrKind: kind}
}

// diffsEqual compares got with want; a want value ending in "*" matches
// any value with that prefix (for messages owned by encoding/json).
func diffsEqual(got, want []framework.Diff) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Path != w.Path || g.Kind != w.Kind || !valueMatches(g.Prod, w.Prod) || !valueMatches(g.Shadow, w.Shadow) {
			return false
		}
	}
	return true
}

func valueMatches(got, want string) bool {
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(got, prefix)
	}
	return got == want
}

func formatDiffs(diffs []framework.Diff) string {
	if len(diffs) == 0 {
		return "  (none)\n"
	}
	var b strings.Builder
	for _, d := range diffs {
		fmt.Fprintf(&b, "  %s %s prod=%q shadow=%q\n", d.Kind, d.Path, d.Prod, d.Shadow)
	}
	return b.String()
}

func mustCompile(t testing.TB, rules framework.Rules) *Comparator {
	t.Helper()
	c, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", rules, err)
	}
	return c
}

func utf8ValidString(s string) bool { return utf8.ValidString(s) }
