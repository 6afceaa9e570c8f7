package compare

import (
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// d is a short way to write an expected Diff.
func d(kind framework.DiffKind, path, prod, shadow string) framework.Diff {
	return framework.Diff{Path: path, Kind: kind, Prod: prod, Shadow: shadow}
}

const (
	kMissing = framework.KindMissing
	kExtra   = framework.KindExtra
	kType    = framework.KindType
	kValue   = framework.KindValue
	kSize    = framework.KindSize
	kHeader  = framework.KindHeader
	kStatus  = framework.KindStatus
	kError   = framework.KindError
)

type compareCase struct {
	name         string
	rules        framework.Rules
	prod, shadow *framework.Response
	want         []framework.Diff
	reason       string
}

func runCompareCases(t *testing.T, tests []compareCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCompile(t, tt.rules)
			got := c.Compare(tt.prod, tt.shadow)
			if !diffsEqual(got, tt.want) {
				t.Errorf("%s\ngot:\n%swant:\n%s", tt.reason, formatDiffs(got), formatDiffs(tt.want))
			}
		})
	}
}

func TestCompareTransportAndStatus(t *testing.T) {
	runCompareCases(t, []compareCase{
		{
			name:   "shadow refused",
			prod:   jsonResponse(`{"a":1}`),
			shadow: failure("refused", "dial tcp 127.0.0.1:8082: connect: connection refused"),
			want:   []framework.Diff{d(kError, "response", "status 200", "refused: dial tcp 127.0.0.1:8082: connect: connection refused")},
			reason: "a transport failure is one error diff showing prod's status and the shadow's error",
		},
		{
			name:   "prod timeout",
			prod:   failure("timeout", "context deadline exceeded"),
			shadow: response(500, "oops"),
			want:   []framework.Diff{d(kError, "response", "timeout: context deadline exceeded", "status 500")},
			reason: "prod can fail too; the other side shows its status",
		},
		{
			name:   "both failed",
			prod:   failure("reset", "connection reset"),
			shadow: failure("", "something odd"),
			want:   []framework.Diff{d(kError, "response", "reset: connection reset", "something odd")},
			reason: "both failing is still one diff; without an ErrKind the error text alone is shown",
		},
		{
			name:   "nil shadow",
			prod:   jsonResponse(`{}`),
			shadow: nil,
			want:   []framework.Diff{d(kError, "response", "status 200", "no response")},
			reason: "a nil response is treated as a failure, not a panic",
		},
		{
			name:   "failure hides everything else",
			rules:  framework.Rules{Headers: []string{"Content-Type"}},
			prod:   response(200, "a", "Content-Type: text/plain"),
			shadow: &framework.Response{Status: 502, Body: []byte("b"), Err: failure("", "x").Err},
			want:   []framework.Diff{d(kError, "response", "status 200", "x")},
			reason: "with a failed side, status, headers and body are not compared",
		},
		{
			name:   "status differs",
			rules:  framework.Rules{Headers: []string{"Content-Type"}},
			prod:   jsonResponse(`{"id":1}`),
			shadow: response(500, `<html>error</html>`, "Content-Type: text/html"),
			want:   []framework.Diff{d(kStatus, "status", "200", "500")},
			reason: "different statuses give only the status diff, not header or body diffs",
		},
		{
			name:   "same status, same body",
			prod:   response(404, `not found`),
			shadow: response(404, `not found`),
			reason: "a match returns no diffs",
		},
	})
}

