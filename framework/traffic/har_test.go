package traffic

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHARValid(t *testing.T) {
	const name = "testdata/valid.har"
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	multipart := "--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"title\"\r\n\r\ncat\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"file\"; filename=\"cat.txt\"\r\n" +
		"Content-Type: text/plain\r\n\r\nmeow\r\n" +
		"--XyZ--\r\n"
	// Each entry of valid.har exercises one part of the mapping; the file
	// starts with a byte order mark and has custom "_" fields at every level.
	want := []result{
		// Pseudo-headers, Connection, the header Connection names and
		// Keep-Alive are dropped; ":authority" becomes the recorded Host;
		// the fragment is dropped; queryString is ignored because the URL
		// has a query; the recorded response loses Content-Encoding and
		// Content-Length because HAR stores it decoded.
		ok(withHost(exchange(name+": entry 1", "2026-11-25T10:00:00.123Z", "GET", "/users/7?expand=orders",
			header("Accept", "application/json"), "",
			// The entry's time (12.5 ms) is the recorded latency.
			withLatency(response(200, header("Content-Type", "application/json", "X-Request-Id", "r-1"), `{"id":7,"name":"Ada Lovelace"}`), 12500*time.Microsecond)), "shop.example.com")),
		// A URL without a path becomes "/", with the query built from
		// queryString in order; the method is upper-cased; a base64 body is
		// decoded; Transfer-Encoding is dropped.
		ok(exchange(name+": entry 2", "2026-11-25T10:00:01Z", "GET", "/?q=a+b%26c&page=2",
			nil, "",
			withLatency(response(200, header("Content-Type", "image/png"), "\x89PNG\r\n\x1a\n"), 3*time.Millisecond))),
		// postData.params without text are form-encoded in order; the
		// recorded Content-Length is dropped.
		ok(exchange(name+": entry 3", "2026-11-25T10:00:02Z", "POST", "/login",
			header("Content-Type", "application/x-www-form-urlencoded"), "user=ada&pass=p%26ss+w&a=1",
			response(302, header("Location", "/home"), ""))),
		// multipart params are rebuilt with the recorded boundary, and the
		// mimeType becomes the Content-Type; status 0 means no response.
		ok(exchange(name+": entry 4", "2026-11-25T10:00:03Z", "POST", "/upload",
			header("Content-Type", "multipart/form-data; boundary=XyZ"), multipart, nil)),
		// postData.text is the body as recorded.
		ok(exchange(name+": entry 5", "2026-11-25T10:00:04Z", "PUT", "/users/7",
			header("Content-Type", "application/json"), `{"name":"Ada"}`,
			response(204, nil, ""))),
	}
	checkResults(t, readAll(t, NewHARReader(f, name), 100), want)
}

func TestHARFiles(t *testing.T) {
	tests := []struct {
		file   string
		want   []string // origins of exchanges, then the error text
		record bool     // the error is a *RecordError
		reason string
	}{
		{
			file:   "missing-method.har",
			want:   []string{"entry 1", "entry 2", "testdata/missing-method.har: entry 3: request.method: missing"},
			record: true,
			reason: "the entries before a bad one are read; the error names the entry (from 1) and the field",
		},
		{
			file:   "bad-base64.har",
			want:   []string{"testdata/bad-base64.har: entry 1: response.content.text: bad base64: illegal base64 data at input byte 5"},
			record: true,
			reason: "a base64 body that does not decode",
		},
		{
			file:   "bad-time.har",
			want:   []string{"entry 1", `testdata/bad-time.har: entry 2: startedDateTime: "yesterday" is not an RFC 3339 time`},
			record: true,
			reason: "startedDateTime must be RFC 3339",
		},
		{
			file:   "truncated.har",
			want:   []string{"entry 1", "testdata/truncated.har: entry 2: unexpected end of file"},
			record: true,
			reason: "a file cut inside an entry blames that entry",
		},
		{
			file:   "not-a-har.json",
			want:   []string{"testdata/not-a-har.json: not a HAR file: no log.entries array"},
			reason: "a JSON file without log.entries is not a HAR file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := "testdata/" + tt.file
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			results := readAll(t, NewHARReader(f, name), 100)
			checkOutcome(t, results, name, tt.want, tt.record, tt.reason)
		})
	}
}

// checkOutcome checks that the reader yielded the exchanges want names,
// in order, then exactly the error want ends with.
func checkOutcome(t *testing.T, results []result, name string, want []string, record bool, reason string) {
	t.Helper()
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d (%s)", len(results), len(want), reason)
	}
	for i, r := range results[:len(want)-1] {
		if r.err != nil || r.exchange.Origin != name+": "+want[i] {
			t.Errorf("#%d: got %s, want exchange %q (%s)", i, describe(r), want[i], reason)
		}
	}
	last := results[len(results)-1]
	if last.err == nil || errText(last.err) != want[len(want)-1] {
		t.Fatalf("got %s\nwant error %q (%s)", describe(last), want[len(want)-1], reason)
	}
	var recordErr *RecordError
	if errors.As(last.err, &recordErr) != record {
		t.Errorf("error %q: *RecordError = %v, want %v (%s)", last.err, !record, record, reason)
	}
}

