package scrub

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestScrubFormsOfAValue(t *testing.T) {
	const secret = "s3cr3t/Value+=&<x>"
	s := New()
	s.Add(secret, "short")
	for _, tc := range []struct{ text, reason string }{
		{"token " + secret + " end", "raw"},
		{"q=" + url.QueryEscape(secret), "query-escaped"},
		{"/p/" + url.PathEscape(secret), "path-escaped"},
		{`{"v":"s3cr3t/Value+=\u0026\u003cx\u003e"}`, "JSON-escaped (Go escapes <, > and &)"},
		{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+secret)), "inside base64 at an offset"},
		{"x" + base64.URLEncoding.EncodeToString([]byte("ab"+secret+"cd")), "URL-safe base64, another offset"},
		{"<td>" + html.EscapeString(secret), "HTML-escaped"},
		{"<td>s3cr3t/Value&#43;=&amp;&lt;x&gt;</td>", "escaped by html/template, + included"},
		{"q=s3cr3t%2fValue%2b%3d%26%3cx%3e", "percent-encoded with lower-case hex"},
	} {
		out := s.String(tc.text)
		if !strings.Contains(out, Mask) {
			t.Errorf("%s: %q not scrubbed: %q", tc.reason, tc.text, out)
		}
		if decoded := decodeAll(out); strings.Contains(decoded, secret) {
			t.Errorf("%s: secret survives in %q", tc.reason, out)
		}
	}
	if got := s.String("cut for display: s3cr3t/Va…"); got != "cut for display: "+Mask+"…" {
		t.Errorf("the start of a secret cut for display survives: %q", got)
	}
	if got := s.String("a short one"); got != "a short one" {
		t.Errorf("a value under MinLen was scrubbed: %q", got)
	}
}

// decodeAll returns text with its percent-encoding undone and every
// base64-looking run decoded, appended, for leak checks.
func decodeAll(text string) string {
	all := text
	if u, err := url.QueryUnescape(text); err == nil {
		all += "\n" + u
	}
	for _, run := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+/-_=", r))
	}) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(strings.TrimRight(run, "=")); err == nil {
				all += "\n" + string(b)
			} else if b, err := enc.DecodeString(run); err == nil {
				all += "\n" + string(b)
			}
		}
	}
	return all
}

