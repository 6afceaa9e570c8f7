package redact

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// TestTextPairsMaskedByName: a plain-text body (text/plain, or no
// Content-Type) masks the value after a secret name and "=" or ":", in
// the forms logs, .env files, YAML and pasted headers use, and learns it,
// so that an echo elsewhere is scrubbed. Before, such a value was masked
// only when it had been learned somewhere else. Prose that names a secret
// without a separator after it is kept byte for byte.
func TestTextPairsMaskedByName(t *testing.T) {
	for _, tc := range []struct {
		reason, contentType, body string
		secrets                   []string
		want                      string // the masked body, when given
	}{
		{"key=value", "text/plain", "token=Zk61eqsecret\n",
			[]string{"Zk61eqsecret"}, "token=[REDACTED]\n"},
		{"key: value", "text/plain; charset=utf-8", "api_key: Zk62colonsecret",
			[]string{"Zk62colonsecret"}, "api_key: [REDACTED]"},
		{"a pasted header, the scheme and its credential", "text/plain",
			"GET /orders\nAuthorization: Bearer Zk63bearer\nAccept: */*\n",
			[]string{"Zk63bearer"}, "GET /orders\nAuthorization: [REDACTED]\nAccept: */*\n"},
		{"no Content-Type", "", "Authorization: Basic Zk64basic\r\nX-Request-Id: 42\r\n",
			[]string{"Zk64basic"}, "Authorization: [REDACTED]\r\nX-Request-Id: 42\r\n"},
		{"logfmt: the next pair is kept", "text/plain", "level=info access_token=Zk65logfmt user=bob msg=ok",
			[]string{"Zk65logfmt"}, "level=info access_token=[REDACTED] user=bob msg=ok"},
		{"an .env file, a value with spaces", "text/plain", "export DB_PASSWORD=Zk66 env secret\nPORT=8080\n",
			[]string{"Zk66 env secret"}, "export DB_PASSWORD=[REDACTED]\nPORT=8080\n"},
		{"quoted names and values keep their quotes", "text/plain", `"password": "Zk67quoted", 'client_secret' = 'Zk68single'`,
			[]string{"Zk67quoted", "Zk68single"}, `"password": "[REDACTED]", 'client_secret' = '[REDACTED]'`},
		{"a cookie-like value ends at ;", "text/plain", "session_token=Zk69cookie; Path=/; HttpOnly",
			[]string{"Zk69cookie"}, "session_token=[REDACTED]; Path=/; HttpOnly"},
		{"a query-like value ends at &", "text/plain", "callback with pwd=Zk70amp&page=2",
			[]string{"Zk70amp"}, "callback with pwd=[REDACTED]&page=2"},
		{"YAML", "application/yaml", "auth:\n  token: Zk71yaml\n  user: ada\n",
			[]string{"Zk71yaml"}, "auth:\n  token: [REDACTED]\n  user: ada\n"},
		{"prose stays", "text/plain", "the token is valid; your password must change. Token expired at 12:30, key rotation: done",
			nil, "the token is valid; your password must change. Token expired at 12:30, key rotation: done"},
		{"a URL's scheme, == and := are no separators", "text/plain", "auth://host/x token == other session:=x",
			nil, "auth://host/x token == other session:=x"},
		{"an empty value", "text/plain", "token:\npassword=\n", nil, "token:\npassword=\n"},
		{"URL credentials", "text/plain", "cloned https://ada:Zk75userinfo@git.example/repo.git",
			[]string{"Zk75userinfo"}, "cloned https://[REDACTED]@git.example/repo.git"},
	} {
		r, sc := build(t)
		header := http.Header{}
		if tc.contentType != "" {
			header.Set("Content-Type", tc.contentType)
		}
		out, _, err := r.BodyOf(header, []byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if tc.want != "" && string(out) != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.reason, out, tc.want)
		}
		for _, s := range tc.secrets {
			if strings.Contains(string(out), s) {
				t.Errorf("%s: %q shown: %q", tc.reason, s, out)
			}
			if echo := sc.String("the shadow echoed " + s); strings.Contains(echo, s) {
				t.Errorf("%s: %q was not learned: %q", tc.reason, s, echo)
			}
		}
	}
}