func TestHARErrors(t *testing.T) {
	const good = `{"request":{"method":"GET","url":"http://h/ok"}}`
	tests := []struct {
		input  string
		want   string // the first error
		reason string
	}{
		{"", "x.har: not a HAR file: unexpected end of file", "empty input"},
		{"\xef\xbb\xbf", "x.har: not a HAR file: unexpected end of file", "only a byte order mark"},
		{"GET / HTTP/1.1", "x.har: not a HAR file: invalid JSON at byte 1: invalid character 'G' looking for beginning of value", "not JSON"},
		{`[]`, "x.har: not a HAR file: want a JSON object, got array", "not an object"},
		{`{"log":[]}`, "x.har: not a HAR file: log: want object, got array", "log is not an object"},
		{`{"log":{"entries":{}}}`, "x.har: not a HAR file: log.entries: want array, got object", "entries is not an array"},
		{`{"log":{"pages":[{"x":[1,{"y":2}]}]}}`, "x.har: not a HAR file: no log.entries array", "log without entries"},
		{`{"log":{"entries":[]`, "x.har: after entry 0: unexpected end of file", "truncated after the entries"},
		{`{"log":{"entries":[` + good + ` ` + good + `]}}`, "x.har: entry 2: invalid JSON at byte 68: expected comma after array element", "a missing comma between entries"},
		{harOf(`null`), "x.har: entry 1: request: missing", "a null entry"},
		{harOf(`7`), "x.har: entry 1: want object, got number", "an entry that is not an object"},
		{harOf(`{"request":{"method":"GET"}}`), "x.har: entry 1: request.url: missing", "no URL"},
		{harOf(`{"request":{"method":7,"url":"http://h/"}}`), "x.har: entry 1: request.method: want string, got number", "a field of the wrong type"},
		{harOf(`{"request":{"method":"GE T","url":"http://h/"}}`), `x.har: entry 1: request.method: "GE T" is not an HTTP method`, "a method that is not a token"},
		{harOf(`{"request":{"method":"GET","url":"h/x"}}`), `x.har: entry 1: request.url: "h/x" is neither an absolute URL nor a path`, "a relative URL"},
		{harOf(`{"request":{"method":"GET","url":"http://h/a b"}}`), `x.har: entry 1: request.url: "http://h/a b" contains white space or control characters`, "a URL with a space"},
		{harOf(`{"request":{"method":"GET","url":"http://h/","headers":[{"value":"v"}]}}`), "x.har: entry 1: request.headers[0].name: missing", "a header without a name"},
		{harOf(`{"request":{"method":"GET","url":"http://h/","headers":[{"name":"A","value":"1"},{"name":"B C","value":"v"}]}}`), `x.har: entry 1: request.headers[1]: "B C" is not a valid header name`, "a header name that is not a token"},
		{harOf(`{"request":{"method":"GET","url":"http://h/","headers":[{"name":"A","value":"1\r\nB: 2"}]}}`), "x.har: entry 1: request.headers[0]: value of A contains CR, LF or NUL", "header injection"},
		{harOf(`{"request":{"method":"POST","url":"http://h/","postData":{"mimeType":"text/plain","params":[{"name":"a"}]}}}`), `x.har: entry 1: request.postData.params: cannot encode params as "text/plain"`, "params of a type that has no form encoding"},
		{harOf(`{"request":{"method":"POST","url":"http://h/","postData":{"mimeType":"multipart/form-data","params":[{"name":"a"}]}}}`), `x.har: entry 1: request.postData.mimeType: multipart boundary "": mime: invalid boundary length`, "multipart params without a boundary"},
		{harOf(`{"request":{"method":"GET","url":"http://h/"},"response":{"status":42}}`), "x.har: entry 1: response.status: 42 is not an HTTP status", "a status out of range"},
		{harOf(`{"request":{"method":"GET","url":"http://h/"},"response":{"status":200.5}}`), "x.har: entry 1: response.status: want integer, got number 200.5", "a fractional status"},
		{harOf(`{"request":{"method":"GET","url":"http://h/"},"response":{"status":200,"content":{"text":"x","encoding":"gzip"}}}`), `x.har: entry 1: response.content.encoding: unsupported "gzip" (want "base64" or none)`, "an unknown content encoding"},
		{harOf(`{"request":{"method":"GET","url":"http://h/"},"response":{"status":200,"headers":[{"name":"","value":"v"}]}}`), "x.har: entry 1: response.headers[0].name: missing", "a response header without a name"},
	}
	for _, tt := range tests {
		got := "no error"
		for _, r := range readAll(t, NewHARReader(strings.NewReader(tt.input), "x.har"), 10) {
			if r.err != nil {
				got = errText(r.err)
				break
			}
		}
		if got != tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.reason, got, tt.want)
		}
	}
}

func TestHARContinuesAfterBadEntry(t *testing.T) {
	input := harOf(
		`{"request":{"method":"GET","url":"http://h/1"}}`,
		`{"request":{"url":"http://h/2"}}`,
		`{"request":{"method":"GET","url":"http://h/3","headers":"none"}}`,
		`{"request":{"method":"GET","url":"http://h/4"}}`,
	)
	got := readAll(t, NewHARReader(strings.NewReader(input), "x.har"), 10)
	checkResults(t, got, []result{
		ok(exchange("x.har: entry 1", "", "GET", "/1", nil, "", nil)),
		fails("x.har: entry 2: request.method: missing"),
		fails("x.har: entry 3: request.headers: want array, got string"),
		ok(exchange("x.har: entry 4", "", "GET", "/4", nil, "", nil)),
	})
}
