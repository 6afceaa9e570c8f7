package redact

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/textproto"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

const secret = "Zk0123456789secret"

func build(t testing.TB, paths ...string) (*Redactor, *scrub.Scrubber) {
	t.Helper()
	sc := scrub.New()
	r, err := Build(Options{Paths: paths, Scrubber: sc})
	if err != nil {
		t.Fatal(err)
	}
	return r, sc
}

// TestKeyedSetPath: a report.redact path inside a keyed unordered set
// masks the element's field in a difference and in a whole body.
func TestKeyedSetPath(t *testing.T) {
	r, _ := build(t, "$.users[id=7].pin")
	if got := r.Value("$.users[id=7].pin", `"`+secret+`"`); got != Mask {
		t.Errorf("a difference at the keyed path: %q", got)
	}
	if got := r.Value("$.users[id=7]", `{"id":7,"pin":"`+secret+`"}`); strings.Contains(got, secret) {
		t.Errorf("a difference at the keyed element: %q", got)
	}
	body := r.Body([]byte(`{"users":[{"id":8,"pin":"1234"},{"id":7,"pin":"` + secret + `"}]}`))
	if strings.Contains(string(body), secret) || !strings.Contains(string(body), "1234") {
		t.Errorf("a body: only element 7's pin is masked: %s", body)
	}
}

// TestSecretNames: names matched by words, percent-decoded, and secrets
// inside other headers' URLs.
func TestSecretNames(t *testing.T) {
	r, sc := build(t)
	h := r.Header(http.Header{
		"X-Authorization": {secret + "1"}, "Api_key": {secret + "2"},
		"Referer":  {"https://a.example/list?page=2&token=" + secret + "3"},
		"Location": {"https://cb.example/?access_token=" + secret + "4&state=x"},
		"Link":     {"<https://u:" + secret + "5@h.example/>; rel=next"},
	})
	for name, values := range h {
		if strings.Contains(values[0], secret) {
			t.Errorf("%s: %q", name, values[0])
		}
	}
	if got := h.Get("Referer"); got != "https://a.example/list?page=2&token="+Mask {
		t.Errorf("Referer keeps its harmless parts: %q", got)
	}
	u := r.URL("/x?pwd=" + secret + "6&jwt=" + secret + "7&tok%65n=" + secret + "8&page=2")
	if strings.Contains(u, secret) || !strings.Contains(u, "page=2") {
		t.Errorf("URL: %q", u)
	}
	// Every value masked is known by value afterwards.
	for i := 1; i <= 8; i++ {
		v := secret + string(rune('0'+i))
		if got := sc.String("echo " + v); strings.Contains(got, v) {
			t.Errorf("value %d not registered: %q", i, got)
		}
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestBodyOfDecodesOrWithholds: bodies are decoded before redaction, and a
// JSON or form body that cannot be parsed is withheld, never returned.
func TestBodyOfDecodesOrWithholds(t *testing.T) {
	r, _ := build(t)
	jsonType := http.Header{"Content-Type": {"application/json"}}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	out, decoded, err := r.BodyOf(http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}}, gz([]byte(`{"token":"`+secret+`","n":1}`)))
	if err != nil || decoded != "gzip" || strings.Contains(string(out), secret) || !strings.Contains(string(out), `"n":1`) {
		t.Errorf("gzip body: %s, %q, %v", out, decoded, err)
	}
	out, _, err = r.BodyOf(form, []byte("user=ada&password="+secret))
	if err != nil || string(out) != "user=ada&password="+Mask {
		t.Errorf("form body: %s, %v", out, err)
	}
	out, _, err = r.BodyOf(http.Header{}, []byte("user=ada&pwd="+secret))
	if err != nil || string(out) != "user=ada&pwd="+Mask {
		t.Errorf("a form without Content-Type: %s, %v", out, err)
	}
	for _, tc := range []struct {
		header http.Header
		body   string
		reason string
	}{
		{jsonType, "\ufeff{\"password\":\"" + secret + "\"}", "a BOM"},
		{jsonType, `{"a":1}{"secret":"` + secret + `"}`, "concatenated documents"},
		{http.Header{}, strings.Repeat("[", 10001) + `"` + secret + `"` + strings.Repeat("]", 10001), "nested deeper than the parser's limit"},
		{form, "password=" + secret + "&x=%zz", "a form with a bad escape"},
		{http.Header{"Content-Encoding": {"gzip"}}, "not gzip " + secret, "a body that does not decode"},
	} {
		out, _, err := r.BodyOf(tc.header, []byte(tc.body))
		if !errors.Is(err, ErrWithheld) || out != nil {
			t.Errorf("%s: got %q, %v; want it withheld", tc.reason, out, err)
		}
	}
	// A withheld body's secrets are still learned: a shadow that echoes
	// the request body must not print them.
	for _, tc := range []struct{ body, reason string }{
		{"\ufeff{\"password\":\"" + secret + "B\"}", "a BOM"},
		{`{"a":1}{"secret":"` + secret + `C"}`, "concatenated documents"},
	} {
		r, sc := build(t)
		r.BodyOf(jsonType, []byte(tc.body))
		echo := "echo " + tc.body
		if got := sc.String(echo); strings.Contains(got, secret) {
			t.Errorf("%s: the withheld body's secret was not learned: %q", tc.reason, got)
		}
	}
	if got := r.Value("body", "\ufeff{\"password\":\""+secret+"\"}"); strings.Contains(got, secret) || !strings.HasPrefix(got, "(withheld") {
		t.Errorf("a text difference holding unparseable JSON: %q", got)
	}
}