// TestTextDifferenceLineMaskedByName: a text body's difference shows a
// line of it; the line masks the same values as the whole body.
func TestTextDifferenceLineMaskedByName(t *testing.T) {
	r, _ := build(t)
	for line, want := range map[string]string{
		"Authorization: Bearer Zk72line":   "Authorization: [REDACTED]",
		"level=warn api_key=Zk73line id=4": "level=warn api_key=[REDACTED] id=4",
		`var token = "Zk74script";`:        `var token = "[REDACTED]";`,
		"the token is valid":               "the token is valid",
	} {
		if got := r.Value("body", line); got != want {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}

// TestTuplePairsMaskedByName: a header list written as tuples
// ([["Authorization","Bearer ..."]]) masks the second element of each
// tuple whose first names a secret, and learns it; other tuples, and a
// lone array of names, are kept. A difference at a tuple's second element
// ($.headers[0][1]) is learned from the body, as $.env[0].value is.
func TestTuplePairsMaskedByName(t *testing.T) {
	r, sc := build(t)
	body := `{"headers":[["Authorization","Bearer Zk81tuple"],["Accept","*/*"],["X-Api-Key",["Zk82nested"]]],"fields":["password","email-address"],"pairs":[["token",12345678901]]}`
	out, _, err := r.BodyOf(http.Header{"Content-Type": {"application/json"}}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Zk81tuple", "Zk82nested", "12345678901"} {
		if strings.Contains(string(out), s) {
			t.Errorf("%q shown: %s", s, out)
		}
		if echo := sc.String("echo " + s); strings.Contains(echo, s) {
			t.Errorf("%q not learned: %q", s, echo)
		}
	}
	for _, keep := range []string{`["Authorization","[REDACTED]"]`, `["Accept","*/*"]`, `"fields":["password","email-address"]`} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("want %s in %s", keep, out)
		}
	}

	// A difference at a tuple's value: its path does not say the tuple is
	// a pair; the body does.
	r, sc = build(t)
	prod := `{"headers":[["Accept","*/*"],["Authorization","Bearer Zk83prod"]]}`
	shadow := `{"headers":[["Accept","*/*"],["Authorization","Bearer Zk84shadow"]]}`
	pair := &framework.Pair{Prod: framework.Response{Status: 200, Body: []byte(prod)}, Shadow: framework.Response{Status: 200, Body: []byte(shadow)}}
	diffs := []framework.Diff{
		{Path: "$.headers[1][1]", Prod: `"Bearer Zk83prod"`, Shadow: `"Bearer Zk84shadow"`},
		{Path: "$.headers[0][1]", Prod: `"Zk85notsecret"`, Shadow: `"x"`}, // Accept's: not a secret
	}
	r.LearnDiffs(pair, diffs)
	if got := sc.String("Zk83prod Zk84shadow Zk85notsecret"); got != "[REDACTED] [REDACTED] Zk85notsecret" {
		t.Errorf("after LearnDiffs: %q", got)
	}
	// The whole tuple shown as a difference is masked by its own shape.
	if got := r.Value("$.headers[1]", `["Authorization","Bearer Zk86whole"]`); strings.Contains(got, "Zk86whole") {
		t.Errorf("a tuple shown whole: %q", got)
	}
}

