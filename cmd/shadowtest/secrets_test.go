package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// secrets hands out a unique secret per position, so that a leak names the
// position it came from.
type secrets map[string]string

func (s secrets) new(position string) string {
	b := make([]byte, 8)
	rand.Read(b)
	v := "Zk" + hex.EncodeToString(b)
	s[position] = v
	return v
}

// newToken is new for a base64-looking token, whose "+", "/" and "="
// every output format escapes its own way.
func (s secrets) newToken(position string) string {
	v := s.new(position) + "+/="
	s[position] = v
	return v
}

// runOutputs runs the built binary in dir with every output on and returns
// every output's bytes by name: stdout, stderr, junit, results, log, html.
func runOutputs(t *testing.T, dir string, env []string, args ...string) (int, map[string][]byte) {
	t.Helper()
	out := t.TempDir()
	files := map[string]string{
		"junit": filepath.Join(out, "junit.xml"), "results": filepath.Join(out, "results.json"),
		"log": filepath.Join(out, "log.jsonl"), "html": filepath.Join(out, "report.html"),
	}
	args = append(args, "--junit", files["junit"], "--results", files["results"], "--log", files["log"], "--html", files["html"])
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(append(env, os.Environ()...), "NO_COLOR=1") // env first: /proc/self/environ starts with it
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes()}
	for name, path := range files {
		if data, err := os.ReadFile(path); err == nil {
			outputs[name] = data
		}
	}
	return code, outputs
}

// decodedForms returns data and what it decodes to: percent-decoded, JSON
// string escapes undone, every base64-looking run decoded, and gzip or
// brotli streams found in those decoded.
func decodedForms(data []byte) [][]byte {
	forms := [][]byte{data, []byte(html.UnescapeString(string(data)))}
	if u, err := url.QueryUnescape(string(data)); err == nil {
		forms = append(forms, []byte(u))
	} else if u, err := url.PathUnescape(string(data)); err == nil {
		forms = append(forms, []byte(u))
	}
	var unquoted strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		var s string
		if json.Unmarshal([]byte(`"`+strings.ReplaceAll(line, `"`, `\"`)+`"`), &s) == nil {
			unquoted.WriteString(s + "\n")
		}
	}
	forms = append(forms, []byte(unquoted.String()))
	runs := strings.FieldsFunc(string(data), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+/-_=", r))
	})
	for _, run := range runs {
		if len(run) < 8 {
			continue
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			for _, r := range []string{run, strings.TrimRight(run, "=")} {
				b, err := enc.DecodeString(r)
				if err != nil {
					continue
				}
				forms = append(forms, b)
				if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
					if plain, err := io.ReadAll(io.LimitReader(zr, 1<<20)); len(plain) > 0 {
						_ = err
						forms = append(forms, plain)
					}
				}
				if plain, _ := io.ReadAll(io.LimitReader(brotli.NewReader(bytes.NewReader(b)), 1<<20)); len(plain) > 0 {
					forms = append(forms, plain)
				}
			}
		}
	}
	return forms
}

