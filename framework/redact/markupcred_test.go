package redact

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestCredentialShapedMarkupMasked: a JWT, "Bearer <token>" or "Basic
// <user:password>" as the whole text of an XML or HTML element or as an
// attribute's value, under innocent names, was shown as written unless
// learned elsewhere (as in JSON strings before). The same strict shape as
// for JSON strings masks and learns it; prose is kept. An HTML element
// named like a secret (<password>) has its text masked, as in XML.
func TestCredentialShapedMarkupMasked(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + secret
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:"+secret))
	bearer := "Bearer " + secret + "abc"
	for _, tc := range []struct {
		reason, contentType, body, want string
	}{
		{"a JWT in XML text", "application/xml", "<a><b>" + jwt + "</b><c>hello</c></a>", "<a><b>[REDACTED]</b><c>hello</c></a>"},
		{"a bearer token in XML text, spaced", "text/xml", "<a>\n  " + bearer + "\n</a>", "<a>[REDACTED]</a>"},
		{"Basic credentials in an XML attribute", "application/soap+xml", `<a h="` + basic + `" n="1"/>`, `<a h="[REDACTED]" n="1"/>`},
		{"a JWT in an XML attribute, with a reference", "application/xml", `<a h='` + strings.Replace(jwt, "e", "&#101;", 1) + `'/>`, `<a h="[REDACTED]"/>`},
		{"a JWT in HTML text", "text/html", "<p>" + jwt + "</p><p>hello</p>", "<p>[REDACTED]</p><p>hello</p>"},
		{"a bearer token in an HTML attribute", "text/html", `<div data-x="` + bearer + `" class=c>x</div>`, `<div data-x="[REDACTED]" class=c>x</div>`},
		{"an HTML element named like a secret", "text/html", "<password>" + secret + "</password><b>hello</b>", "<password>[REDACTED]</password><b>hello</b>"},
		{"prose in XML", "application/xml", "<a>Bearer of bad news</a>", ""},
		{"prose in an XML attribute", "application/xml", `<a t="Basic membership"/>`, ""},
		{"prose in HTML", "text/html", "<p>Bearer of bad news</p><p title=\"Token of appreciation\">x</p>", ""},
		{"a token inside prose", "text/html", "<p>your token is Bearer " + secret + "abc, keep it</p>", "<p>your token is Bearer [REDACTED], keep it</p>"},
		{"a token inside XML prose", "application/xml", "<p>sent Bearer " + secret + "abc &amp; more</p>", "<p>sent Bearer [REDACTED] &amp; more</p>"},
	} {
		r, sc := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {tc.contentType}}, []byte(tc.body))
		want := tc.want
		if want == "" {
			want = tc.body
		}
		if err != nil || string(out) != want {
			t.Errorf("%s:\n got %s, %v\nwant %s", tc.reason, out, err, want)
		}
		// What was masked is learned: the body, scrubbed by value alone, shows none of it.
		if tc.want != "" && strings.Contains(sc.String(strings.ReplaceAll(tc.body, "&#101;", "e")), secret) {
			t.Errorf("%s: the value was not learned", tc.reason)
		}
	}
}

// TestInlineCredentialsInTextMasked: free text (a text body, a line of a
// difference, an RPC status message, a header value) carrying "Bearer <token>" or a JWT
// without a name before it ("rejected Bearer …: expired") kept it; the
// credential shapes of JSON strings mask the token where it stands, and
// prose is kept.
func TestInlineCredentialsInTextMasked(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + secret
	for _, tc := range []struct{ reason, in, want string }{
		{"a bearer token in a sentence", "rejected Bearer Qw9f8e7d6c5b4a39281706: expired", "rejected Bearer [REDACTED]: expired"},
		{"a JWT in a log line", "level=info id " + jwt + " ok", "level=info id [REDACTED] ok"},
		{"the text rule", "invalid token=" + secret, "invalid token=[REDACTED]"},
		{"basic credentials", "sent basic " + base64.StdEncoding.EncodeToString([]byte("ada:"+secret)) + ".", "sent basic [REDACTED]."},
		{"prose", "the Bearer of bad news, a Basic membership, Bearer abc123 and eyJ is how one starts", ""},
		{"a token inside a word", "xBearer " + secret + "abcd", ""},
	} {
		want := tc.want
		if want == "" {
			want = tc.in
		}
		r, sc := build(t)
		if got := r.Message(tc.in); got != want {
			t.Errorf("%s: Message = %q, want %q", tc.reason, got, want)
		}
		if tc.want != "" && sc.String(tc.in) == tc.in {
			t.Errorf("%s: not learned", tc.reason)
		}
		r, _ = build(t)
		if out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/plain"}}, []byte(tc.in)); err != nil || string(out) != want {
			t.Errorf("%s: a text body: %q, %v", tc.reason, out, err)
		}
		if tc.reason != "the text rule" { // X-Debug names no secret: the text rule is for bodies
			if got := r.Header(http.Header{"X-Debug": {tc.in}}).Get("X-Debug"); got != want {
				t.Errorf("%s: a header value: %q", tc.reason, got)
			}
		}
	}
}
