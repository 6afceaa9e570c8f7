package traffic

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestJSONLValid(t *testing.T) {
	const name = "testdata/valid.jsonl"
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []result{
		// The Host header becomes the recorded Host, sent to both targets.
		ok(withHost(exchange(name+": line 1", "2026-11-25T10:00:00Z", "GET", "/users/7?x=1",
			header("Accept", "application/json"), "",
			response(200, header("Content-Type", "application/json"), `{"id":7}`)), "old.example.com")),
		// Lines 2 and 3 are blank and skipped but counted. An absolute URL
		// is reduced to path and query; header names are canonicalised;
		// a bodyBase64 response is decoded; unknown fields are ignored;
		// the line ends with CRLF.
		ok(exchange(name+": line 4", "", "POST", "/users?notify=1",
			header("Content-Type", "application/json"), `{"name":"Ada"}`,
			response(201, nil, "\x00\x01\x02\xff"))),
		// A binary request body, a time with a zone and fractional
		// seconds, no response, and no newline at the end of the file.
		ok(exchange(name+": line 5", "2026-11-25T10:00:02.5+01:00", "DELETE", "/users/7",
			nil, "\xde\xad\xbe\xef", nil)),
	}
	checkResults(t, readAll(t, NewJSONLReader(f, name), 100), want)
}

func TestJSONLMalformed(t *testing.T) {
	const name = "testdata/malformed.jsonl"
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Every bad line is reported with its number and field, and reading
	// goes on with the next line.
	want := []result{
		ok(exchange(name+": line 1", "", "GET", "/ok", nil, "", nil)),
		fails(name + ": line 2: request.method: missing"),
		fails(name + ": line 3: response.bodyBase64: bad base64: illegal base64 data at input byte 3"),
		fails(name + `: line 4: time: "25/11/2026" is not an RFC 3339 time`),
		fails(name + ": line 5: request: body and bodyBase64 are both set"),
		fails(name + ": line 6: request.headers: want array, got string"),
		fails(name + `: line 7: request.url: "users" is neither an absolute URL nor a path`),
		fails(name + ": line 8: invalid JSON at byte 75: unexpected end of JSON input"),
		ok(exchange(name+": line 9", "", "GET", "/last", nil, "", nil)),
	}
	got := readAll(t, NewJSONLReader(f, name), 100)
	checkResults(t, got, want)
	for _, r := range got {
		var recordErr *RecordError
		if r.err != nil && !errors.As(r.err, &recordErr) {
			t.Errorf("%q is not a *RecordError", r.err)
		}
	}
}

func TestJSONLErrors(t *testing.T) {
	tests := []struct {
		line   string
		want   string
		reason string
	}{
		{`[1]`, "want object, got array", "a line that is not an object"},
		{`null`, "request: missing", "null"},
		{`{"request":{"method":"GET","url":"/"}} {}`, "invalid JSON at byte 40: invalid character '{' after top-level value", "two objects on one line"},
		{`{"request":{"method":"GET","url":"/"},"response":{}}`, "response.status: 0 is not an HTTP status", "a response needs a status"},
		{`{"request":{"method":"GET","url":"/"},"response":{"status":200,"body":"a","bodyBase64":"YQ=="}}`, "response: body and bodyBase64 are both set", "two bodies in a response"},
		{`{"request":{"method":"GET","url":"/","headers":{"a b":["1"]}}}`, `request.headers: "a b" is not a valid header name`, "a bad header name"},
		{`{"request":{"method":"GET","url":"/"},"response":{"status":200,"headers":{"A":["x\ny"]}}}`, "response.headers: value of A contains CR, LF or NUL", "a header value with a newline"},
		{`{"request":{"method":"GET","url":"/","bodyBase64":"YQ"}}`, "request.bodyBase64: bad base64: illegal base64 data at input byte 0", "base64 must be padded"},
	}
	for _, tt := range tests {
		_, err := NewJSONLReader(strings.NewReader(tt.line), "t.jsonl").Next()
		want := "t.jsonl: line 1: " + tt.want
		if err == nil || errText(err) != want {
			t.Errorf("%s:\ngot  %v\nwant %s", tt.reason, err, want)
		}
	}
}

func TestJSONLLongLine(t *testing.T) {
	short := `{"request":{"method":"GET","url":"/a"}}`
	long := `{"request":{"method":"GET","url":"/` + strings.Repeat("a", 200) + `"}}`
	input := short + "\n" + long + "\r\n" + short + "\r\n" + long
	r := newJSONLReader(strings.NewReader(input), "t.jsonl", 16, len(short))
	// A line over the limit is skipped with an error naming it, however
	// it ends, and the next line is read normally.
	checkResults(t, readAll(t, r, 10), []result{
		ok(exchange("t.jsonl: line 1", "", "GET", "/a", nil, "", nil)),
		fails("t.jsonl: line 2: longer than 39 bytes"),
		ok(exchange("t.jsonl: line 3", "", "GET", "/a", nil, "", nil)),
		fails("t.jsonl: line 4: longer than 39 bytes"),
	})
	if got := byteSize(MaxLineBytes); got != "64 MiB" {
		t.Errorf("byteSize(MaxLineBytes) = %q", got)
	}
}

func TestJSONLReadError(t *testing.T) {
	failing := errors.New("disk on fire")
	r := NewJSONLReader(&failingReader{data: "{\"request\":{\"method\":\"GET\",\"url\":\"/\"}}\n", err: failing}, "t.jsonl")
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	if !errors.Is(err, failing) || err.Error() != "t.jsonl: line 2: disk on fire" {
		t.Errorf("got %v, want the read error, naming the line being read", err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("a read error is not sticky: then %v", again)
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}