// assertNoSecret fails for every secret found in any output, raw or
// decoded.
func assertNoSecret(t *testing.T, outputs map[string][]byte, s secrets) {
	t.Helper()
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, form := range decodedForms(outputs[name]) {
			for position, secret := range s {
				if i := bytes.Index(form, []byte(secret)); i >= 0 {
					t.Errorf("%s: the secret from %s leaks: …%s…", name, position, form[max(0, i-80):min(len(form), i+len(secret)+20)])
				}
			}
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func brotlied(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// hostile is a loopback target that answers every path with a body that
// holds secrets in the positions shadowtest must hide, different on each
// side, and echoes what it received (headers, query, body).
func hostile(t *testing.T, side string, s secrets) *httptest.Server {
	t.Helper()
	p := func(position string) string { return s.new(side + " " + position) }
	keyed, gz, br := p("keyed-set password"), p("gzip token"), p("br token")
	bom, concat, deep, form := p("BOM password"), p("concatenated secret"), p("deep token"), p("form password")
	location, cookie := p("Location access_token"), p("Set-Cookie")
	xauth, apiKey := p("X-Authorization"), p("Api_Key")
	soapToken, soapAttr := p("SOAP SessionToken"), p("SOAP password attribute")
	harCookie, envValue, formPair := p("JSON name/value Cookie"), p("JSON name/value env"), p("form name/value pair")
	entryValue, paramValue, entity, namespace := p("XML entry key/value"), p("XML Param name"), p("XML DOCTYPE entity"), p("XML xmlns:token")
	csrf, jsonScript, jsBody := p("HTML script csrfToken"), p("HTML JSON script access_token"), p("JavaScript apiKey")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := w.Header()
		h.Set("Location", "https://cb.example/done?state=1&access_token="+location)
		h.Add("Set-Cookie", "session="+cookie+"; HttpOnly")
		h.Set("X-Authorization", xauth)
		h.Set("Api_Key", apiKey)
		h.Set("Content-Type", "application/json")
		echo, _ := json.Marshal(map[string]any{"side": side, "headers": r.Header, "query": r.URL.RawQuery, "body": string(body)})
		switch strings.TrimPrefix(r.URL.Path, "/") {
		case "keyed":
			fmt.Fprintf(w, `{"users":[{"id":8,"name":"x"},{"id":7,"password":%q}],"echo":%s}`, keyed, echo)
		case "gzip":
			h.Set("Content-Encoding", "gzip")
			w.Write(gzipped(t, fmt.Appendf(nil, `{"token":%q,"side":%q}`, gz, side)))
		case "br":
			h.Set("Content-Encoding", "br")
			w.Write(brotlied(fmt.Appendf(nil, `{"token":%q,"side":%q}`, br, side)))
		case "bom":
			fmt.Fprintf(w, "\ufeff"+`{"password":%q,"side":%q}`, bom, side)
		case "concat":
			fmt.Fprintf(w, `{"side":%q}{"secret":%q}`, side, concat)
		case "deep":
			fmt.Fprintf(w, `%s{"token":%q,"side":%q}%s`, strings.Repeat("[", 10001), deep, side, strings.Repeat("]", 10001))
		case "form":
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			fmt.Fprintf(w, "side=%s&password=%s", side, form)
		case "soap":
			h.Set("Content-Type", "application/soap+xml; charset=utf-8")
			fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="urn:s"><s:Body><LoginResult password=%q><side>%s</side><SessionToken>%s</SessionToken></LoginResult></s:Body></s:Envelope>`, soapAttr, side, soapToken)
		case "pairs":
			fmt.Fprintf(w, `{"request":{"headers":[{"name":"Cookie","value":"sid=%s"},{"name":"Accept","value":"*/*"}]},"env":[{"value":%q,"name":"DB_PASSWORD"}],"side":%q}`, harCookie, envValue, side)
		case "formpairs":
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			fmt.Fprintf(w, "side=%s&p[0][name]=api_key&p[0][value]=%s", side, formPair)
		case "m/xmlpairs":
			h.Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY token "%s">]><r xmlns:token="urn:%s"><entry><value>%s</value><key>token</key></entry><Param name="password">%s</Param><side>%s</side></r>`, entity, namespace, entryValue, paramValue, side)
		case "m/page":
			h.Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><html><head><script>\n  window.csrfToken = \"%s\";\n</script>\n<script type=\"application/json\">{\"access_token\":%q}</script></head>\n<body>%s</body></html>\n", csrf, jsonScript, side)
		case "m/js":
			h.Set("Content-Type", "application/javascript")
			fmt.Fprintf(w, "var apiKey = '%s';\nvar side = %q;\n", jsBody, side)
		case "spoof":
			h.Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%s\x1b[2J\x1b]0;owned\x07\r\u202eshadow ok\x7f\u0085", side)
		default:
			w.Write(echo)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoSecretInAnyOutput is the hostile end-to-end test of the scrubber:
// traffic in every format and hostile loopback targets put a unique secret
// in every position shadowtest knows is secret (by value or by name); a run
// with every output on must not show any of them, raw or decoded.
func TestNoSecretInAnyOutput(t *testing.T) {
	s := secrets{}
	prod, shadow := hostile(t, "prod", s), hostile(t, "shadow", s)
	dir := t.TempDir()
	envToken, basic := s.newToken("${SHADOW_TOKEN}"), s.newToken("Basic password in a target header")
	userinfo := s.new("target URL password")
	prodURL := strings.Replace(prod.URL, "http://", "http://svc:"+userinfo+"@", 1)

	q := func(position string) string { return s.new(position) }
	var jsonl []string
	line := func(method, target string, header map[string][]string, body string) {
		rec := map[string]any{"request": map[string]any{"method": method, "url": target, "headers": header, "body": body}}
		b, _ := json.Marshal(rec)
		jsonl = append(jsonl, string(b))
	}
	for _, path := range []string{"keyed", "gzip", "br", "bom", "concat", "deep", "form", "soap", "spoof", "echo", "pairs", "formpairs", "m/xmlpairs", "m/page", "m/js"} {
		line("GET", "/"+path+"?pwd="+q(path+" query pwd")+"&jwt="+q(path+" query jwt")+"&tok%65n="+q(path+" query tok%65n")+"&page=2",
			map[string][]string{
				"X-Authorization": {q(path + " request X-Authorization")},
				"Api_Key":         {q(path + " request Api_Key")},
				"Referer":         {"https://app.example/list?token=" + q(path+" Referer token")},
				"Cookie":          {"sid=" + q(path+" request cookie")},
				"Authorization":   {"Basic " + base64.StdEncoding.EncodeToString([]byte("ada:"+q(path+" recorded Basic password")))},
			}, "")
	}
	line("POST", "/login", map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, "user=ada&pwd="+q("form request pwd"))
	line("POST", "/login", map[string][]string{"Content-Type": {"application/json"}}, `{"user":"ada","password":"`+q("JSON request password")+`"}`)
	line("POST", "/soap", map[string][]string{"Content-Type": {"text/xml"}}, `<Login><User>ada</User><wsse:Password xmlns:wsse="urn:w">`+q("SOAP request wsse:Password")+`</wsse:Password></Login>`)
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("traffic.jsonl", []byte(strings.Join(jsonl, "\n")+"\n"))

	har := map[string]any{"log": map[string]any{"version": "1.2", "entries": []any{
		map[string]any{
			"startedDateTime": "2026-11-25T10:00:00Z",
			"request": map[string]any{
				"method": "POST", "url": "https://shop.example/signin?access_token=" + q("HAR query access_token"),
				"headers":  []any{map[string]any{"name": "X-Auth-Token", "value": q("HAR X-Auth-Token")}},
				"postData": map[string]any{"mimeType": "application/x-www-form-urlencoded", "params": []any{map[string]any{"name": "user", "value": "ada"}, map[string]any{"name": "password", "value": q("HAR postData.params password")}}},
			},
			"response": map[string]any{"status": 200, "headers": []any{}, "content": map[string]any{"text": "{}"}},
		},
	}}}
	harBytes, _ := json.Marshal(har)
	write("traffic.har", harBytes)
	gor := "1 r1 1764064800000000000\r\nGET /gor?signature=" + q("gor query signature") + " HTTP/1.1\r\nHost: shop.example\r\nAuthorization: Bearer " + q("gor Bearer") + "\r\n\r\n\n🐵🙈🙉\n"
	write("traffic.gor", []byte(gor))
	write("spec.cue", []byte(`package shadow

targets: {
	prod: {url: "`+prodURL+`", headers: Authorization: "Basic `+base64.StdEncoding.EncodeToString([]byte("svc:"+basic))+`"}
	shadow: {url: "`+shadow.URL+`", headers: {Authorization: "Bearer ${SHADOW_TOKEN}", "X-Trace": "${TRACE_SECRET}"}}
}
traffic: [{jsonl: "traffic.jsonl"}, {har: "traffic.har"}, {gor: "traffic.gor"}]
mirror: writes: "isolated"
defaults: {
	headers: ["Content-Type", "Location", "Set-Cookie", "X-Authorization", "Api_Key"]
	thresholds: {matchRate: 0.99, minSamples: 1}
}
endpoints: {
	get: {method: "GET", path: "/{p}", unordered: [{path: "$.users", key: "id"}]}
	post: {method: "POST", path: "/{p}"}
	// Markup answers on their own endpoint: their text differences do not
	// take the spoof answer's place among the examples.
	markup: {method: "GET", path: "/m/{p}"}
}
report: redact: ["$.users[id=7].password"]
`))
	trace := s.new("${TRACE_SECRET} in a plain header")
	code, outputs := runOutputs(t, dir, []string{"SHADOW_TOKEN=" + envToken, "TRACE_SECRET=" + trace, "SHADOWTEST_ALLOW_ENV=TRACE_SECRET"}, "run", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the targets differ)\nstdout:\n%s\nstderr:\n%s", code, outputs["stdout"], outputs["stderr"])
	}
	for _, name := range []string{"junit", "results", "log", "html"} {
		if len(outputs[name]) == 0 {
			t.Fatalf("no %s written", name)
		}
	}
	if !bytes.Contains(outputs["log"], []byte(`"withheld"`)) || !bytes.Contains(outputs["log"], []byte(`"decoded":"gzip"`)) {
		t.Errorf("the log should show decoded gzip bodies and withhold unparseable ones:\n%.3000s", outputs["log"])
	}
	assertNoSecret(t, outputs, s)
	if !bytes.Contains(outputs["html"], []byte(`\u202eshadow ok`)) {
		t.Errorf("the HTML does not show the shadow's bidi override as a visible escape")
	}
	for _, name := range []string{"stdout", "stderr", "html"} {
		if i := bytes.IndexAny(outputs[name], "\x1b\x07\x7f\u202e\u0085"); i >= 0 {
			t.Errorf("%s: a raw control character or bidi override at byte %d: %q", name, i, outputs[name][max(0, i-40):min(len(outputs[name]), i+40)])
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", outputs["stdout"], outputs["stderr"])
	}
}

// runDiffering runs a spec with prod and the shadow served by
// answer("prod") and answer("shadow"), the JSONL traffic lines, the
// endpoints (the CUE value of the spec's endpoints field), minSamples 1
// and one example with its bodies. The targets must differ (exit 1); it
// returns the run's outputs (see runOutputs).
func runDiffering(t *testing.T, answer func(side string) http.HandlerFunc, lines []string, endpoints string) map[string][]byte {
	t.Helper()
	server := func(side string) *httptest.Server {
		srv := httptest.NewServer(answer(side))
		t.Cleanup(srv.Close)
		return srv
	}
	prod, shadow := server("prod"), server("shadow")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `package shadow

targets: {prod: url: "` + prod.URL + `", shadow: url: "` + shadow.URL + `"}
traffic: [{jsonl: "traffic.jsonl"}]
defaults: thresholds: {matchRate: 0.99, minSamples: 1}
endpoints: ` + endpoints + `
report: examples: 1
`
	if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the targets differ)\nstdout:\n%s\nstderr:\n%s", code, outputs["stdout"], outputs["stderr"])
	}
	return outputs
}

// TestPairValuesInDifferencesNeverPrinted: a difference at the value of a
// name/value pair ($.env[0].value next to "name":"DB_PASSWORD") shows a
// value no path rule can tell is secret; its label in the body can. Every
// pair differs there, and only the first is an example with its bodies:
// the others' differences are written to the log with their values alone,
// and none may show one.
func TestPairValuesInDifferencesNeverPrinted(t *testing.T) {
	s := secrets{}
	var mu sync.Mutex
	var lines []string
	for i := range 4 {
		lines = append(lines, fmt.Sprintf(`{"request":{"method":"GET","url":"/config/%d"}}`, i))
	}
	outputs := runDiffering(t, func(side string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			v, nested := s.new(side+" "+r.URL.Path+" env value"), s.new(side+" "+r.URL.Path+" auth value")
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"env":[{"name":"PORT","value":"8080"},{"name":"DB_PASSWORD","value":%q}],"auth":{"value":{"v":%q},"key":"api_key"},"side":%q}`, v, nested, side)
		}
	}, lines, `config: {method: "GET", path: "/config/{id}"}`)
	if !bytes.Contains(outputs["log"], []byte(`$.env[1].value`)) || !bytes.Contains(outputs["log"], []byte(`8080`)) {
		t.Errorf("the log should show the differences at $.env[1].value, and the harmless pair's value:\n%.3000s", outputs["log"])
	}
	assertNoSecret(t, outputs, s)
}

// TestTargetURLSecretsNeverPrinted: credentials and query values in a
// target URL, from the spec or from -t, do not reach any output when prod
// is unreachable and the run aborts with "prod unreachable at URL", nor
// when a URL with a query is refused (exit 2: every request would have
// gone to the URL's own path).
func TestTargetURLSecretsNeverPrinted(t *testing.T) {
	for _, from := range []string{"spec", "-t", "spec query", "-t query"} {
		t.Run(from, func(t *testing.T) {
			s := secrets{}
			dir := t.TempDir()
			closed := strings.TrimPrefix(closedPort(t), "http://")
			target := "http://svc:" + s.new(from+" URL password") + "@" + closed + "/base"
			wantCode, want := exitAborted, "prod unreachable at http://[REDACTED]@"+closed+"/base"
			if strings.HasSuffix(from, " query") {
				target += "?api_key=" + s.new(from+" URL query") + "&v=1"
				wantCode, want = exitInvalid, "http://[REDACTED]@"+closed+"/base?…"
			}
			from = strings.TrimSuffix(from, " query")
			specURL, args := target, []string{"run", "."}
			if from == "-t" {
				specURL = "http://127.0.0.1:1"
				args = append(args, "-t", "prod="+target)
			}
			os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: *"`+specURL+`" | string @tag(prod)
	shadow: url: "http://`+closed+`"
}
traffic: [{jsonl: "traffic.jsonl"}]
endpoints: all: {method: "GET", path: "/a"}
`), 0o644)
			code, outputs := runOutputs(t, dir, nil, args...)
			if code != wantCode || !bytes.Contains(outputs["stderr"], []byte(want)) {
				t.Fatalf("exit %d, want %d and a message naming the target without its secrets (%s)\nstderr:\n%s", code, wantCode, want, outputs["stderr"])
			}
			assertNoSecret(t, outputs, s)
		})
	}
}