// TestLearnKnownValues: a request's credentials (Basic decoded) are known
// by value before any answer is written.
func TestLearnKnownValues(t *testing.T) {
	r, sc := build(t)
	basic := base64.StdEncoding.EncodeToString([]byte("ada:" + secret))
	r.Learn(&framework.Request{URL: "/a?api_key=" + secret + "Q", Header: http.Header{"Authorization": {"Basic " + basic}, "Cookie": {"sid=" + secret + "C; theme=dark"}}})
	for _, echo := range []string{secret, "ada:" + secret, secret + "Q", secret + "C", basic} {
		if got := sc.String("shadow said " + echo); strings.Contains(got, secret) {
			t.Errorf("%q survives: %q", echo, got)
		}
	}
}

// TestLearnAnswers: the secrets of both answers' headers (Set-Cookie,
// a header named like a secret, a token in a Location or Referer URL,
// URL credentials) are known by value, every time a pair is learned, and
// learning writes nothing into the headers.
func TestLearnAnswers(t *testing.T) {
	r, sc := build(t)
	header := http.Header{
		"Set-Cookie":    {"sid=" + secret + "S; Path=/; HttpOnly"},
		"X-Session-Id":  {secret + "X"},
		"Location":      {"https://shop.example/cb?access_token=" + secret + "L&page=2"},
		"Referer":       {"https://ada:" + secret + "R@shop.example/"},
		"Content-Type":  {"application/json"},
		"X-Request-Id":  {"req-0001"},
		"Cache-Control": {"no-store"},
	}
	want := header.Clone()
	for round := range 2 { // the second time, names are decided from the cache
		r.Learn(nil, &framework.Response{Header: header}, &framework.Response{Header: header})
		for _, echo := range []string{secret + "S", secret + "X", secret + "L", secret + "R"} {
			if got := sc.String("shadow said " + echo); strings.Contains(got, secret) {
				t.Errorf("round %d: %q survives: %q", round, echo, got)
			}
		}
	}
	if !reflect.DeepEqual(header, want) {
		t.Errorf("Learn changed the headers: %v", header)
	}
	if got := sc.String("req-0001 no-store application/json"); got != "req-0001 no-store application/json" {
		t.Errorf("ordinary header values were learned as secrets: %q", got)
	}
}