func TestCompareHeaders(t *testing.T) {
	rules := framework.Rules{Headers: []string{"content-type", "Cache-Control", "Vary"}}
	runCompareCases(t, []compareCase{
		{
			name:   "content type normalised",
			rules:  rules,
			prod:   response(200, "x", "Content-Type: application/json; charset=UTF-8"),
			shadow: response(200, "x", "Content-Type:  Application/JSON;charset=utf-8 "),
			reason: "media type and charset are case-insensitive, spaces do not count",
		},
		{
			name:   "content type parameter order",
			rules:  rules,
			prod:   response(200, "x", "Content-Type: text/plain; format=flowed; charset=us-ascii"),
			shadow: response(200, "x", "Content-Type: text/plain;charset=US-ASCII;format=flowed"),
			reason: "parameters are sorted before comparing",
		},
		{
			name:   "content type differs",
			rules:  rules,
			prod:   response(200, "x", "Content-Type: text/plain; charset=utf-8"),
			shadow: response(200, "x", "Content-Type: text/html; charset=utf-8"),
			want:   []framework.Diff{d(kHeader, "header:Content-Type", "text/plain; charset=utf-8", "text/html; charset=utf-8")},
			reason: "a different media type is a header diff at the canonical name, values normalised",
		},
		{
			name:   "comma list spacing",
			rules:  rules,
			prod:   response(200, "", "Cache-Control: no-cache,  max-age=0"),
			shadow: response(200, "", "Cache-Control: no-cache,max-age=0,"),
			reason: "list elements are trimmed and empty elements dropped",
		},
		{
			name:   "repeated header equals comma list",
			rules:  rules,
			prod:   response(200, "", "Vary: Accept", "Vary: Origin"),
			shadow: response(200, "", "Vary: Accept, Origin"),
			reason: "two header lines are the same as one comma-separated line",
		},
		{
			name:   "list order matters",
			rules:  rules,
			prod:   response(200, "", "Vary: Accept, Origin"),
			shadow: response(200, "", "Vary: Origin, Accept"),
			want:   []framework.Diff{d(kHeader, "header:Vary", "Accept, Origin", "Origin, Accept")},
			reason: "element order is kept: not every header is a set",
		},
		{
			name:   "missing on shadow",
			rules:  rules,
			prod:   response(200, "", "Cache-Control: max-age=60"),
			shadow: response(200, ""),
			want:   []framework.Diff{d(kHeader, "header:Cache-Control", "max-age=60", "")},
			reason: "a header only prod sends is a diff",
		},
		{
			name:   "missing on prod",
			rules:  rules,
			prod:   response(200, ""),
			shadow: response(200, "", "Vary: Origin"),
			want:   []framework.Diff{d(kHeader, "header:Vary", "", "Origin")},
			reason: "a header only the shadow sends is a diff",
		},
		{
			name:   "non-canonical map keys",
			rules:  rules,
			prod:   &framework.Response{Status: 200, Header: map[string][]string{"cache-control": {"max-age=1"}}},
			shadow: &framework.Response{Status: 200, Header: map[string][]string{"CACHE-CONTROL": {"max-age=2"}}},
			want:   []framework.Diff{d(kHeader, "header:Cache-Control", "max-age=1", "max-age=2")},
			reason: "header maps built by hand with odd case are still found",
		},
		{
			name:   "unlisted header",
			rules:  rules,
			prod:   response(200, "", "X-Served-By: a"),
			shadow: response(200, "", "X-Served-By: b"),
			reason: "headers not listed are not compared",
		},
		{
			name:   "ignored header",
			rules:  framework.Rules{Headers: []string{"Date", "Vary"}, Ignore: []string{"header:date"}},
			prod:   response(200, "", "Date: Mon, 01 Jan 2024 00:00:00 GMT", "Vary: A"),
			shadow: response(200, "", "Date: Tue, 02 Jan 2024 00:00:00 GMT", "Vary: B"),
			want:   []framework.Diff{d(kHeader, "header:Vary", "A", "B")},
			reason: "an ignored header is skipped even when listed; names are case-insensitive",
		},
		{
			name:   "headers in rule order",
			rules:  framework.Rules{Headers: []string{"Vary", "Cache-Control", "vary"}},
			prod:   response(200, "", "Vary: A", "Cache-Control: x"),
			shadow: response(200, "", "Vary: B", "Cache-Control: y"),
			want: []framework.Diff{
				d(kHeader, "header:Vary", "A", "B"),
				d(kHeader, "header:Cache-Control", "x", "y"),
			},
			reason: "header diffs follow the rules' order, duplicates listed once",
		},
	})
}

func TestCompareTextBodies(t *testing.T) {
	long := strings.Repeat("a", 200)
	runCompareCases(t, []compareCase{
		{
			name:   "text value",
			prod:   response(200, "hello", "Content-Type: text/plain"),
			shadow: response(200, "hellO", "Content-Type: text/plain"),
			want:   []framework.Diff{d(kValue, "body", "hello", "hellO")},
			reason: "text bodies of equal length that differ are a value diff at body",
		},
		{
			name:   "text size",
			prod:   response(200, "hello", "Content-Type: text/plain"),
			shadow: response(200, "hello!", "Content-Type: text/plain"),
			want:   []framework.Diff{d(kSize, "body", "hello", "hello!")},
			reason: "text bodies of different length are a size diff",
		},
		{
			name:   "text that looks like JSON",
			prod:   response(200, `{"a":1}`, "Content-Type: text/plain"),
			shadow: response(200, `{"a":1.0}`, "Content-Type: text/plain"),
			want:   []framework.Diff{d(kSize, "body", `{"a":1}`, `{"a":1.0}`)},
			reason: "a non-JSON content type means bytes, whatever the body looks like",
		},
		{
			name:   "long text is cut",
			prod:   response(200, long+"x"),
			shadow: response(200, long+"y"),
			want:   []framework.Diff{d(kValue, "body", "…"+long[:40]+"x", "…"+long[:40]+"y")},
			reason: "a long line is shown from a little before its first differing byte, so the change is in view",
		},
		{
			name:   "binary body",
			prod:   response(200, "\xff\xfe\x00a", "Content-Type: application/octet-stream"),
			shadow: response(200, "\xff\xfe\x00b", "Content-Type: application/octet-stream"),
			want:   []framework.Diff{d(kValue, "body", "\uFFFD\x00a", "\uFFFD\x00b")},
			reason: "invalid UTF-8 is shown as U+FFFD so diffs are always valid text",
		},
		{
			name:   "no content type, JSON-looking bodies",
			prod:   response(200, `{"a":1,"b":[true]}`),
			shadow: response(200, ` {"b":[true],"a":1.0}`),
			reason: "without a content type, two bodies that look like JSON are compared as JSON",
		},
		{
			name:   "no content type, one side not JSON",
			prod:   response(200, `{"a":1}`),
			shadow: response(200, `plain`),
			want:   []framework.Diff{d(kSize, "body", `{"a":1}`, `plain`)},
			reason: "without a content type, JSON needs both sides to look like JSON",
		},
		{
			name:   "ignore $ skips text",
			rules:  framework.Rules{Ignore: []string{"$"}},
			prod:   response(200, "a"),
			shadow: response(200, "bb"),
			reason: "ignoring the root ignores the whole body, JSON or not",
		},
		{
			name:   "both truncated, same length, different bytes",
			prod:   &framework.Response{Status: 200, Body: []byte("aaaa"), Truncated: true},
			shadow: &framework.Response{Status: 200, Body: []byte("bbbb"), Truncated: true},
			want:   []framework.Diff{d(kValue, "body", "4 bytes (truncated): aaaa", "4 bytes (truncated): bbbb")},
			reason: "bodies cut at the cap whose read parts differ do differ: counting them as a match would hide a shadow answering other huge bodies",
		},
		{
			name:   "both truncated, same bytes",
			prod:   &framework.Response{Status: 200, Body: []byte("aaaa"), Truncated: true},
			shadow: &framework.Response{Status: 200, Body: []byte("aaaa"), Truncated: true},
			reason: "equal parts are all that can be known of two cut bodies",
		},
		{
			name:   "both truncated, different length",
			prod:   &framework.Response{Status: 200, Body: []byte("aaaa"), Truncated: true},
			shadow: &framework.Response{Status: 200, Body: []byte("aaa"), Truncated: true},
			want:   []framework.Diff{d(kSize, "body", "4 bytes (truncated)", "3 bytes (truncated)")},
			reason: "cut bodies of different lengths are a size diff",
		},
	})
}