// TestSelectorSecretsNeverPrinted: an endpoint that selects by a secret
// (a partner's X-Api-Key, a token query parameter) had it in the results'
// copy of the spec when no request carried it, so the scrubber had never
// seen it (redteam6).
func TestSelectorSecretsNeverPrinted(t *testing.T) {
	s := secrets{}
	dir := t.TempDir()
	closed := closedPort(t)
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: "`+closed+`"
	shadow: url: "`+closed+`"
}
traffic: [{jsonl: "traffic.jsonl"}]
endpoints: partner: {method: "GET", path: "/a", match: headers: "X-Api-Key": "`+s.new("match.headers X-Api-Key")+`"}
endpoints: signed: {method: "GET", path: "/a", match: query: access_token: ["`+s.new("match.query access_token")+`"]}
endpoints: all: {method: "GET", path: "/a"}
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code == exitInvalid || len(outputs["results"]) == 0 {
		t.Fatalf("exit %d\n%s", code, outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
}

// TestInvalidTargetURLIsShownWithoutSecrets: a -t URL or a spec URL that
// is rejected is quoted without its credentials and query.
func TestInvalidTargetURLIsShownWithoutSecrets(t *testing.T) {
	s := secrets{}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: *"http://127.0.0.1:1" | string @tag(prod)
	shadow: url: "ftp://svc:`+s.new("spec URL password")+`@h/?key=`+s.new("spec URL query")+`"
}
traffic: [{jsonl: "t.jsonl"}]
endpoints: all: {method: "GET", path: "/a"}
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".", "-t", "prod=ftp://svc:"+s.new("-t URL password")+"@h/?key="+s.new("-t URL query"))
	if code != exitInvalid || !bytes.Contains(outputs["stderr"], []byte(`invalid -t prod="ftp://[REDACTED]@h/?…"`)) {
		t.Errorf("exit %d, want 2 and the URL without its secrets\nstderr:\n%s", code, outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
}

// TestBadRecordErrorsQuoteNoSecret: a malformed record's error, in every
// output, names the file, record and byte offset and quotes at most a
// short masked snippet, never the record's URL.
func TestBadRecordErrorsQuoteNoSecret(t *testing.T) {
	s := secrets{}
	dir := t.TempDir()
	prod, shadow := hostile(t, "prod", secrets{}), hostile(t, "shadow", secrets{})
	bad := `{"request":{"method":"GET","url":"/a?token=` + s.new("token in a bad URL") + ` x"}}`
	badGor := "1 b 1764064800000000000\nGET /b?jwt=" + s.new("jwt in a bad .gor request line") + " HTTP/9\r\n\r\n"
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"+bad+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "traffic.gor"), []byte(badGor), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {prod: url: "`+prod.URL+`", shadow: url: "`+shadow.URL+`"}
traffic: [{jsonl: "traffic.jsonl"}, {gor: "traffic.gor"}]
endpoints: all: {method: "GET", path: "/{p}"}
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != exitInvalid || !bytes.Contains(outputs["stderr"], []byte("traffic.jsonl: line 2 (byte 41): request.url: ")) {
		t.Errorf("exit %d, want 2 and the file, line and byte\nstderr:\n%s", code, outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
	code, outputs = runOutputs(t, dir, nil, "run", ".", "--skip-bad-records")
	if !bytes.Contains(outputs["stderr"], []byte("skipped bad record: ")) {
		t.Errorf("exit %d: the skipped records are not reported\nstderr:\n%s", code, outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
}

// TestTrafficPathMustBeARegularFile: a spec naming /proc/self/environ (or
// a device or FIFO) as traffic is refused without printing any of it.
func TestTrafficPathMustBeARegularFile(t *testing.T) {
	for _, format := range []string{"gor", "jsonl", "har"} {
		t.Run(format, func(t *testing.T) {
			s := secrets{}
			env := "S=" + s.new("the first variable of the environment")
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {prod: url: "http://127.0.0.1:1", shadow: url: "http://127.0.0.1:1"}
traffic: [{`+format+`: "/proc/self/environ"}]
endpoints: all: {method: "GET", path: "/{p}"}
`), 0o644)
			code, outputs := runOutputs(t, dir, []string{env}, "run", ".")
			if code != exitInvalid || !bytes.Contains(outputs["stderr"], []byte("not a regular file")) {
				t.Errorf("exit %d, want 2 and a refusal\nstderr:\n%s", code, outputs["stderr"])
			}
			assertNoSecret(t, outputs, s)
		})
	}
}

// TestSpecReadsOnlyAllowedEnvironment: a spec (which a pull request can
// change) that references a CI secret in a target header is refused before
// any request is sent, unless the job lists the variable in
// SHADOWTEST_ALLOW_ENV; then its value is sent and still never printed.
func TestSpecReadsOnlyAllowedEnvironment(t *testing.T) {
	s := secrets{}
	deployKey := s.new("CI deploy key")
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Debug"))
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: "`+srv.URL+`"
	shadow: {url: "`+srv.URL+`", headers: "X-Debug": "key=${CI_DEPLOY_KEY}"}
}
traffic: [{jsonl: "traffic.jsonl"}]
endpoints: all: {method: "GET", path: "/a", thresholds: minSamples: 1}
`), 0o644)

	code, outputs := runOutputs(t, dir, []string{"CI_DEPLOY_KEY=" + deployKey, "SHADOWTEST_ALLOW_ENV="}, "run", ".")
	if code != exitInvalid || !bytes.Contains(outputs["stderr"], []byte("spec.cue:4:")) ||
		!bytes.Contains(outputs["stderr"], []byte("CI_DEPLOY_KEY")) || !bytes.Contains(outputs["stderr"], []byte("SHADOWTEST_ALLOW_ENV")) {
		t.Fatalf("exit %d, want 2 naming the header's position, the variable and SHADOWTEST_ALLOW_ENV\nstderr:\n%s", code, outputs["stderr"])
	}
	mu.Lock()
	if len(seen) != 0 {
		t.Errorf("%d requests were sent by a refused spec", len(seen))
	}
	mu.Unlock()
	assertNoSecret(t, outputs, s)

	code, outputs = runOutputs(t, dir, []string{"CI_DEPLOY_KEY=" + deployKey, "SHADOWTEST_ALLOW_ENV=CI_DEPLOY_KEY"}, "run", ".")
	if code != exitPass {
		t.Fatalf("exit %d with the variable allowed, want 0\nstderr:\n%s", code, outputs["stderr"])
	}
	mu.Lock()
	if !slices.Contains(seen, "key="+deployKey) {
		t.Errorf("the allowed variable did not reach the shadow: %q", seen)
	}
	mu.Unlock()
	assertNoSecret(t, outputs, s)
}

// TestAFullScrubberIsReported: past scrub.MaxValues the scrubber learns
// no more secret values (memory stays bounded), so an echo of a later one
// under an innocent name is no longer scrubbed; a shadow setting 21,000
// fresh cookies filled it and nothing said so (redteam6). The run warns.
func TestAFullScrubberIsReported(t *testing.T) {
	dir := t.TempDir()
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 2100 {
			w.Header().Add("Set-Cookie", fmt.Sprintf("c%d=%s%06d", i, r.URL.Path[1:], i))
		}
		io.WriteString(w, "ok")
	}))
	defer shadow.Close()
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer prod.Close()
	var traffic strings.Builder
	for i := range 10 {
		fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/x%dcookie"}}`+"\n", i)
	}
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(traffic.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: "`+prod.URL+`"
	shadow: url: "`+shadow.URL+`"
}
traffic: [{jsonl: "traffic.jsonl"}]
mirror: concurrency: 1
endpoints: all: {method: "GET", path: "/{p}"}
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code == exitInvalid || !bytes.Contains(outputs["stderr"], []byte("came after the scrubber was full")) {
		t.Fatalf("exit %d, want a warning that the scrubber is full:\n%s", code, outputs["stderr"])
	}
}

// TestAHostileShadowCannotCrowdOutAUsersToken: a shadow setting 2,100
// fresh cookies in each of its first ten answers filled the scrubber
// (scrub.MaxValues, shared with the values learned from requests), so the
// user's token of a later request was not learned, and the shadow echoing
// it under an innocent JSON name showed it in every output (redteam6).
// The values of answers have a part of their own; what requests carry
// keeps scrub.SentRoom.
func TestAHostileShadowCannotCrowdOutAUsersToken(t *testing.T) {
	s := secrets{}
	token := s.new("the user's token, after the flood")
	dir := t.TempDir()
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 2100 {
			w.Header().Add("Set-Cookie", fmt.Sprintf("c%d=%s%06d", i, r.URL.Path[1:], i))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"note":%q}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer shadow.Close()
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"note":"ok"}`)
	}))
	defer prod.Close()
	var traffic strings.Builder
	for i := range 10 {
		fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/x%dcookie"}}`+"\n", i)
	}
	fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/me","headers":{"Authorization":["Bearer %s"]}}}`+"\n", token)
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(traffic.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: "`+prod.URL+`"
	shadow: url: "`+shadow.URL+`"
}
traffic: [{jsonl: "traffic.jsonl"}]
mirror: concurrency: 1
endpoints: all: {method: "GET", path: "/{p}"}
report: examples: 20
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code == exitInvalid || !bytes.Contains(outputs["stderr"], []byte("came after the scrubber was full")) || !bytes.Contains(outputs["log"], []byte(`/me`)) {
		t.Fatalf("exit %d, want the flood reported and /me compared:\n%s\n%.2000s", code, outputs["stderr"], outputs["log"])
	}
	assertNoSecret(t, outputs, s)
}