// FuzzRedact checks the property the outputs rely on: a secret placed under
// a secret name in a header, a query, a form, a JSON, XML, HTML or text body
// (as a member, an element, an attribute, a name/value pair or tuple, a
// script's assignment, a line's name: value) never comes out
// of the redactor, nor out of the scrubber afterwards, in any position.
func FuzzRedact(f *testing.F) {
	f.Add(secret, "token", "prefix ", 0)
	f.Add("p@ss w0rd!", "X-Api-Key", "", 1)
	f.Add("aGVsbG8gd29ybGQ=", "client_secret", "x", 2)
	f.Add("s3cr3tvalue", "accessToken", "echo:", 3)
	f.Add("s3cr<&>value", "wsse.Password", "", 4)
	f.Add("attr'\"value", "apiKey", "", 5)
	f.Add("Bearer s3cr3t", "Authorization", "", 7)
	f.Add("sid=s3cr3tcookie", "Cookie", "", 8)
	f.Add("s3cr<&>value", "X-Api-Key", "", 9)
	f.Add("p@ss=w0rd&x", "client_secret", "", 10)
	f.Add(`quote"and\slash`, "csrfToken", "", 11)
	f.Add("line secret 123", "apiKey", "", 12)
	f.Add("hunter2hunter2", "DB_PASSWORD", "", 13)
	f.Add("Bearer s3cr3t", "Authorization", "", 14)
	f.Add("s3cr3t-value", "api_key", "", 15)
	f.Add("Bearer s3cr3t", "Authorization", "", 16)
	f.Add("hunter2,\"x\"", "password", "", 17)
	f.Add("a=s3cr3tcookie", "Cookie", "", 18)
	f.Add("Bearer s3cr3t", "Authorization", "", 19)
	f.Add("qW01aBcD-eFgH9", "X-Api-Key", "", 20)
	f.Fuzz(func(t *testing.T, value, name, around string, where int) {
		if len(value) < scrub.MinLen || strings.ContainsAny(value, "[]") || !utf8.ValidString(value) || !Default().names.Secret(name) {
			return
		}
		if strings.TrimSpace(value) == "" {
			return // white space only is formatting to the XML and HTML maskers, not a secret
		}
		r, sc := build(t)
		var outputs, extra []string // extra: forms of the value that must not come out either
		where = (where%positions + positions) % positions
		if where >= 7 && where <= 10 || where == 13 || where >= 16 && where <= 19 {
			// At most as long as a decoder reads it: a control character
			// XML cannot carry is a U+FFFD of 3 bytes.
			decoded := strings.Map(func(r rune) rune {
				if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
					return utf8.RuneError
				}
				return r
			}, name)
			if len(strings.TrimSpace(decoded)) > maxLabel {
				return // a label that long is not read as a name (see secretLabel)
			}
			if where != 10 && !utf8.ValidString(name) {
				return // JSON and XML carry it with U+FFFD for each bad byte: maybe a label too long
			}
		}
		switch where {
		case 0:
			outputs = append(outputs, strings.Join(r.Header(http.Header{name: {value}})[name], ""))
		case 1:
			outputs = append(outputs, r.URL("/p?"+urlEscape(name)+"="+urlEscape(value)))
		case 2:
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(urlEscape(name)+"="+urlEscape(value)))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 3:
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(`{"`+jsonEscape(name)+`":"`+jsonEscape(value)+`"}`))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 4, 5:
			if !xmlName.MatchString(name) || !xmlCarries(value) {
				// not a name XML allows, or a value XML cannot carry
				return
			}
			var escaped strings.Builder
			xml.EscapeText(&escaped, []byte(value))
			doc := `<r><` + name + `>` + escaped.String() + `</` + name + `></r>`
			if where == 5 {
				doc = `<r ` + name + `="` + escaped.String() + `"/>`
			}
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(doc))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 6: // learned from an answer's header, as every pair's are
			r.Learn(nil, &framework.Response{Header: http.Header{name: {value}}})
		case 7: // the value of a JSON name/value pair
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(`[{"name":"`+jsonEscape(name)+`","value":"`+jsonEscape(value)+`"}]`))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 8, 9: // the value of an XML key/value pair, the key after the value in 9
			if !xmlCarries(value) || !xmlCarries(name) {
				return // XML carries a control character as U+FFFD: maybe a label too long
			}
			var escName, escValue strings.Builder
			xml.EscapeText(&escName, []byte(name))
			xml.EscapeText(&escValue, []byte(value))
			key, val := `<key>`+escName.String()+`</key>`, `<value>`+escValue.String()+`</value>`
			doc := `<r><entry>` + key + val + `</entry></r>`
			if where == 9 {
				doc = `<r><entry>` + val + `<n/>` + key + `</entry></r>`
			}
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/xml"}}, []byte(doc))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 10: // a form's indexed pair
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("p[0][name]="+urlEscape(name)+"&p[0][value]="+urlEscape(value)))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 13: // a difference at a pair's value, its label in the body
			rendered := `"` + jsonEscape(value) + `"`
			body := `{"env":[{"name":"` + jsonEscape(name) + `","value":` + rendered + `}]}`
			pair := &framework.Pair{Prod: framework.Response{Status: 200, Body: []byte(body)}}
			diff := framework.Diff{Path: "$.env[0].value", Prod: rendered}
			r.LearnDiffs(pair, []framework.Diff{diff})
			outputs = append(outputs, r.Value(diff.Path, diff.Prod))
		case 14, 15: // a line of plain text: name: value, name=value
			if !textName.MatchString(name) || len(name) > maxTextName || strings.ContainsAny(value, "\r\n") ||
				strings.TrimSpace(value) != value || isQuote(value[0]) || value == Mask {
				return // not a name the text rule reads, or a value a line cannot carry as one
			}
			line := name + ": " + value + "\n"
			if where == 15 {
				if strings.ContainsAny(value, " \t&;") {
					return // a logfmt, query or cookie separator ends the value
				}
				line = name + "=" + value + "\n"
			}
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/plain"}}, []byte(line))
			if err == nil {
				outputs = append(outputs, string(out))
			}
			outputs = append(outputs, r.Value("body", line))
		case 16: // a tuple of a header list
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(`{"h":[["`+jsonEscape(name)+`","`+jsonEscape(value)+`"]]}`))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 17: // a CSV column
			if len(strings.TrimSpace(name)) > maxLabel || strings.TrimSpace(value) == "" {
				return
			}
			quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/csv"}}, []byte("id,"+quote(name)+"\n1,"+quote(value)+"\n"))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 18: // a tuple of a header with several values
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(`{"h":[["`+jsonEscape(name)+`","x","`+jsonEscape(value)+`"]]}`))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 19: // a lone tuple
			if listedName(value) {
				return // a list of names, kept by design
			}
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(`["`+jsonEscape(name)+`","`+jsonEscape(value)+`"]`))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		case 20: // percent-encoded beyond url.QueryEscape, and in a header's name, once learned
			r.Header(http.Header{name: {value}})
			escaped := percentAll(value)
			extra = append(extra, escaped)
			outputs = append(outputs, r.URL("/cb/"+escaped+"?n="+escaped), r.Text("see "+escaped+" there"))
			if out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("n="+escaped)); err == nil {
				outputs = append(outputs, string(out))
			}
			if canonical := textproto.CanonicalMIMEHeaderKey(value); canonical != value && len(value) <= scrub.MaxLen {
				extra = append(extra, canonical)
				outputs = append(outputs, "header:X-Echo-"+canonical)
			}
		case 11, 12: // a script's assignment, in a page and as a line of a difference
			if !jsIdent.MatchString(name) {
				return
			}
			line := `var ` + name + ` = "` + jsonEscape(value) + `";`
			if where == 12 {
				outputs = append(outputs, r.Value("body", line))
				break
			}
			out, _, err := r.BodyOf(http.Header{"Content-Type": {"text/html"}}, []byte(`<html><script>`+line+`</script></html>`))
			if err == nil {
				outputs = append(outputs, string(out))
			}
		}
		outputs = append(outputs, around+value+around) // an echo elsewhere
		var buf bytes.Buffer
		w := sc.Writer(&buf)
		for _, o := range outputs {
			w.Write([]byte(o))
		}
		w.Flush()
		for _, form := range append(scrub.Forms(value), extra...) {
			if len(form) >= scrub.MinLen && strings.Contains(buf.String(), form) {
				t.Fatalf("%q under %q (position %d) leaks as %q: %q", value, name, where, form, buf.String())
			}
		}
	})
}

