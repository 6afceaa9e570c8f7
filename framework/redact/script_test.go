package redact

import (
	"net/http"
	"strings"
	"testing"
)

// TestScriptSecrets: the string literals a script assigns to a secret
// name, or keys by one, are masked in an HTML page's <script> (quotes
// kept, every other byte as written), in a JavaScript body and in a line
// shown as a difference; quotes inside strings, comments, template
// literals and regular expressions do not move the rule onto the wrong
// literal, and harmless literals are kept.
func TestScriptSecrets(t *testing.T) {
	// Each masked literal's content, in order; the script is written with
	// them and the wanted output with [REDACTED] in their place.
	masked := []string{
		`Zk61csrf`, `Zk62apikey`, `Zk63bracket`, `Zk64access`,
		`Zk65password`, `ab\"Zk66escaped\"cd`, `Zk67commented`,
		`Zk68block`, `Zk69afterquote`, `Zk70${user}template`,
		`Zk71afterregexp`, `Zk72afterdivision`, `Zk73first`, `Zk74joined`,
		`Zk75\u0061escapedname`,
	}
	script := `
window.csrfToken = "%s"; var apiKey = '%s';
let page = "home", label = "token: ";
config["auth_token"] = "%s";
const state = {"access_token": "%s", "user": "ada"};
var s = "a token='", password = "%s";
var jwt = "%s";
// sessionToken = "%s"
/* apiKey: '%s' */
// don't stop here
var refresh_token = "%s";
var bearer = ` + "`%s`" + `;
var re = /"|'/g; var authToken = "%s";
var n = a / b; var pwd = "%s";
var secret = "%s" + "%s";
var \u0074oken = "%s";
if (token == "keepme") { render("title", 'also kept') }
`
	in, want := script, script
	for _, m := range masked {
		in = strings.Replace(in, "%s", m, 1)
		want = strings.Replace(want, "%s", Mask, 1)
	}
	page := "<!doctype html><html><head><title>token = \"shown\"</title><script>" + in + "</script></head><body><p>apiKey: 'text, not script'</p></body></html>"
	wantPage := "<!doctype html><html><head><title>token = \"shown\"</title><script>" + want + "</script></head><body><p>apiKey: 'text, not script'</p></body></html>"
	r, sc := build(t)
	out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/html"}}, []byte(page))
	if err != nil || string(out) != wantPage {
		t.Errorf("HTML page: %v\ngot:  %s\nwant: %s", err, out, wantPage)
	}
	for _, m := range masked {
		value := jsUnescape([]byte(m))
		if echo := sc.String("echo " + value); strings.Contains(echo, value) {
			t.Errorf("%q not learned by value", value)
		}
	}
	out, _, err = r.BodyOf(http.Header{"Content-Type": {"application/javascript"}}, []byte(in))
	if err != nil || string(out) != want {
		t.Errorf("JavaScript body: %v\n%s", err, out)
	}
	if got := r.Value("body", `  window.csrfToken = "Zk76line";`); got != `  window.csrfToken = "[REDACTED]";` {
		t.Errorf("a line of a page shown as a difference: %q", got)
	}
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"text/html"}}, []byte(`<script>var \u0074oken = "Zk77escaped";</script>`)); strings.Contains(string(out), "Zk77") {
		t.Errorf("a name spelled with an escape only: %s", out)
	}
	plain := `<script>var page = "home"; // no secret here</script>`
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"text/html"}}, []byte(plain)); string(out) != plain {
		t.Errorf("a script without secrets changed: %s", out)
	}
}

// TestScriptJSON: a <script> of a JSON type is masked by the JSON rules
// (secret members, name/value pairs) when it parses, by the script rule
// when it does not.
func TestScriptJSON(t *testing.T) {
	page := `<html><script type="application/json" id="state">{"user":{"name":"Ada","session":"Zk81member"},"headers":[{"name":"Authorization","value":"Zk82pair"}],"note":"</p>"}</script>` +
		`<script type="application/ld+json">{"api_key": "Zk83broken", </script><p>Ada</p></html>`
	r, _ := build(t)
	out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/html"}}, []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, s := range []string{"Zk81", "Zk82", "Zk83"} {
		if strings.Contains(got, s) {
			t.Errorf("%s not masked:\n%s", s, got)
		}
	}
	for _, k := range []string{`"name":"Ada"`, `{"api_key": "[REDACTED]", </script><p>Ada</p></html>`, `\u003c/p\u003e`} {
		if !strings.Contains(got, k) {
			t.Errorf("want %s in:\n%s", k, got)
		}
	}
}

// TestScriptNameValueArguments: a secret name given as a string literal
// and its value next to it, as arguments or as a pair, is masked
// (redteam5: localStorage.setItem("token", "...") and a pair object in a
// script came out as written). The value is not learned: a list of names
// must not make its members secret everywhere.
func TestScriptNameValueArguments(t *testing.T) {
	r, sc := build(t)
	for in, want := range map[string]string{
		`localStorage.setItem("token", "Zk81stored");`:                         `localStorage.setItem("token", "[REDACTED]");`,
		`xhr.setRequestHeader('Authorization', 'Bearer Zk82header');`:          `xhr.setRequestHeader('Authorization', '[REDACTED]');`,
		`const h = [["X-Api-Key", "Zk83tuple"], ["Accept", "text/html"]];`:     `const h = [["X-Api-Key", "[REDACTED]"], ["Accept", "text/html"]];`,
		`var cfg = {"name": "token", "value": "Zk84pair"};`:                    `var cfg = {"name": "token", "value": "[REDACTED]"};`,
		`var cfg = {"name": "password", "hint": "kept", "other": "kept too"};`: `var cfg = {"name": "password", "hint": "kept", "other": "kept too"};`,
		`render("title", "kept"); f(token, "kept: an identifier is no name");`: `render("title", "kept"); f(token, "kept: an identifier is no name");`,
	} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/javascript"}}, []byte(in))
		if err != nil || string(out) != want {
			t.Errorf("%s\ngot:  %s\nwant: %s (%v)", in, out, want, err)
		}
	}
	list := `var fields = ["password", "username_field"];`
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"application/javascript"}}, []byte(list)); string(out) != `var fields = ["password", "[REDACTED]"];` {
		t.Errorf("a list of names: %s", out)
	}
	if got := sc.String("echo username_field"); got != "echo username_field" {
		t.Errorf("a name after a secret name was learned as a secret value: %s", got)
	}
}
