package traffic

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestWrittenLinesAlwaysReadBack: a body of control bytes is valid UTF-8,
// but JSON escapes each byte as \u0000 (6 bytes): 11 MiB of them made a
// 66 MiB line, past MaxLineBytes, so the reader refused the line its own
// writer (the recorder, traffic convert) wrote. A body that escapes to
// more than its base64 is written as bodyBase64; ordinary text stays
// text.
func TestWrittenLinesAlwaysReadBack(t *testing.T) {
	controls := bytes.Repeat([]byte{0}, 11<<20)
	ex := framework.Exchange{
		Request:  framework.Request{Method: "POST", URL: "/upload", Body: controls},
		Recorded: &framework.Response{Status: 200, Body: []byte(`{"note":"line one\nline two","ok":true}`)},
	}
	var line bytes.Buffer
	if err := WriteJSONL(&line, ex); err != nil {
		t.Fatal(err)
	}
	if line.Len() > MaxLineBytes {
		t.Errorf("the line is %d MiB, past MaxLineBytes (%d MiB)", line.Len()>>20, MaxLineBytes>>20)
	}
	back, err := NewJSONLReader(bytes.NewReader(line.Bytes()), "t.jsonl").Next()
	if err != nil {
		t.Fatalf("reading back the written line: %v", err)
	}
	if !bytes.Equal(back.Request.Body, controls) || string(back.Recorded.Body) != string(ex.Recorded.Body) {
		t.Errorf("the bodies did not round-trip: %d bytes, %q", len(back.Request.Body), back.Recorded.Body)
	}
	if i := strings.Index(line.String(), `"response"`); i < 0 || !strings.Contains(line.String()[i:], `"body":"{\"note\":`) {
		t.Errorf("a JSON text body is no longer written as text: %s", line.String()[max(i, 0):])
	}
}
