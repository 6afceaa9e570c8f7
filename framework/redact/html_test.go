package redact

import (
	"net/http"
	"strings"
	"testing"
)

// TestHTMLSecretsMaskedByName: an HTML page carries secrets in
// attributes (a CSRF token in a meta tag or a hidden input, a password
// input's value, a data-api-key attribute). They are masked and learned
// in an HTML body, in one without a Content-Type, and in a line of a page
// shown as a text difference; every other byte is kept.
func TestHTMLSecretsMaskedByName(t *testing.T) {
	body := `<!doctype html><html><head><meta name="csrf-token" content="Zk1csrf"><title>Shop</title></head>
<body><form><input type="hidden" name="authenticity_token" value="Zk2auth"><INPUT TYPE=password NAME=pw VALUE=Zk3pw>
<div data-api-key='Zk4key' class="x">Hello &amp; welcome</div></form></body></html>`
	for _, ct := range []string{"text/html; charset=utf-8", ""} {
		r, sc := build(t)
		out, _, err := r.BodyOf(http.Header{"Content-Type": {ct}}, []byte(body))
		if err != nil {
			t.Fatalf("%q: %v", ct, err)
		}
		got := string(out)
		if strings.Contains(got, "Zk") {
			t.Errorf("%q: a secret is not masked:\n%s", ct, got)
		}
		for _, keep := range []string{`<meta name="csrf-token" content="[REDACTED]">`, `<INPUT TYPE=password NAME=pw VALUE="[REDACTED]">`, `data-api-key="[REDACTED]" class="x">Hello &amp; welcome</div>`, `<title>Shop</title>`} {
			if !strings.Contains(got, keep) {
				t.Errorf("%q: %s not kept:\n%s", ct, keep, got)
			}
		}
		if echo := sc.String("echo Zk2auth"); strings.Contains(echo, "Zk2auth") {
			t.Errorf("%q: the token was not learned by value", ct)
		}
	}
	r, _ := build(t)
	if got := r.Value("body", `line 2: <input type="hidden" name="authenticity_token" value="Zk5line">`); strings.Contains(got, "Zk5line") {
		t.Errorf("a line of a page shown as a difference: %s", got)
	}
	plain := `<p>no secrets <b>here</b></p>`
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"text/html"}}, []byte(plain)); string(out) != plain {
		t.Errorf("a page without secrets changed: %s", out)
	}
}
