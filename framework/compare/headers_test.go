package compare

import (
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestContentTypeEquivalence lists the media type rules: each pair of
// Content-Type values either means the same (no diff) or not (a header diff).
func TestContentTypeEquivalence(t *testing.T) {
	tests := []struct {
		prod, shadow string
		equal        bool
		reason       string
	}{
		{"application/json", "application/json; charset=utf-8", true,
			"JSON has no charset parameter and UTF-8 is its only encoding (RFC 8259)"},
		{"application/json; charset=UTF-8", "application/json", true,
			"the charset name is case-insensitive, so UTF-8 is utf-8 and is dropped for JSON"},
		{"application/json;charset=\"utf-8\"", "application/json", true,
			"a quoted value means the same as the bare one"},
		{"application/problem+json", "application/problem+json; charset=utf-8", true,
			"every +json type is JSON (RFC 6839)"},
		{"application/vnd.api+json; charset=utf8", "application/vnd.api+json", true,
			"utf8 is a common spelling of utf-8"},
		{"Application/JSON", "application/json", true,
			"type and subtype are case-insensitive (RFC 9110 §8.3.1)"},
		{"text/plain; Charset=UTF-8; format=flowed", "text/plain;format=flowed;charset=utf-8", true,
			"parameter names are case-insensitive and their order does not matter"},
		{"text/plain; format=\"flowed\"", "text/plain; format=flowed", true,
			"quoted values of any parameter are unquoted before comparing"},
		{"  text/html ;  charset=utf-8 ", "text/html; charset=utf-8", true,
			"spaces around the type and parameters do not count"},
		{"application/json; charset=iso-8859-1", "application/json", false,
			"a charset other than utf-8 on JSON is a real difference"},
		{"text/plain", "text/plain; charset=utf-8", false,
			"text/* without a charset is not assumed to be utf-8"},
		{"application/json", "text/json", false,
			"a different media type is a difference even when both are JSON-like"},
		{"multipart/mixed; boundary=ABC", "multipart/mixed; boundary=abc", false,
			"values other than charset keep their case: a boundary is case-sensitive"},
		{"application/xml; charset=utf-8", "application/xml", false,
			"the utf-8 default applies to JSON only"},
	}
	c := mustCompile(t, framework.Rules{Headers: []string{"Content-Type"}})
	for _, tt := range tests {
		t.Run(tt.prod+" vs "+tt.shadow, func(t *testing.T) {
			got := c.Compare(response(200, "x", "Content-Type: "+tt.prod), response(200, "x", "Content-Type: "+tt.shadow))
			if equal := len(got) == 0; equal != tt.equal {
				t.Errorf("%s\nequal = %v, want %v; diffs:\n%s", tt.reason, equal, tt.equal, formatDiffs(got))
			}
		})
	}
}

// TestContentTypeShown checks what a Content-Type difference shows: the
// normalised values.
func TestContentTypeShown(t *testing.T) {
	c := mustCompile(t, framework.Rules{Headers: []string{"Content-Type"}})
	got := c.Compare(response(200, "x", "Content-Type: Application/JSON; charset=UTF-8"),
		response(200, "x", "Content-Type: application/json; charset=latin1"))
	want := []framework.Diff{d(kHeader, "header:Content-Type", "application/json", "application/json; charset=latin1")}
	if !diffsEqual(got, want) {
		t.Errorf("got:\n%swant:\n%s", formatDiffs(got), formatDiffs(want))
	}
}
