package traffic

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func TestGorReader(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.gor")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, NewGorReader(bytes.NewReader(data), "valid.gor"), 100)
	want := []result{
		// The Host line is the recorded Host, not a header.
		ok(withHost(exchange("valid.gor: record 1", "2025-11-25T10:00:00Z", "GET", "/users/7?x=1",
			header("Accept", "application/json"), "",
			withLatency(response(200, header("Content-Type", "application/json"), `{"id": 7}`), time.Millisecond)), "shop.example")),
		ok(withHost(exchange("valid.gor: record 3", "2025-11-25T10:00:01Z", "POST", "/users",
			header("Content-Type", "application/json"), `{"a":1}`,
			withLatency(response(201, header("Content-Type", "application/json"), `{"id": 8, "a": 1}`), 2*time.Millisecond)), "shop.example")),
		ok(withHost(exchange("valid.gor: record 7", "2025-11-25T10:00:02Z", "HEAD", "/health", nil, "",
			withLatency(response(200, nil, ""), 100)), "x")),
		ok(withHost(exchange("valid.gor: record 8", "2025-11-25T10:00:03Z", "DELETE", "/users/9", nil, "", nil), "x")),
	}
	checkResults(t, got, want)
}

func TestGorReaderBadRecords(t *testing.T) {
	data, err := os.ReadFile("testdata/malformed.gor")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, NewGorReader(bytes.NewReader(data), "bad.gor"), 100)
	want := []result{
		fails(`bad.gor: record 2: meta line: timestamp "notatime": want nanoseconds since 1970`),
		fails(`bad.gor: record 3: request: malformed HTTP version "not http"`),
		fails(`bad.gor: record 4: request body: message ends early (shorter than its Content-Length or chunks)`),
		fails(`bad.gor: record 5: meta line: type "9": want 1 (request), 2 (response) or 3 (replayed response)`),
		ok(withHost(exchange("bad.gor: record 1", "2025-11-25T10:00:00Z", "GET", "/ok", nil, "", nil), "x")),
		ok(withHost(exchange("bad.gor: record 6", "2025-11-25T10:00:00Z", "GET", "/last", nil, "", nil), "x")),
	}
	checkResults(t, got, want)
}

// TestGorQuotesNothingOfAFileThatIsNotACapture: a spec may name any file
// as a capture (traffic paths are not confined to the repository), and the
// first line of a file that is not one was quoted in the error, which
// reaches the CI log and the JUnit: an AWS key ID, a GitLab token or a
// password in clear. Once a record parsed, the file is a capture and a
// bad meta line is quoted for its author.
func TestGorQuotesNothingOfAFileThatIsNotACapture(t *testing.T) {
	for _, first := range []string{
		"AKIAIOSFODNN7EXAMPLE", "glpat-xxxxxxxxxxxxxxxxxxxx", "hunter2correcthorse",
		"machine github.com login bot password hunter2", "1 id hunter2", "hunter2 id 123",
	} {
		got := readAll(t, NewGorReader(strings.NewReader(first+"\nmore\n"), "f"), 10)
		if len(got) != 1 || got[0].err == nil || !strings.Contains(got[0].err.Error(), "not a GoReplay capture") {
			t.Errorf("%q: got %v, want one error saying the file is not a capture", first, got)
			continue
		}
		for _, part := range strings.Fields(first) {
			if len(part) > 3 && strings.Contains(got[0].err.Error(), part) {
				t.Errorf("%q: the error quotes %q: %v", first, part, got[0].err)
			}
		}
	}
	capture := "1 a 1764064800000000000\nGET /ok HTTP/1.1\nHost: x\n\n\n" + GorSeparator + "\n9 b 1\nGET /x HTTP/1.1\n\n"
	got := readAll(t, NewGorReader(strings.NewReader(capture), "c.gor"), 10)
	if len(got) != 2 || got[0].err == nil || !strings.Contains(got[0].err.Error(), `record 2 (byte 65): meta line: type "9"`) || got[1].err != nil {
		t.Errorf("a capture's bad meta line: got %v, want its type quoted, then the good record", got)
	}
}

