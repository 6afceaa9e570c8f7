package disclog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/redact"
)

func pairWith(endpoint, origin string, prodBody, shadowBody []byte) *framework.Pair {
	return &framework.Pair{
		Endpoint: endpoint,
		Exchange: framework.Exchange{Origin: origin, Request: framework.Request{
			Method: "POST", URL: "/login?token=abc&next=/home",
			Header: http.Header{"Authorization": {"Bearer SECRET-A"}, "Cookie": {"sid=SECRET-C"}, "Accept": {"application/json"}},
			Body:   []byte(`{"user":"ada","password":"SECRET-P"}`),
		}},
		Prod:   framework.Response{Status: 200, Latency: 3 * time.Millisecond, Header: http.Header{"Set-Cookie": {"sid=SECRET-S"}}, Body: prodBody},
		Shadow: framework.Response{Status: 200, Latency: 4 * time.Millisecond, Body: shadowBody},
	}
}

func readAll(t *testing.T, log []byte) []Entry {
	t.Helper()
	var out []Entry
	if err := Read(bytes.NewReader(log), "log.jsonl", func(e Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRedactsEverySecret(t *testing.T) {
	red, err := redact.New([]string{"$.password", "$..apiKey"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{Redactor: red})
	w.Add(pairWith("login", "t.har: entry 1", []byte(`{"ok":true,"apiKey":"SECRET-K"}`), []byte(`{"ok":false,"apiKey":"SECRET-K2"}`)), []framework.Diff{
		{Path: "$.ok", Kind: framework.KindValue, Prod: "true", Shadow: "false"},
		{Path: "$.apiKey", Kind: framework.KindValue, Prod: `"SECRET-K"`, Shadow: `"SECRET-K2"`},
		{Path: "header:Set-Cookie", Kind: framework.KindHeader, Prod: "sid=SECRET-S", Shadow: ""},
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Fatalf("a secret reached the log:\n%s", buf.String())
	}
	entries := readAll(t, buf.Bytes())
	e := entries[0]
	if !e.Example || e.Request == nil || e.Request.Header.Get("Accept") != "application/json" || e.Request.Header.Get("Authorization") != redact.Mask {
		t.Errorf("request %+v", e.Request)
	}
	if e.Request.URL != "/login?token=[REDACTED]&next=/home" {
		t.Errorf("URL %q", e.Request.URL)
	}
	if e.Diffs[0].Prod != "true" || e.Diffs[1].Prod != redact.Mask || e.Diffs[2].Prod != redact.Mask || e.Diffs[2].Shadow != "" {
		t.Errorf("diffs %+v", e.Diffs)
	}
}

func TestTruncatesWithDigest(t *testing.T) {
	long := []byte(strings.Repeat("é", 3000)) // 6000 bytes, 2-byte runes
	binary := []byte{0xff, 0x00, 0xfe, 0x01}
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{MaxBodyBytes: 1001})
	p := pairWith("a", "o", long, binary)
	p.Prod.Truncated = true
	w.Add(p, []framework.Diff{{Path: "body", Kind: framework.KindSize}})
	w.Close()
	e := readAll(t, buf.Bytes())[0]
	sum := sha256.Sum256(long)
	b := e.Prod.Body
	if !b.Truncated || b.Size != 6000 || b.SHA256 != hex.EncodeToString(sum[:]) || !b.CutAtCapture {
		t.Errorf("prod body: truncated %v size %d digest %s cutAtCapture %v", b.Truncated, b.Size, b.SHA256, b.CutAtCapture)
	}
	if len(b.Text) != 1000 || !strings.HasPrefix(string(long), b.Text) {
		t.Errorf("cut at %d bytes; must stop at a rune boundary at or below the cap", len(b.Text))
	}
	if s := e.Shadow.Body; s.Base64 != "/wD+AQ==" || s.Text != "" || s.Truncated {
		t.Errorf("binary body %+v: want base64, whole", s)
	}
}

func TestExamplesCappedPerCategoryNothingLost(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{Examples: 2})
	price := framework.Diff{Path: "$.items[0].price", Kind: framework.KindValue, Prod: "1", Shadow: "2"}
	status := framework.Diff{Path: "status", Kind: framework.KindStatus, Prod: "200", Shadow: "500"}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			diffs := []framework.Diff{price}
			if i == 9 {
				diffs = append(diffs, status) // a new category: logged in full though price is capped
			}
			w.Add(pairWith("get", "entry", []byte("{}"), []byte("{}")), diffs)
		})
	}
	wg.Wait()
	w.Add(pairWith("get", "matched", nil, nil), nil) // no diffs: not logged
	w.Add(pairWith("other", "entry", nil, nil), []framework.Diff{price})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var pairs, examples int
	summary := map[string]Entry{}
	for _, e := range readAll(t, buf.Bytes()) {
		switch e.Type {
		case TypePair:
			pairs++
			if e.Example {
				examples++
				if e.Prod == nil || e.Request == nil {
					t.Errorf("an example without its exchange: %+v", e)
				}
			} else if e.Prod != nil || e.Request != nil || len(e.Diffs) == 0 {
				t.Errorf("a capped pair must keep its diffs and drop its exchange: %+v", e)
			}
		case TypeCategory:
			summary[e.Endpoint+"/"+e.Category] = e
		}
	}
	if pairs != 11 {
		t.Errorf("%d pair lines, want one per differing pair (11)", pairs)
	}
	if c := summary["get/value $.items[*].price"]; c.Pairs != 10 || c.Examples != 2 || c.Omitted != 8 || c.Version != Version {
		t.Errorf("price summary %+v", c)
	}
	if c := summary["get/status status"]; c.Pairs != 1 || c.Examples != 1 {
		t.Errorf("status summary %+v", c)
	}
	if c := summary["other/value $.items[*].price"]; c.Examples != 1 {
		t.Errorf("the cap is per endpoint: %+v", c)
	}
	if n := len(w.Examples()); n != examples {
		t.Errorf("Examples() has %d entries, the log %d", n, examples)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorReported(t *testing.T) {
	w := NewWriter(failingWriter{}, Options{})
	w.Add(pairWith("a", "o", nil, nil), []framework.Diff{{Path: "status", Kind: framework.KindStatus}})
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close = %v, want the write error", err)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ reason, log, want string }{
		{"broken JSON", "{\"type\":\"pair\"}\n{oops\n", "log.jsonl: line 2:"},
		{"unknown type", "{\"type\":\"x\"}\n", `log.jsonl: line 1: type "x"`},
	} {
		err := Read(strings.NewReader(tc.log), "log.jsonl", func(Entry) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.reason, err, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	w.Add(pairWith("a", "o", []byte(`{"x":1}`), []byte{0xff}), []framework.Diff{{Path: "$.x", Kind: framework.KindValue}})
	w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("{\"type\":\"category\",\"pairs\":-1}\n\n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		_ = Read(bytes.NewReader(log), "fuzz", func(e Entry) error {
			if e.Prod != nil {
				_ = e.Prod.Body.String() // nil-safe for a missing body
			}
			return nil
		})
	})
}

