package traffic

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestEncodedRecordedBodies reads the same JSON body recorded by three
// kinds of recorder, in every format: stored decoded with a stale
// Content-Encoding, or still encoded (gzip, br, deflate, gzip then br).
// Every reader must yield the decoded JSON and drop the headers that no
// longer describe it.
func TestEncodedRecordedBodies(t *testing.T) {
	const body = `{"id":7,"name":"Ada"}`
	tests := []struct {
		file   string
		want   map[string]string // request path → body, or "error: ..." for a record error
		reason string
	}{
		{file: "encoded.har", want: map[string]string{
			"/gzip-encoded":    body,
			"/gzip-decoded":    body,
			"/br-encoded":      body,
			"/deflate-encoded": body,
			"/gzip-then-br":    body,
			"/gzip-broken":     "error: entry 6: response.content.text: gzip: ",
		}, reason: "a HAR recorder may store base64 of the encoded bytes instead of the decoded text"},
		{file: "encoded.jsonl", want: map[string]string{
			"/gzip-encoded": body,
			"/gzip-decoded": body,
			"/br-encoded":   body,
		}, reason: "JSONL bodies are as on the wire, or decoded with a stale header"},
		{file: "encoded.gor", want: map[string]string{
			"/br-encoded":      body,
			"/gzip-encoded":    body,
			"/gzip-decoded":    body,
			"/deflate-encoded": body,
		}, reason: "GoReplay records the raw message, whatever its Content-Encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			format := strings.TrimPrefix(tt.file[strings.LastIndex(tt.file, "."):], ".")
			r, err := Open(framework.TrafficSource{Format: format, Path: tt.file}, "testdata")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			seen := 0
			for _, res := range readAll(t, r, 100) {
				if res.err != nil {
					var path string
					for p, w := range tt.want {
						if strings.HasPrefix(w, "error: ") && strings.Contains(errText(res.err), strings.TrimPrefix(w, "error: ")) {
							path = p
						}
					}
					if path == "" {
						t.Errorf("%s: unexpected error %v", tt.reason, res.err)
					}
					seen++
					continue
				}
				ex := res.exchange
				want, found := tt.want[ex.Request.URL]
				if !found {
					t.Errorf("unexpected request %s", ex.Request.URL)
					continue
				}
				seen++
				if ex.Recorded == nil {
					t.Errorf("%s: no recorded response", ex.Request.URL)
					continue
				}
				if string(ex.Recorded.Body) != want {
					t.Errorf("%s\n%s: body %q, want %q", tt.reason, ex.Request.URL, ex.Recorded.Body, want)
				}
				if ce := ex.Recorded.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("%s: Content-Encoding %q kept on a decoded body", ex.Request.URL, ce)
				}
				if ct := ex.Recorded.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type %q, want it kept", ex.Request.URL, ct)
				}
			}
			if seen != len(tt.want) {
				t.Errorf("read %d records, want %d", seen, len(tt.want))
			}
		})
	}
}

// FuzzDecodeRecordedBody: any body under any Content-Encoding either
// decodes within the cap or is an error; it never panics, and the
// headers that described the encoding are gone either way.
func FuzzDecodeRecordedBody(f *testing.F) {
	f.Add("gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add("br", []byte("\x0b\x02\x80hi\x03"))
	f.Add("deflate, gzip", []byte("plain text"))
	f.Fuzz(func(t *testing.T, coding string, body []byte) {
		h := http.Header{"Content-Encoding": {coding}, "Content-Length": {"1"}}
		decoded, err := decodeRecordedBody(h, body)
		if err == nil && len(decoded) > MaxRecordBytes {
			t.Fatalf("decoded %d bytes, above the cap", len(decoded))
		}
		if h.Get("Content-Encoding") != "" || h.Get("Content-Length") != "" {
			t.Fatalf("headers kept: %v", h)
		}
	})
}

// TestStaleEncodingKeepsText: a body stored decoded under a stale
// Content-Encoding stays as it is, even when the text happens to be a
// valid brotli or raw deflate stream (these inputs were decoded to
// garbage by a first version that tried every body).
func TestStaleEncodingKeepsText(t *testing.T) {
	for _, tt := range []struct{ coding, body string }{
		{"br", "3"}, {"br", "="}, {"br", "9"},
		{"deflate", "{uhj4 3l=n>]2xeh7zbceklxd[n=:bpamo98>}3"},
		{"gzip", `{"id":7}`}, {"gzip, br", "<html></html>"},
	} {
		h := http.Header{"Content-Encoding": {tt.coding}}
		got, err := decodeRecordedBody(h, []byte(tt.body))
		if err != nil || string(got) != tt.body {
			t.Errorf("%s %q: got %q, %v; want the text unchanged", tt.coding, tt.body, got, err)
		}
	}
}