var xmlName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// positions counts FuzzRedact's positions.
const positions = 21

// textName is a name the text rule reads.
var textName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// jsIdent is a JavaScript identifier, as FuzzRedact writes names in scripts.
var jsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// xmlCarries reports whether XML can carry value as text.
func xmlCarries(value string) bool {
	return !strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r == 0xFFFE || r == 0xFFFF })
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D", "+", "%2B", " ", "+", "#", "%23").Replace(s)
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestEscapedEchoOfAKnownSecretIsMasked: a hostile shadow echoes a token
// it was sent with JSON escapes ("\u0041" for "A"; PHP writes "/" as "\/"): the bytes hold
// no form the scrubber knows, but any JSON reader of the output decodes
// the secret. What decodes to a known secret, in a value or a member
// name, is masked, directly and in a document carried as a string.
func TestEscapedEchoOfAKnownSecretIsMasked(t *testing.T) {
	r, sc := build(t)
	r.Header(http.Header{"Authorization": {"Bearer " + secret}})
	// A base64 token echoed by PHP's json_encode, which writes "/" as "\/".
	const slashed = "Ab/cd+ef0123456789=="
	r.Header(http.Header{"X-Api-Key": {slashed}})
	escaped := ""
	for _, c := range secret {
		escaped += fmt.Sprintf(`\u%04x`, c)
	}
	partly := strings.Replace(secret, "s", `\u0073`, 1)
	inner, _ := json.Marshal(`{"echo":"` + escaped + `"}`)
	for _, body := range []string{
		`{"echo":"` + escaped + `"}`,
		`{"echo":"` + partly + `","url":"https:\/\/a.example\/"}`,
		`{"` + escaped + `":1}`,
		`[["Authorization","Bearer ` + partly + `"]]`,
		`{"carried":` + string(inner) + `}`,
		`{"echoed":"` + strings.ReplaceAll(slashed, "/", `\/`) + `"}`,
	} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		out = sc.Bytes(out)
		if decoded := decodeAll(t, out); strings.Contains(decoded, secret) || strings.Contains(decoded, slashed) {
			t.Errorf("%s\nshown as %s, which decodes to the secret: %s", body, out, decoded)
		}
	}
	// A body without escapes is kept as written: the scrubber masks it.
	plain := `{"b":1, "a":"` + secret + `"}`
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(plain)); string(out) != plain {
		t.Errorf("a body without escapes was rewritten: %s", out)
	}
}

