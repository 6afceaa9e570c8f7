package traffic

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// readAllWarned reads a recording through WarnCutShort, as run, init
// --from and traffic convert do, returning the URLs and the warnings.
func readAllWarned(t *testing.T, src framework.TrafficSource) (urls, warnings []string, err error) {
	t.Helper()
	r, err := Open(src, "")
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	r = WarnCutShort(r, func(err error) { warnings = append(warnings, err.Error()) })
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			return urls, warnings, nil
		}
		if err != nil {
			return urls, warnings, err
		}
		urls = append(urls, ex.Request.URL)
	}
}

func cutLine(i int) string {
	return fmt.Sprintf(`{"request":{"method":"GET","url":"/items/%d"},"response":{"status":200,"body":"%s"}}`, i, strings.Repeat("ab", i%7*10)) + "\n"
}

// A gzipped recording cut at any byte, as a proxy killed between (or
// during) two flushes leaves it, yields every record flushed before the
// cut, in order, with one warning naming the file and the line, and never
// an error.
func TestAGzipRecordingCutAnywhereKeepsItsGoodRecords(t *testing.T) {
	const lines, flushEvery = 40, 5
	var stream bytes.Buffer
	zw := gzip.NewWriter(&stream)
	var flushedAt []int // stream size after each flush, and the lines it holds
	var flushedLines []int
	for i := range lines {
		zw.Write([]byte(cutLine(i)))
		if i%flushEvery == flushEvery-1 {
			zw.Flush()
			flushedAt, flushedLines = append(flushedAt, stream.Len()), append(flushedLines, i+1)
		}
	}
	zw.Close()
	whole := stream.Bytes()
	path := filepath.Join(t.TempDir(), "live.jsonl.gz")
	for cut := 0; cut <= len(whole); cut++ {
		if err := os.WriteFile(path, whole[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		urls, warnings, err := readAllWarned(t, framework.TrafficSource{Format: "jsonl", Path: path})
		if err != nil {
			t.Fatalf("cut at byte %d of %d: %v", cut, len(whole), err)
		}
		for i, u := range urls {
			if u != fmt.Sprintf("/items/%d", i) {
				t.Fatalf("cut at byte %d: record %d is %s", cut, i, u)
			}
		}
		want := 0
		for k, at := range flushedAt {
			if cut >= at {
				want = flushedLines[k]
			}
		}
		if len(urls) < want {
			t.Fatalf("cut at byte %d: %d records read, want at least the %d flushed before the cut", cut, len(urls), want)
		}
		switch {
		case cut == len(whole):
			if len(warnings) != 0 || len(urls) != lines {
				t.Fatalf("the whole file: %d records, warnings %v", len(urls), warnings)
			}
		case len(warnings) != 1:
			t.Fatalf("cut at byte %d: warnings %q, want one", cut, warnings)
		case !strings.HasPrefix(warnings[0], path+": line "+fmt.Sprint(len(urls)+1)) || !strings.Contains(warnings[0], "cut short"):
			t.Fatalf("cut at byte %d after %d records: warning %q, want the file and line %d", cut, len(urls), warnings[0], len(urls)+1)
		}
	}
}

func TestAPlainRecordingCutMidLineWarnsAndKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	var whole strings.Builder
	for i := range 3 {
		whole.WriteString(cutLine(i))
	}
	tests := []struct {
		reason, content string
		urls            int
		warning         string // "" for none
	}{
		{"a record cut mid-way", whole.String() + cutLine(3)[:30], 3, "line 4 (byte "},
		{"the zeros a power loss leaves after the last write", whole.String() + cutLine(3)[:10] + strings.Repeat("\x00", 4096), 3, "line 4 (byte "},
		{"a last line without its newline is a record when it decodes", whole.String() + strings.TrimSuffix(cutLine(3), "\n"), 4, ""},
		{"a whole file", whole.String(), 3, ""},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, fmt.Sprintf("t%d.jsonl", i))
		os.WriteFile(path, []byte(tt.content), 0o644)
		urls, warnings, err := readAllWarned(t, framework.TrafficSource{Format: "jsonl", Path: path})
		if err != nil {
			t.Fatalf("%s: %v", tt.reason, err)
		}
		if len(urls) != tt.urls {
			t.Errorf("%s: %d records, want %d", tt.reason, len(urls), tt.urls)
		}
		if tt.warning == "" && len(warnings) != 0 || tt.warning != "" && (len(warnings) != 1 || !strings.HasPrefix(warnings[0], path+": "+tt.warning)) {
			t.Errorf("%s: warnings %q, want %q", tt.reason, warnings, tt.warning)
		}
	}
	// A malformed record with its newline is a bad record, as before: a
	// cut is only ever at the end.
	path := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(path, []byte(cutLine(0)+`{"request":`+"\n"+cutLine(2)), 0o644)
	_, _, err := readAllWarned(t, framework.TrafficSource{Format: "jsonl", Path: path})
	var bad *RecordError
	if !errors.As(err, &bad) || errors.Is(err, ErrCutShort) || bad.Record != 2 {
		t.Fatalf("a broken middle line: %v, want a RecordError at line 2", err)
	}
}

