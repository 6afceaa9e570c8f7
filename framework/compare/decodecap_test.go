package compare

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestDecodeCapBoundsDecompression: a gzip body that expands past
// MaxDecodedBytes is not decompressed further; the pair is reported as a
// body type difference naming the cap, while a body under the cap compares
// normally.
func TestDecodeCapBoundsDecompression(t *testing.T) {
	gz := func(size int) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(`{"pad":"` + strings.Repeat("a", size) + `"}`))
		w.Close()
		return buf.Bytes()
	}
	response := func(body []byte, encoding string) *framework.Response {
		h := http.Header{"Content-Type": {"application/json"}}
		if encoding != "" {
			h.Set("Content-Encoding", encoding)
		}
		return &framework.Response{Status: 200, Header: h, Body: body}
	}
	plain := []byte(`{"pad":"` + strings.Repeat("a", 4000) + `"}`)
	c, err := Compile(framework.Rules{MaxDecodedBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	diffs := c.Compare(response(plain, ""), response(gz(4000), "gzip"))
	if len(diffs) != 1 || diffs[0].Kind != framework.KindType || !strings.Contains(diffs[0].Shadow, "exceeds 2048 bytes") {
		t.Errorf("a body expanding past the cap: diffs %+v, want one type diff naming the cap", diffs)
	}
	c, err = Compile(framework.Rules{MaxDecodedBytes: 8192})
	if err != nil {
		t.Fatal(err)
	}
	if diffs := c.Compare(response(plain, ""), response(gz(4000), "gzip")); len(diffs) != 0 {
		t.Errorf("a body under the cap must decode and match: %+v", diffs)
	}
	if _, err := Compile(framework.Rules{MaxDecodedBytes: -1}); err == nil {
		t.Error("a negative cap must be refused")
	}
}