// TestGorPendingIsBounded proves that requests whose response never comes
// are yielded once gorPending later records have been read, instead of
// being held until the end of the file.
func TestGorPendingIsBounded(t *testing.T) {
	var file bytes.Buffer
	const n = 3 * gorPending
	for i := range n {
		file.WriteString("1 id" + strconv.Itoa(i) + " 1764064800000000000\nGET /items/" + strconv.Itoa(i) + " HTTP/1.1\r\nHost: x\r\n\r\n\n" + GorSeparator + "\n")
	}
	r := NewGorReader(&file, "many.gor").(*gorReader)
	for i := range n {
		ex, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ex.Request.URL != "/items/"+strconv.Itoa(i) {
			t.Fatalf("#%d: got %s", i, ex.Request.URL)
		}
		if len(r.queue) > gorPending+1 {
			t.Fatalf("%d requests held, want at most %d", len(r.queue), gorPending+1)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want EOF", err)
	}
}

func TestOpenGzipAndGlob(t *testing.T) {
	dir := t.TempDir()
	plain, _ := os.ReadFile("testdata/valid.gor")
	zipped, _ := os.ReadFile("testdata/valid.gor.gz")
	os.WriteFile(filepath.Join(dir, "a.gor"), plain, 0o644)
	os.WriteFile(filepath.Join(dir, "b.gor.gz"), zipped, 0o644)
	os.WriteFile(filepath.Join(dir, "c.txt"), []byte("not traffic"), 0o644)
	r, err := Open(framework.TrafficSource{Format: "gor", Path: "*.gor*"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var origins []string
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		origins = append(origins, filepath.Base(ex.Origin))
	}
	want := []string{"a.gor: record 1", "a.gor: record 3", "a.gor: record 7", "a.gor: record 8",
		"b.gor.gz: record 1", "b.gor.gz: record 3", "b.gor.gz: record 7", "b.gor.gz: record 8"}
	if strings.Join(origins, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q (files in name order, the .gz one gunzipped)", origins, want)
	}
	if _, err := Open(framework.TrafficSource{Format: "gor", Path: "*.pcap"}, dir); err == nil || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("a glob matching nothing: %v", err)
	}
}

func TestOpenCorruptGzip(t *testing.T) {
	dir := t.TempDir()
	zipped, _ := os.ReadFile("testdata/valid.gor.gz")
	os.WriteFile(filepath.Join(dir, "x.gor.gz"), zipped[:len(zipped)/2], 0o644)
	r, err := Open(framework.TrafficSource{Format: "gor", Path: "x.gor.gz"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var last error
	for range 20 {
		_, err := r.Next()
		if err != nil && (err == last || errors.Is(err, io.EOF)) {
			break
		}
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "x.gor.gz") {
		t.Errorf("a truncated gzip file: got %v, want an error naming the file", last)
	}
}

func TestFormatOf(t *testing.T) {
	for in, want := range map[string]string{"a.har": "har", "b.GOR.gz": "gor", "c.jsonl": "jsonl", "d.ndjson": "jsonl", "e.txt": ""} {
		if got := FormatOf(in); got != want {
			t.Errorf("FormatOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGorLastRecordWithoutSeparator: a capture cut before its last
// separator (and the newline before it) still yields its last record,
// whether that message ends with a body or with its blank line.
func TestGorLastRecordWithoutSeparator(t *testing.T) {
	const head = "1 a 1764064800000000000\nGET /first HTTP/1.1\r\nHost: x\r\n\r\n\n" + GorSeparator + "\n"
	tests := []struct{ name, tail, wantURL, wantBody string }{
		{"request without a body, no newline", "1 b 1764064800000000000\nGET /last HTTP/1.1\r\nHost: x\r\n\r\n", "/last", ""},
		{"request without a body, newline", "1 b 1764064800000000000\nGET /last HTTP/1.1\r\nHost: x\r\n\r\n\n", "/last", ""},
		{"request with a body, no newline", "1 b 1764064800000000000\nPOST /last HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", "/last", "{}"},
		{"request with a body, newline", "1 b 1764064800000000000\nPOST /last HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}\n", "/last", "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, NewGorReader(strings.NewReader(head+tt.tail), "cut.gor"), 10)
			if len(got) != 2 {
				t.Fatalf("got %d results, want 2: %v", len(got), got)
			}
			for _, r := range got {
				if r.err != nil {
					t.Fatalf("got %v, want the last record read", r.err)
				}
			}
			last := got[1].exchange
			if last.Request.URL != tt.wantURL || string(last.Request.Body) != tt.wantBody {
				t.Errorf("last record: %s %q, want %s %q", last.Request.URL, last.Request.Body, tt.wantURL, tt.wantBody)
			}
		})
	}
}

// TestGorBadResponseRecordNumber: a malformed response is reported at its
// own record and byte offset, not at its request's, whether it comes after
// the request or before it.
func TestGorBadResponseRecordNumber(t *testing.T) {
	sep := "\n" + GorSeparator + "\n"
	request := func(id string) string {
		return "1 " + id + " 1764064800000000000\nGET /" + id + " HTTP/1.1\r\nHost: x\r\n\r\n" + sep
	}
	badResponse := func(id string) string {
		return "2 " + id + " 1764064800000000000 1000\nHTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}" + sep
	}
	file := request("a") + request("other") + badResponse("a") + // response after its request: record 3
		badResponse("b") + request("b") // response before its request: record 4
	got := readAll(t, NewGorReader(strings.NewReader(file), "resp.gor"), 10)
	var errs []string
	for _, r := range got {
		if r.err != nil {
			errs = append(errs, r.err.Error())
		}
	}
	third := len(request("a")+request("other")) + 1
	fourth := third + len(badResponse("a"))
	want := []string{
		fmt.Sprintf("resp.gor: record 3 (byte %d): response body: message ends early (shorter than its Content-Length or chunks)", third),
		fmt.Sprintf("resp.gor: record 4 (byte %d): response body: message ends early (shorter than its Content-Length or chunks)", fourth),
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
}