// A directory holding a killed proxy's cut file before later recordings:
// the cut is said, and the files after it are read.
func TestACutFileInADirectoryDoesNotStopTheNextFiles(t *testing.T) {
	dir := t.TempDir()
	gz := func(name string, content string, finish bool) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(content))
		if finish {
			zw.Close()
		} else {
			zw.Flush()
		}
		os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
	}
	gz("shadowtest-20261130T031500.000Z-000001.jsonl.gz", cutLine(0)+cutLine(1), false) // killed: no gzip trailer
	os.WriteFile(filepath.Join(dir, "shadowtest-20261130T031501.000Z-000001.jsonl.gz"), nil, 0o644)
	gz("shadowtest-20261130T031600.000Z-000001.jsonl.gz", cutLine(2), true)
	urls, warnings, err := readAllWarned(t, framework.TrafficSource{Format: "jsonl", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(urls, " ") != "/items/0 /items/1 /items/2" {
		t.Fatalf("read %v", urls)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "000001.jsonl.gz: line 3 ") || !strings.Contains(warnings[1], "031501.000Z-000001.jsonl.gz: line 1: ") {
		t.Fatalf("warnings %q", warnings)
	}
	// Without WarnCutShort, the cut is a *RecordError, as a bad record is.
	r, _ := Open(framework.TrafficSource{Format: "jsonl", Path: dir}, "")
	defer r.Close()
	for {
		_, err := r.Next()
		var bad *RecordError
		if errors.As(err, &bad) && errors.Is(err, ErrCutShort) {
			break
		}
		if err != nil {
			t.Fatalf("want the cut as a RecordError, got %v", err)
		}
	}
}

// After a power loss a file may end in zeros where the last writes did not
// reach the disk: the gzip stream is damaged there, and what came before
// is read. A GoReplay recording cut the same way is still an error: its
// records have no line to tell a whole one from half of one.
func TestAGzipRecordingEndingInZerosKeepsItsGoodRecords(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(cutLine(0) + cutLine(1)))
	zw.Flush()
	zw.Write([]byte(cutLine(2)))
	b.Write(make([]byte, 4096))
	path := filepath.Join(t.TempDir(), "live.jsonl.gz")
	os.WriteFile(path, b.Bytes(), 0o644)
	urls, warnings, err := readAllWarned(t, framework.TrafficSource{Format: "jsonl", Path: path})
	if err != nil || len(urls) != 2 || len(warnings) != 1 || !strings.HasPrefix(warnings[0], path+": line 3 ") {
		t.Fatalf("read %v, warnings %q, error %v", urls, warnings, err)
	}

	b.Reset()
	zw = gzip.NewWriter(&b)
	zw.Write([]byte("1 a 1764064800000000000\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n\n" + GorSeparator + "\n1 b 1764064800000000001\nGET /b HTTP/1.1\r\nHost: x\r\n"))
	zw.Flush()
	gor := filepath.Join(t.TempDir(), "t.gor.gz")
	os.WriteFile(gor, b.Bytes(), 0o644)
	_, warnings, err = readAllWarned(t, framework.TrafficSource{Format: "gor", Path: gor})
	if err == nil || len(warnings) != 0 || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("a cut GoReplay recording: warnings %q, error %v, want the error", warnings, err)
	}
}

// A gzipped recording damaged in the middle (a byte changed, data after
// it) is an error, not a cut tail: read as a cut, a run would replay the
// records before the damage, skip the rest with a warning, and stay green
// on a fraction of its traffic (redteam5).
func TestAGzipRecordingDamagedInTheMiddleIsAnError(t *testing.T) {
	const lines = 400
	var stream bytes.Buffer
	zw := gzip.NewWriter(&stream)
	for i := range lines {
		zw.Write([]byte(cutLine(i)))
		if i%5 == 4 {
			zw.Flush()
		}
	}
	zw.Close()
	whole := stream.Bytes()
	path := filepath.Join(t.TempDir(), "live.jsonl.gz")
	for at := 10; at < len(whole)-8; at += 3 { // the deflate data, not the header
		damaged := bytes.Clone(whole)
		damaged[at] ^= 0xff
		if err := os.WriteFile(path, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		urls, warnings, err := readAllWarned(t, framework.TrafficSource{Format: "jsonl", Path: path})
		if err == nil && len(urls) < lines {
			t.Fatalf("byte %d of %d changed: %d records of %d read with warnings %q and no error", at, len(whole), len(urls), lines, warnings)
		}
	}
}