// TestAdversarialBodiesStayLinear: the rules that read bodies by name
// (text, tuples, pairs, scripts, forms) take time linear in the body's
// size on hostile input: 256 KiB of a pattern take under half a second,
// or at most 32 times what 32 KiB do (eight times the size; a quadratic
// rule takes 64 times, and seconds).
func TestAdversarialBodiesStayLinear(t *testing.T) {
	r, _ := build(t)
	r.Header(http.Header{"Authorization": {"Bearer " + secret}}) // a known value: escaped runs are decoded and looked up
	repeat := func(unit string) func(n int) string {
		return func(n int) string { return strings.Repeat(unit, n/len(unit)) }
	}
	for _, tc := range []struct {
		reason, contentType string
		body                func(n int) string
	}{
		{"text: many short values on one line", "text/plain", repeat("token=a&")},
		{"text: a value then white space without end", "text/plain", func(n int) string { return "token=a" + strings.Repeat(" ", n) + "x" }},
		{"text: white space between names", "text/plain", repeat("token=a b ")},
		{"text: separators without names", "text/plain", repeat("a:")},
		{"text: unclosed quotes", "text/plain", repeat(`token="a `)},
		{"text: long names", "text/plain", func(n int) string { return strings.Repeat("tokentoken", n/10) + "=x" }},
		{"text: names without separators", "text/plain", repeat("token ")},
		{"text: URLs and queries", "text/plain", repeat("http://a:b@c/?token=a&")},
		{"tuples", "application/json", func(n int) string {
			return "[" + strings.TrimSuffix(repeat(`["token","a"],`)(n), ",") + "]"
		}},
		{"pairs", "application/json", func(n int) string {
			return "[" + strings.TrimSuffix(repeat(`{"name":"token","value":"a"},`)(n), ",") + "]"
		}},
		{"script", "text/javascript", repeat(`token = "a" + `)},
		{"csv: many records", "text/csv", func(n int) string { return "user,password\n" + repeat("ada,a\n")(n) }},
		{"csv: an unclosed quote", "text/csv", func(n int) string { return "token,b\n\"" + repeat(`a,"" `)(n) }},
		{"csv: an unclosed quote in the header", "text/csv", func(n int) string { return "\"token," + repeat(`a,"" `)(n) + "\nb,c\n" }},
		{"csv: an unclosed quote in a long header", "text/csv", func(n int) string { return "token,\"" + repeat("a,")(n) + "\nb,c\n" }},
		{"csv as text: many fields, then not a table", "text/plain", func(n int) string { return "token" + repeat(",a")(n) + "\nx" }},
		{"html: many credential-shaped texts and attributes", "text/html", repeat(`<p t="Bearer abcdefghij0123456789">Bearer abcdefghij0123456789</p>`)},
		{"html: elements named secret", "text/html", repeat(`<password>a</password>`)},
		{"xml: many credential-shaped texts and attributes", "application/xml", func(n int) string {
			return "<r>" + repeat(`<a t="Bearer abcdefghij0123456789">Bearer abcdefghij0123456789</a>`)(n) + "</r>"
		}},
		{"text: many bearer tokens", "text/plain", repeat("Bearer abcdefghij0123456789X ")},
		{"json: bearer tokens inside strings", "application/json", func(n int) string {
			return `{"a":[` + repeat(`"x Bearer abcdefghij0123456789X b",`)(n) + `"z"]}`
		}},
		{"text: scheme starts without tokens", "text/plain", repeat("bbbasic bearer eyJ ")},
		{"text: many JWT-shaped runs", "text/plain", repeat("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc ")},
		{"text: one long run after a scheme", "text/plain", func(n int) string { return "Basic " + strings.Repeat("QUJD", n/4) }},
		{"text: percent-escaped runs", "text/plain", repeat("%5A%6B0123456789sec ")},
		{"form: one long percent-escaped value", "application/x-www-form-urlencoded", func(n int) string { return "a=" + repeat("%5A%6B0123456789se")(n) }},
		{"a long tuple", "application/json", func(n int) string { return `[["token",` + repeat(`"a",`)(n) + `"a"]]` }},
		{"form-like text", "", repeat("p[0][name]=token&p[0][value]=a&")},
	} {
		took := func(n, rounds int) time.Duration {
			body := []byte(tc.body(n))
			best := time.Duration(1 << 62)
			for range rounds { // the best of a few: a loaded machine only adds
				runtime.GC()
				start := time.Now()
				header := http.Header{}
				if tc.contentType != "" {
					header.Set("Content-Type", tc.contentType)
				}
				if _, _, err := r.BodyOf(header, body); err != nil {
					t.Fatalf("%s: %v", tc.reason, err)
				}
				best = min(best, time.Since(start))
			}
			return best
		}
		small, large := took(32<<10, 5), took(256<<10, 3)
		// Below half a second for 256 KiB, nothing is quadratic enough to
		// matter, whatever the load (the quadratic rules this catches took
		// seconds).
		if ratio := float64(large) / float64(max(small, time.Millisecond)); large > time.Second/2 && ratio > 32 {
			t.Errorf("%s: 32 KiB in %v, 256 KiB in %v (%.0f times): not linear", tc.reason, small, large, ratio)
		} else {
			t.Logf("%s: 32 KiB in %v, 256 KiB in %v", tc.reason, small, large)
		}
	}
}

// TestBinaryWithoutContentTypeIsLeftAlone: bytes without a Content-Type
// that are not UTF-8 are data (an image, a protobuf), not text: the text
// rule does not rewrite them, even where they happen to spell token=.
func TestBinaryWithoutContentTypeIsLeftAlone(t *testing.T) {
	r, _ := build(t)
	body := []byte("\x89PNG\r\n\x1a\n\x00\x00 token=\xff\xfe\x00\x01rest")
	out, _, err := r.BodyOf(http.Header{}, body)
	if err != nil || string(out) != string(body) {
		t.Errorf("binary data rewritten: %q, %v", out, err)
	}
}
