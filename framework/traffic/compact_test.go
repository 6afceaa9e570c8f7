package traffic

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestCompactValid: recorded RPC messages lose the space between tokens
// and keep every byte of their strings, as with json.Compact.
func TestCompactValid(t *testing.T) {
	for _, in := range []string{
		`{"a": 1, "b" :[ 1 ,2 ], "c":	"x y"}`,
		"{\n  \"s\": \"a \\\" b \\\\\",\n  \"t\": \"\\\\\"\n}",
		`{"u":"\u00e9 ", "v": {"w" : [ ] } }`,
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := compactValid([]byte(in)); string(got) != want.String() {
			t.Errorf("compactValid(%s) = %s, want %s", in, got, want.String())
		}
	}
}