func TestCompareInvalidJSON(t *testing.T) {
	cut := jsonResponse(`{"a":[1,2`)
	cut.Truncated = true
	runCompareCases(t, []compareCase{
		{
			name:   "shadow not JSON",
			prod:   jsonResponse(`{"a":1}`),
			shadow: jsonResponse(`<html>`),
			want:   []framework.Diff{d(kType, "body", `{"a":1}`, "invalid JSON: *")},
			reason: "one unparsable side is a type diff at body with a note",
		},
		{
			name:   "prod empty",
			prod:   jsonResponse(``),
			shadow: jsonResponse(`{}`),
			want:   []framework.Diff{d(kType, "body", "invalid JSON: unexpected EOF", `{}`)},
			reason: "an empty body is not a JSON document",
		},
		{
			name:   "trailing data",
			prod:   jsonResponse(`{"a":1}`),
			shadow: jsonResponse(`{"a":1} {"a":2}`),
			want:   []framework.Diff{d(kType, "body", `{"a":1}`, "invalid JSON: data after the JSON value")},
			reason: "a second value after the document is not valid",
		},
		{
			name:   "truncated JSON",
			prod:   jsonResponse(`{"a":[1,2]}`),
			shadow: cut,
			want:   []framework.Diff{d(kType, "body", `{"a":[1,2]}`, "invalid JSON: unexpected EOF (body truncated at 9 bytes)")},
			reason: "one truncated side is compared as it is, and the note says it was cut",
		},
		{
			name:   "both invalid",
			prod:   jsonResponse(`{oops`),
			shadow: jsonResponse(`{oopz`),
			want:   []framework.Diff{d(kValue, "body", `{oops`, `{oopz`)},
			reason: "when neither side parses, bytes are compared",
		},
		{
			name:   "vendor JSON type",
			prod:   response(200, `{"n":1}`, "Content-Type: application/problem+json; charset=utf-8"),
			shadow: response(200, `{"n":1.0}`, "Content-Type: application/problem+json"),
			reason: "*/*+json is JSON",
		},
	})
}

// TestConcurrentUse runs one Comparator from many goroutines; run with
// -race to check it shares no mutable state.
func TestConcurrentUse(t *testing.T) {
	c := mustCompile(t, framework.Rules{Ignore: []string{"$..requestId"}, Headers: []string{"Vary"},
		Tolerance: map[string]framework.Tolerance{"$.x": {Abs: 1}}})
	prod := response(200, `{"x":1,"y":[1,2],"requestId":1}`, "Content-Type: application/json", "Vary: A")
	shadow := response(200, `{"x":1.5,"y":[1,3],"requestId":2}`, "Content-Type: application/json", "Vary: B")
	want := []framework.Diff{d(kHeader, "header:Vary", "A", "B"), d(kValue, "$.y[1]", "2", "3")}
	done := make(chan []framework.Diff)
	for range 8 {
		go func() { done <- c.Compare(prod, shadow) }()
	}
	for range 8 {
		if got := <-done; !diffsEqual(got, want) {
			t.Errorf("concurrent Compare\ngot:\n%swant:\n%s", formatDiffs(got), formatDiffs(want))
		}
	}
}
