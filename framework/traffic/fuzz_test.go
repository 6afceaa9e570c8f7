package traffic

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func FuzzHAR(f *testing.F) {
	addFiles(f, "testdata/*.har", "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, NewHARReader(bytes.NewReader(data), "f.har"), "f.har", "entry", len(data))
	})
}

func FuzzJSONL(f *testing.F) {
	addFiles(f, "testdata/*.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, NewJSONLReader(bytes.NewReader(data), "f.jsonl"), "f.jsonl", "line", len(data))
	})
}

func FuzzGor(f *testing.F) {
	addFiles(f, "testdata/*.gor")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, NewGorReader(bytes.NewReader(data), "f.gor"), "f.gor", "record", len(data))
	})
}

// FuzzSort checks that sorting keeps every exchange and error of a HAR
// file, whatever its content, with runs small enough to spill.
func FuzzSort(f *testing.F) {
	addFiles(f, "testdata/*.har")
	f.Fuzz(func(t *testing.T, data []byte) {
		plain := readAll(t, NewHARReader(bytes.NewReader(data), "f.har"), len(data)+2)
		sorted := readAll(t, Sort(NewHARReader(bytes.NewReader(data), "f.har"), SortOptions{RunRecords: 2, TempDir: t.TempDir()}), len(data)+2)
		count := func(results []result) (exchanges int, errs map[string]bool) {
			errs = map[string]bool{}
			for _, r := range results {
				if r.err != nil {
					errs[r.err.Error()] = true
				} else {
					exchanges++
				}
			}
			return exchanges, errs
		}
		plainExchanges, plainErrs := count(plain)
		sortedExchanges, sortedErrs := count(sorted)
		if plainExchanges != sortedExchanges || !maps.Equal(plainErrs, sortedErrs) {
			t.Fatalf("sorting changed the results: %d exchanges and errors %v, then %d and %v", plainExchanges, plainErrs, sortedExchanges, sortedErrs)
		}
		for i := 1; i < len(sorted); i++ {
			a, b := sorted[i-1], sorted[i]
			if a.err == nil && b.err == nil && b.exchange.Time.Before(a.exchange.Time) {
				t.Fatalf("%s comes after %s but is earlier", b.exchange.Origin, a.exchange.Origin)
			}
		}
	})
}

// addFiles seeds a fuzzer with the test files, on top of the corpus under
// testdata/fuzz/.
func addFiles(f *testing.F, patterns ...string) {
	for _, pattern := range patterns {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// checkReader reads everything and checks the reader's promises: it ends,
// every error is a *RecordError or names the file, every exchange is
// well formed, and writing an exchange as JSONL and reading it back gives
// it again.
func checkReader(t *testing.T, r Reader, name, unit string, size int) {
	var last error
	for range size + 2 {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if err == last {
				return // sticky: the stream ended
			}
			last = err
			checkError(t, err, name, unit)
			continue
		}
		checkExchange(t, ex, name+": "+unit+" ")
	}
	t.Fatalf("reader did not end after %d calls to Next", size+2)
}

func checkError(t *testing.T, err error, name, unit string) {
	var recordErr *RecordError
	if errors.As(err, &recordErr) {
		if recordErr.File != name || recordErr.Unit != unit || recordErr.Record < 1 {
			t.Fatalf("bad RecordError %#v", recordErr)
		}
		return
	}
	if unit == "line" {
		t.Fatalf("a JSONL reader over bytes returned a file-level error: %v", err)
	}
	if !strings.HasPrefix(err.Error(), name+": ") {
		t.Fatalf("file-level error does not name the file: %v", err)
	}
}

func checkExchange(t *testing.T, ex framework.Exchange, originPrefix string) {
	if !strings.HasPrefix(ex.Origin, originPrefix) {
		t.Fatalf("origin %q", ex.Origin)
	}
	req := ex.Request
	if !isToken(req.Method) || strings.ToUpper(req.Method) != req.Method {
		t.Fatalf("method %q", req.Method)
	}
	if !strings.HasPrefix(req.URL, "/") || strings.Contains(req.URL, "#") {
		t.Fatalf("URL %q is not in origin form", req.URL)
	}
	for name := range req.Header {
		if isPseudoHeader(name) || name == "Host" || name == "Connection" {
			t.Fatalf("header %q kept", name)
		}
	}
	if req.Body != nil && len(req.Body) == 0 {
		t.Fatal("empty body is not nil")
	}
	var line bytes.Buffer
	if err := WriteJSONL(&line, ex); err != nil {
		t.Fatalf("WriteJSONL: %v", err)
	}
	if n := bytes.Count(line.Bytes(), []byte("\n")); n != 1 {
		t.Fatalf("WriteJSONL wrote %d lines: %s", n, line.Bytes())
	}
	back, err := decodeJSONL(line.Bytes())
	if err != nil {
		t.Fatalf("reading back %s: %v", line.Bytes(), err)
	}
	if diff := sameExchange(back, ex); diff != "" {
		t.Fatalf("round trip through %s: %s", line.Bytes(), diff)
	}
}