// decodeAll returns every member name and string of a JSON document, and
// of the documents carried in its strings, decoded, one per line.
func decodeAll(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
			var inner any
			if json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner)
			}
		case map[string]any:
			for k, c := range x {
				b.WriteString(k + "\n")
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return b.String()
}

// TestCharacterReferenceEchoOfAKnownSecretIsMasked: XML and HTML answers
// echoing a known token with character references (&#90; for "Z") in
// text or an attribute showed it to any reader of the markup (redteam6).
func TestCharacterReferenceEchoOfAKnownSecretIsMasked(t *testing.T) {
	r, sc := build(t)
	r.Header(http.Header{"Authorization": {"Bearer " + secret}})
	refs := "&#90;&#x6b;" + secret[2:]
	for _, c := range []struct{ media, body string }{
		{"application/xml", `<a><b>` + refs + `</b></a>`},
		{"application/xml", `<a><b note="` + refs + `">x</b></a>`},
		{"text/html", `<p>echo: ` + refs + `</p>`},
		{"text/html", `<p title="` + refs + `">x</p>`},
	} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {c.media}}, []byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if shown := string(sc.Bytes(out)); strings.Contains(html.UnescapeString(shown), secret) {
			t.Errorf("%s %s\nshown as %s, which a reader decodes to the secret", c.media, c.body, shown)
		}
	}
	plain := `<a><b>&amp; ` + secret + `</b></a>` // a literal secret is left to the scrubber, the markup kept
	if out, _, _ := r.BodyOf(http.Header{"Content-Type": {"application/xml"}}, []byte(plain)); string(sc.Bytes(out)) != `<a><b>&amp; `+Mask+`</b></a>` {
		t.Errorf("%s shown as %s", plain, sc.Bytes(out))
	}
}

// TestCredentialShapedHeaderValuesMasked: a bearer token or a JWT under a
// header name without a secret word (X-Upstream: Bearer ..., AWS ALB's
// X-Amzn-Oidc-Data) was printed and recorded as sent (redteam6). A value
// shaped like a credential is masked and learned; prose is kept.
func TestCredentialShapedHeaderValuesMasked(t *testing.T) {
	r, sc := build(t)
	jwt := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + secret
	h := r.Header(http.Header{
		"X-Upstream":       {"Bearer " + secret + "1"},
		"X-Forwarded-Cred": {"basic " + secret + "2=="},
		"X-Amzn-Oidc-Data": {jwt},
		"X-Signed":         {"AWS4-HMAC-SHA256 Credential=AKIA/20261130/us-east-1/s3/aws4_request, Signature=" + secret + "3"},
		"X-Title":          {"Token of appreciation"},
		"X-Mode":           {"Basic"},
	})
	for _, name := range []string{"X-Upstream", "X-Forwarded-Cred", "X-Amzn-Oidc-Data", "X-Signed"} {
		if got := h.Get(name); got != Mask {
			t.Errorf("%s: %q, want it masked", name, got)
		}
	}
	if h.Get("X-Title") != "Token of appreciation" || h.Get("X-Mode") != "Basic" {
		t.Errorf("prose was masked: %v", h)
	}
	if echo := sc.String("echo " + secret + "1 " + jwt); strings.Contains(echo, secret) {
		t.Errorf("the values were not learned: %q", echo)
	}
}

