package traffic

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework"
)

// TestRecordErrorsNameByteOffsetAndQuoteSnippets checks what a bad record's
// error shows: the file, the record, the byte where the record starts, and
// of the record's content at most a short escaped snippet with secret
// values masked, never the raw URL or line.
func TestRecordErrorsNameByteOffsetAndQuoteSnippets(t *testing.T) {
	const secret = "Zk5ecret0ffset77"
	good := `{"request":{"method":"GET","url":"/a"}}` + "\n"
	tests := []struct {
		name, input string
		reader      func(string) Reader
		want        string
	}{
		{"t.jsonl", good + `{"request":{"method":"GET","url":"/x?token=` + secret + ` y"}}` + "\n",
			func(s string) Reader { return NewJSONLReader(strings.NewReader(s), "t.jsonl") },
			`t.jsonl: line 2 (byte 41): request.url: "/x?token=[REDACTED] y" contains white space or control characters`},
		{"t.jsonl", good + `{"request":{"method":"G\u001b[2JET","url":"/"}}` + "\n",
			func(s string) Reader { return NewJSONLReader(strings.NewReader(s), "t.jsonl") },
			`t.jsonl: line 2 (byte 41): request.method: "G\u001b[2JET" is not an HTTP method`},
		{"t.gor", "1 a 1764064800000000000\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n\n" + GorSeparator + "\nAUTH_TOKEN=" + secret + " x y\nGET / HTTP/1.1\r\n\r\n",
			func(s string) Reader { return NewGorReader(strings.NewReader(s), "t.gor") },
			`t.gor: record 2 (byte 67): meta line: type "AUTH_TOKEN=[REDACTED]": want 1 (request), 2 (response) or 3 (replayed response)`},
		{"t.gor", "1 a 1764064800000000000\nGET /a?api_key=" + secret + " HTTP/9\r\n\r\n",
			func(s string) Reader { return NewGorReader(strings.NewReader(s), "t.gor") },
			`t.gor: record 1 (byte 1): request: malformed HTTP version "HTTP/9"`},
		{"t.har", `{"log":{"entries":[{"request":{"method":"GET","url":"/a"}},{"request":{"method":"GET","url":"h?sig=` + secret + `"}}]}}`,
			func(s string) Reader { return NewHARReader(strings.NewReader(s), "t.har") },
			`t.har: entry 2 (byte 59): request.url: "h?sig=[REDACTED]" is neither an absolute URL nor a path`},
	}
	for _, tt := range tests {
		var err error
		r := tt.reader(tt.input)
		for err == nil {
			_, err = r.Next()
		}
		if err.Error() != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, err, tt.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the secret: %s", tt.name, err)
		}
	}
}

// TestNotRegularFilesAreRefused checks that a traffic path naming a FIFO,
// a device, a directory or a /proc entry is refused before anything is
// read from it: a spec could otherwise print the environment or a secret
// file in a format error.
func TestNotRegularFilesAreRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "traffic.jsonl")
	testenv.MakeFIFO(t, fifo)
	link := filepath.Join(t.TempDir(), "environ.jsonl")
	if err := os.Symlink("/proc/self/environ", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/proc/self/environ", "/dev/zero", fifo, t.TempDir(), link} {
		_, err := OpenFile(path, NewJSONLReader, framework.Position{})
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: got %v, want ErrNotRegular", path, err)
		}
	}
}
