package redact

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// percentAll writes every byte of s as a percent-escape: a form
// url.QueryEscape never writes, so the scrubber, which matches bytes, does
// not know it.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// TestPercentEncodedKnownSecretsMasked: a known token percent-encoded
// beyond url.QueryEscape (%5Ak… for Zk…, a shadow echoing it in a
// redirect) was shown as written (redteam6). Runs with escapes that
// decode to a secret known by value are masked in URLs, query and form
// values, header values and JSON strings; other escapes are kept.
func TestPercentEncodedKnownSecretsMasked(t *testing.T) {
	r, _ := build(t)
	r.Header(http.Header{"Authorization": {"Bearer " + secret}}) // learned from a request
	half := secret[:4] + percentAll(secret[4:8]) + secret[8:]
	for _, tc := range []struct{ reason, in, want string }{
		{"a path segment", "/cb/" + percentAll(secret) + "/x", "/cb/[REDACTED]/x"},
		{"a query value", "/cb?next=" + half + "&page=2", "/cb?next=[REDACTED]&page=2"},
		{"with a bad escape and a plus", "/cb?n=%zz+" + percentAll(secret), "/cb?n=[REDACTED]"},
		// Escaped twice (a callback URL in another URL's query) was shown
		// as written (redteam9).
		{"escaped twice", "/login?next=" + strings.ReplaceAll(percentAll(secret), "%", "%25"), "/login?next=[REDACTED]"},
		{"other escapes", "/search?q=%E2%9C%93+ok%20go", ""},
	} {
		want := tc.want
		if want == "" {
			want = tc.in
		}
		if got := r.URL(tc.in); got != want {
			t.Errorf("%s: URL(%q) = %q, want %q", tc.reason, tc.in, got, want)
		}
		if got := r.Text("see https://shop.example" + tc.in); got != "see https://shop.example"+want {
			t.Errorf("%s: Text = %q", tc.reason, got)
		}
	}
	for _, tc := range []struct{ contentType, body string }{
		{"application/x-www-form-urlencoded", "a=1&next=" + percentAll(secret)},
		{"application/json", `{"next":"/cb/` + half + `"}`},
		{"text/plain", "go to /cb/" + percentAll(secret) + " now"},
	} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {tc.contentType}}, []byte(tc.body))
		if err != nil || strings.Contains(string(out), percentAll(secret)) || strings.Contains(string(out), half) || !strings.Contains(string(out), Mask) {
			t.Errorf("%s: %s, %v", tc.contentType, out, err)
		}
	}
	if got := r.Header(http.Header{"Location": {"/cb?t=" + percentAll(secret)}}); got.Get("Location") != "/cb?t="+Mask {
		t.Errorf("a Location header: %q", got.Get("Location"))
	}
}