// TestJSONTextSequencesAreWithheld: application/json-seq (RFC 7464,
// records after 0x1E) was neither read as JSON nor as text, and shown as
// written, {"password":...} included (redteam6). Like JSON Lines, it is
// several documents: withheld.
func TestJSONTextSequencesAreWithheld(t *testing.T) {
	r, _ := build(t)
	body := "\x1e{\"a\":1}\n\x1e{\"password\":\"" + secret + "\"}\n"
	for _, ct := range []string{"application/json-seq", ""} {
		out, _, err := r.BodyOf(http.Header{"Content-Type": {ct}}, []byte(body))
		if !errors.Is(err, ErrWithheld) || bytes.Contains(out, []byte(secret)) {
			t.Errorf("Content-Type %q: %q, %v; want it withheld", ct, out, err)
		}
	}
}

// TestCredentialShapedJSONStringsMasked: a bearer token or a JWT under an
// innocent JSON member name ({"a":"Bearer ..."}) was shown in every output
// unless learned elsewhere (redteam6). A whole string value shaped like a
// credential, by a strict shape, is masked and learned, in a body and in a
// difference; prose, short tokens and non-credentials are kept.
func TestCredentialShapedJSONStringsMasked(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + secret
	basic := base64.StdEncoding.EncodeToString([]byte("bob:" + secret))
	masked := []string{
		jwt,
		"Bearer " + secret + "abc",
		"bearer " + secret + "-._~+/==",
		"Basic " + basic,
	}
	kept := []string{
		"Basic membership",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("no colon here")), // not user:pass
		"Bearer of bad news",
		"Bearer abc123",                             // short
		"Bearer Internationalization",               // a word
		"Bearer " + secret + " and more",            // prose after it
		"eyJhbGciOiJIUzI1NiJ9",                      // one segment
		"eyJzdWIiOiIxIn0.eyJzdWIiOiIxIn0." + secret, // a header without alg
		"Token of appreciation",
		"eyJ is how a JWT starts. So. What",
	}
	for _, v := range masked {
		r, sc := build(t)
		doc, _ := json.Marshal(map[string]any{"a": v, "list": []any{v}, "keep": "hello"})
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, doc)
		if err != nil || strings.Contains(string(out), secret) || strings.Contains(string(out), basic) || !strings.Contains(string(out), "hello") {
			t.Errorf("%q in a body: %s, %v", v, out, err)
		}
		if echo := sc.String("echo " + v); strings.Contains(echo, secret) {
			t.Errorf("%q was not learned: %q", v, echo)
		}
		quoted, _ := json.Marshal(v)
		r, _ = build(t)
		if got := r.Value("$.a", string(quoted)); got != Mask {
			t.Errorf("%q in a difference: %q", v, got)
		}
	}
	// Inside prose, the token alone is masked where it stands (Text's
	// inline credentials); the prose is kept.
	r, _ := build(t)
	doc, _ := json.Marshal(map[string]any{"a": "the token is Bearer " + secret + "abc, sent"})
	if out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, doc); err != nil || string(out) != `{"a":"the token is Bearer [REDACTED], sent"}` {
		t.Errorf("a token inside prose: %s, %v", out, err)
	}
	for _, v := range kept {
		r, _ := build(t)
		doc, _ := json.Marshal(map[string]any{"a": v})
		out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, doc)
		if err != nil || string(out) != string(doc) {
			t.Errorf("%q in a body was masked: %s, %v", v, out, err)
		}
		quoted, _ := json.Marshal(v)
		if got := r.Value("$.a", string(quoted)); got != string(quoted) {
			t.Errorf("%q in a difference was masked: %q", v, got)
		}
	}
}