// TestABulkUploadCannotCrowdOutAUsersToken: a recorded upload of a table
// with a password column (20,500 rows, as CSV and as a JSON array) taught
// the scrubber every cell and filled its room for what requests carry, so
// the user's token of a later request was not learned, and the shadow
// echoing it under an innocent JSON name showed it in every output
// (redteam9). One request teaches at most scrub.RequestValues values; the
// run says so once, with counts only.
func TestABulkUploadCannotCrowdOutAUsersToken(t *testing.T) {
	s := secrets{}
	token := s.new("the user's token, after the bulk uploads")
	dir := t.TempDir()
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"note":%q}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer shadow.Close()
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"note":"ok"}`)
	}))
	defer prod.Close()
	rows := scrub.MaxValues + 500
	var table, array strings.Builder
	table.WriteString("user,password\n")
	array.WriteString("[")
	for i := range rows {
		fmt.Fprintf(&table, "u%05d,csv-pw-%06d\n", i, i)
		if i > 0 {
			array.WriteString(",")
		}
		fmt.Fprintf(&array, `{"password":"json-pw-%06d"}`, i)
	}
	array.WriteString("]")
	var traffic strings.Builder
	line := func(method, url string, header map[string][]string, body string) {
		b, _ := json.Marshal(map[string]any{"request": map[string]any{"method": method, "url": url, "headers": header, "body": body}})
		traffic.Write(append(b, '\n'))
	}
	line("POST", "/import", map[string][]string{"Content-Type": {"text/csv"}}, table.String())
	line("POST", "/import", map[string][]string{"Content-Type": {"application/json"}}, array.String())
	line("GET", "/me", map[string][]string{"Authorization": {"Bearer " + token}}, "")
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(traffic.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow
targets: {
	prod: url: "`+prod.URL+`"
	shadow: url: "`+shadow.URL+`"
}
traffic: [{jsonl: "traffic.jsonl"}]
mirror: {concurrency: 1, writes: "isolated"}
endpoints: {
	me: {method: "GET", path: "/me"}
	import: {method: "POST", path: "/import"}
}
report: examples: 20
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	warning := fmt.Sprintf("2 request(s) carried more than %d secret values", scrub.RequestValues)
	if code == exitInvalid || !bytes.Contains(outputs["log"], []byte(`/me`)) {
		t.Fatalf("exit %d, want /me compared:\n%s\n%.2000s", code, outputs["stderr"], outputs["log"])
	}
	assertNoSecret(t, outputs, s)
	if bytes.Count(outputs["stderr"], []byte("carried more than")) != 1 || !bytes.Contains(outputs["stderr"], []byte(warning)) {
		t.Errorf("want the bulk uploads reported once (%q):\n%s", warning, outputs["stderr"])
	}
}

// TestEnvironmentDefaultsLearnedAsSpecText: a ${NAME:-default} that reads
// its default is the spec's own text, learned as a literal header value is
// (under a sensitive header, or shaped like a credential): it was learned
// as a secret whatever the header, so X-Accept:
// ${SHADOW_ACCEPT:-application/json} masked every "application/json" and
// X-Env: ${SHADOW_ENV:-staging} every "staging" of the outputs (redteam10).
func TestEnvironmentDefaultsLearnedAsSpecText(t *testing.T) {
	t.Setenv("SHADOW_RT10_ACCEPT", "")
	t.Setenv("SHADOW_RT10_ENV", "")
	t.Setenv("SHADOW_RT10_SET", "Zk-the-jobs-own-value")
	t.Setenv("SHADOW_RT10_TOKEN", "")
	plan := &framework.Plan{}
	plan.Prod.Headers = map[string]string{
		"X-Accept":      "${SHADOW_RT10_ACCEPT:-application/json}",
		"X-Env":         "${SHADOW_RT10_ENV:-staging-eu}",
		"X-Set":         "${SHADOW_RT10_SET:-fallback-value}",
		"Authorization": "Bearer ${SHADOW_RT10_TOKEN:-Zk-dev-fallback-token}",
	}
	sc := scrub.New()
	red, err := newRedactor(plan, sc)
	if err != nil {
		t.Fatal(err)
	}
	learnPlan(plan, red, sc)
	in := "Content-Type: application/json; host staging-eu.example.com; Zk-the-jobs-own-value; Zk-dev-fallback-token"
	want := "Content-Type: application/json; host staging-eu.example.com; [REDACTED]; [REDACTED]"
	if got := sc.String(in); got != want {
		t.Errorf("scrubbed:\n%s\nwant\n%s", got, want)
	}
}