func TestWriterSecretSplitAcrossWrites(t *testing.T) {
	const secret = "tok-1234567890"
	s := New()
	s.Add(secret)
	var out bytes.Buffer
	w := s.Writer(&out)
	text := "before " + secret + " between " + secret[:5] + " after " + secret
	for i := 0; i < len(text); i++ {
		w.Write([]byte{text[i]})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "before " + Mask + " between tok-1 after " + Mask
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestWriterAddsValuesWhileWriting(t *testing.T) {
	s := New()
	var out bytes.Buffer
	w := s.Writer(&out)
	w.Write([]byte("line one\n"))
	s.Add("learned-later")
	w.Write([]byte("echo learned-later\n"))
	w.Flush()
	if strings.Contains(out.String(), "learned-later") {
		t.Errorf("a value added between writes leaked: %q", out.String())
	}
}

func TestTerminalEscapes(t *testing.T) {
	var out bytes.Buffer
	w := New().Terminal(&out)
	w.Write([]byte("\rprogress \x1b[32mok\x1b[0m\n"))
	w.Write([]byte("value \x1b]0;pwned\x07 \x1b[2J\rfake\u202eevil\x7f\u0085\x9b2J é\n"))
	w.Flush()
	want := "\rprogress \x1b[32mok\x1b[0m\n" + `value \u001b]0;pwned\u0007 \u001b[2J\u000dfake\u202eevil\u007f\u0085\x9b2J é` + "\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	if got := Line("a\nb\u2066c\xff"); got != `a\u000ab\u2066c\xff` {
		t.Errorf("Line: %q", got)
	}
}

func TestSnippet(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET /x?token=abcdef&page=2", `"GET /x?token=[REDACTED]&page=2"`},
		{"root:$y$j9T$ab12cd34ef56gh:19000", `"root:[REDACTED]:19000"`},
		{"\x1b[2J" + strings.Repeat("a", 40), `"\u001b[2J` + strings.Repeat("a", 28) + `"...`},
		// A token that the cut leaves shorter than a token looks is
		// recognised on the whole line, before the cut.
		{"AKIA7FK2MQ9XLP3ZVB8N wJalrXUtnFEMI/K7MDENG/bPx3RfiCYzz\n", `"[REDACTED] [REDACTED]\u000a"`},
		{"https://x-access-token:ghs_7fK2mQ9xLp3ZvB8nR4tY6wA1cD@github.com\n", `"https://x-access-token:[REDACTED]"...`},
		{"https://bot:hunterhunter@example.com/x", `"https://bot:[REDACTED]@example.c"...`},
	} {
		if got := Snippet([]byte(tc.in), nil); got != tc.want {
			t.Errorf("Snippet(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzScrub checks the property every output relies on: whatever the text
// around it and however it is cut into writes, a registered secret (and its
// encoded forms) never comes out of a Writer.
func FuzzScrub(f *testing.F) {
	f.Add("Bearer abcdef123", "x: Bearer abcdef123 and YWJjZGVmMTIz", uint8(3))
	f.Add("p@ss w0rd", "u=p%40ss+w0rd&v=p%40ss%20w0rd", uint8(1))
	f.Add("aaaaaa", "aaaaaaaaaaaaaaaa", uint8(5))
	f.Fuzz(func(t *testing.T, secret, text string, cut uint8) {
		if len(secret) < MinLen || len(secret) > 64 || strings.ContainsAny(secret, "[]") {
			return
		}
		s := New()
		s.Add(secret)
		text = strings.ReplaceAll(text, "SECRET", secret) + secret + text
		var out bytes.Buffer
		w := s.Writer(&out)
		step := int(cut%16) + 1
		for i := 0; i < len(text); i += step {
			w.Write([]byte(text[i:min(i+step, len(text))]))
		}
		w.Flush()
		for _, form := range Forms(secret) {
			if len(form) >= MinLen && strings.Contains(out.String(), form) {
				t.Fatalf("form %q of secret %q in output %q", form, secret, out.String())
			}
		}
	})
}

// TestScrubNestedForms: outputs nest encodings. The log stores a body that
// a service JSON-escaped as a JSON string (escaped twice), and the HTML
// report passes text through html/template, which also writes + as &#43;
// (a base64 token's + included). Each of these forms must be scrubbed.
func TestScrubNestedForms(t *testing.T) {
	const secret = "tok+9/Ab&c<d>Qz=Secret"
	s := New()
	s.Add(secret)
	jsonEscape := func(v string) string { q, _ := json.Marshal(v); return string(q[1 : len(q)-1]) }
	page := template.Must(template.New("").Parse(`<pre>{{.}}</pre>`))
	htmlTemplate := func(v string) string {
		var b strings.Builder
		page.Execute(&b, v)
		return b.String()
	}
	basic := base64.StdEncoding.EncodeToString([]byte("u:" + secret))
	for _, tc := range []struct{ text, reason string }{
		{htmlTemplate("Bearer " + secret), "html/template text (+ as &#43;)"},
		{htmlTemplate(`{"t":"` + jsonEscape(secret) + `"}`), "a JSON body shown by html/template"},
		{jsonEscape(`{"t":"` + jsonEscape(secret) + `"}`), "a JSON body stored as a JSON string in the log"},
		{htmlTemplate(jsonEscape(`{"t":"` + jsonEscape(secret) + `"}`)), "the log's JSON shown by html/template"},
		{htmlTemplate(url.PathEscape(secret)), "path-escaped in html/template"},
		{jsonEscape(html.EscapeString(secret)), "HTML-escaped by the service, JSON-escaped in the log"},
		{htmlTemplate("Basic " + basic), "base64 (with + or /) in html/template"},
	} {
		out := s.String(tc.text)
		if strings.Contains(out, "Qz=Secret") || strings.Contains(decodeAll(html.UnescapeString(out)), secret) {
			t.Errorf("%s: secret survives in %q", tc.reason, out)
		}
	}
}

// TestManyValuesWithOneStart: a recording with a fresh JWT per request
// registers MaxValues secrets that all start alike (the JWT header).
// Registering them and scrubbing output that is full of such starts must
// stay fast: a look-up walking every value of a common start took minutes.
func TestManyValuesWithOneStart(t *testing.T) {
	if testing.Short() {
		t.Skip("registers MaxValues values")
	}
	const header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	start := time.Now()
	s := New()
	var text strings.Builder
	for i := 0; i < MaxValues; i++ {
		jwt := fmt.Sprintf("%seyJzdWIiOi%d.sig+%x/%d", header, i, i*7919, i)
		s.AddSent(jwt) // a recording's requests
		if i%10 == 0 {
			fmt.Fprintf(&text, "seen %s and %s… cut\n", jwt, jwt[:len(header)+12])
		}
	}
	out := s.String(text.String())
	if elapsed := time.Since(start); elapsed > 40*time.Second {
		t.Errorf("registering %d values with one start and scrubbing took %v", MaxValues, elapsed)
	}
	if strings.Contains(out, "sig+") || strings.Contains(out, "sig&#43;") {
		t.Errorf("a value survived: %.200q", out)
	}
	if strings.Contains(out, header) {
		t.Errorf("a value cut for display survived: %.200q", out)
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:pw@h:1/base?api_key=k#f": "http://[REDACTED]@h:1/base?…",
		"http://u:p@ss@h/":                 "http://[REDACTED]@h/",
		"ftp://h/x":                        "ftp://h/x",
		"u:pw@localhost:8081":              "[REDACTED]@localhost:8081",
		"http://h/a\x1b[2J":                `http://h/a\u001b[2J`,
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAValueEchoedInAHeaderNameIsScrubbed: a token a shadow echoes in a
// header's name (x-echo-qW01…) is shown with its case changed, as Go
// canonicalises names (X-Echo-Qw01…) or HTTP/2 lowers them; the scrubber
// matched the value's own case only (redteam6).
func TestAValueEchoedInAHeaderNameIsScrubbed(t *testing.T) {
	s := New()
	s.Add("qW01aBcD-eFgH9")
	for _, text := range []string{"header:X-Echo-Qw01abcd-Efgh9", "x-echo-qw01abcd-efgh9: 1", "X-Echo-qW01aBcD-eFgH9"} {
		if got := s.String(text); strings.Contains(strings.ToLower(got), "qw01") {
			t.Errorf("%q scrubbed as %q", text, got)
		}
	}
}

// TestAnswersCannotCrowdOutWhatIsSent: the values learned from answers
// (a shadow setting a fresh cookie in every answer) filled all of
// MaxValues, so a user's token seen later was not learned, and the
// shadow's echo of it was not scrubbed (redteam6). Add stops at
// MaxValues - SentRoom; AddSent, for what requests carry, has the rest.
func TestAnswersCannotCrowdOutWhatIsSent(t *testing.T) {
	s := New()
	for i := range MaxValues + 1000 {
		s.Add(fmt.Sprintf("shadow-cookie-%06d", i))
	}
	if s.Len() != MaxValues-SentRoom || s.Dropped() != SentRoom+1000 {
		t.Errorf("answers hold %d values (%d dropped), want %d", s.Len(), s.Dropped(), MaxValues-SentRoom)
	}
	for i := range SentRoom {
		s.AddSent(fmt.Sprintf("user-token-%06d", i))
	}
	if got := s.String("echo user-token-004999"); got != "echo "+Mask {
		t.Errorf("a user's token after the answers' flood: %q", got)
	}
	s.AddSent("user-token-one-too-many")
	if s.Len() != MaxValues || s.String("user-token-one-too-many") != "user-token-one-too-many" {
		t.Errorf("%d values held; MaxValues bounds them all", s.Len())
	}
}

// TestOneRequestCannotFillWhatIsSent: a bulk upload (a table of 20,000
// users with a password column) learned every cell with AddSent and
// filled the room for what requests carry, so a later request's token was
// not learned and an echo of it elsewhere was not scrubbed (redteam9). A
// Batch, one per request, registers at most RequestValues new values;
// values it already knows cost nothing, and Capped counts the batches
// that had more.
func TestOneRequestCannotFillWhatIsSent(t *testing.T) {
	s := New()
	bulk := s.Batch()
	bulk.Add("repeated-password", "repeated-password", "short") // known and short values cost nothing
	for i := range MaxValues + 500 {
		bulk.Add(fmt.Sprintf("bulk-password-%06d", i))
	}
	if s.Len() != RequestValues {
		t.Errorf("one request taught %d values, want %d", s.Len(), RequestValues)
	}
	if s.Capped() != 1 || s.Dropped() != 0 {
		t.Errorf("Capped() = %d, Dropped() = %d, want 1, 0", s.Capped(), s.Dropped())
	}
	s.Batch().Add("later-user-token")
	if got := s.String("echo later-user-token"); got != "echo "+Mask {
		t.Errorf("a later request's token after a bulk upload: %q", got)
	}
	if s.Capped() != 1 {
		t.Errorf("%d batches capped, want 1", s.Capped())
	}
	// Batches still share MaxValues.
	for i := range MaxValues/RequestValues + 1 {
		b := s.Batch()
		for j := range RequestValues {
			b.Add(fmt.Sprintf("request-%03d-value-%03d", i, j))
		}
	}
	if s.Len() != MaxValues || s.Dropped() == 0 {
		t.Errorf("%d values held, %d dropped: MaxValues bounds them all", s.Len(), s.Dropped())
	}
	var none *Scrubber
	none.Batch().Add("a-value-for-nobody")
}