// TestExcerptOnExamplesOnly: a text body difference's unified-diff
// excerpt is logged with the pairs logged in full, and left off the
// others, so that the log does not grow by an excerpt per pair.
func TestExcerptOnExamplesOnly(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{Examples: 1})
	diff := framework.Diff{Path: "body", Kind: framework.KindValue, Prod: "line 2: b", Shadow: "line 2: B",
		Excerpt: "--- prod\n+++ shadow\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n"}
	for i := range 3 {
		w.Add(pairWith("home", fmt.Sprint("t.har: entry ", i+1), []byte("a\nb\n"), []byte("a\nB\n")), []framework.Diff{diff})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var withExcerpt, without int
	for _, e := range readAll(t, buf.Bytes()) {
		if e.Type != TypePair {
			continue
		}
		switch {
		case e.Example && e.Diffs[0].Excerpt == diff.Excerpt:
			withExcerpt++
		case !e.Example && e.Diffs[0].Excerpt == "":
			without++
		default:
			t.Errorf("example %v with excerpt %q", e.Example, e.Diffs[0].Excerpt)
		}
	}
	if withExcerpt != 1 || without != 2 {
		t.Errorf("%d examples with the excerpt, %d other lines without, want 1 and 2", withExcerpt, without)
	}
}

// TestExamplesCappedOverTheRun: a shadow inventing a category per pair gets
// at most MaxExamples pairs logged in full; the other lines list at most
// MaxLineDiffs differences and count the rest, the runner's count of
// differences not kept included.
func TestExamplesCappedOverTheRun(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	for i := range MaxExamples + 50 {
		p := pairWith("a", fmt.Sprint(i), []byte(`{}`), []byte(`{}`))
		p.MoreDiffs = 7
		var diffs []framework.Diff
		for k := range 30 {
			diffs = append(diffs, framework.Diff{Path: fmt.Sprintf("$.p%d.k%d", i, k), Kind: framework.KindExtra})
		}
		w.Add(p, diffs)
	}
	w.Close()
	if n := len(w.Examples()); n != MaxExamples {
		t.Errorf("%d examples kept, want %d", n, MaxExamples)
	}
	var examples, lines int
	for _, e := range readAll(t, buf.Bytes()) {
		if e.Type != TypePair {
			continue
		}
		lines++
		switch {
		case e.Example:
			examples++
			if len(e.Diffs) != 30 || e.MoreDiffs != 7 {
				t.Errorf("example: %d diffs, %d more; want 30 and 7", len(e.Diffs), e.MoreDiffs)
			}
		case len(e.Diffs) != MaxLineDiffs || e.MoreDiffs != 30-MaxLineDiffs+7:
			t.Errorf("line: %d diffs, %d more; want %d and %d", len(e.Diffs), e.MoreDiffs, MaxLineDiffs, 30-MaxLineDiffs+7)
		}
	}
	if examples != MaxExamples || lines != MaxExamples+50 {
		t.Errorf("%d examples in %d pair lines, want %d in %d", examples, lines, MaxExamples, MaxExamples+50)
	}
}

// TestLargeBodyWithheld: an example body over MaxRedactBytes is not parsed
// for redaction (that would hold the whole document in memory): only its
// size and digest are logged.
func TestLargeBodyWithheld(t *testing.T) {
	big := append([]byte(`["`), bytes.Repeat([]byte("x"), MaxRedactBytes)...)
	big = append(big, `"]`...)
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	w.Add(pairWith("a", "o", big, []byte(`[]`)), []framework.Diff{{Path: "$", Kind: framework.KindValue}})
	w.Close()
	e := readAll(t, buf.Bytes())[0]
	sum := sha256.Sum256(big)
	if b := e.Prod.Body; b.Text != "" || b.Size != len(big) || b.SHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(b.Withheld, "larger than") {
		t.Errorf("large body logged as %+v, want withheld with its size and digest", b)
	}
	if e.Shadow.Body.Text != "[]" {
		t.Errorf("small body %+v, want it shown", e.Shadow.Body)
	}
}
