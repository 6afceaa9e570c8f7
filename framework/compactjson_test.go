package framework

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestCompactJSON: the in-place compaction of protojson's output and of
// recorded RPC messages removes the space between tokens and keeps every
// byte of the strings (spaces, escaped quotes and backslashes), as
// encoding/json's Compact does.
func TestCompactJSON(t *testing.T) {
	for _, in := range []string{
		`{"a": 1, "b" :[ 1 ,2 ], "c":	"x y"}`,
		"{\n  \"s\": \"a \\\" b \\\\\",\n  \"t\": \"\\\\\"\n}",
		`{"u":"\u00e9 ", "v": {"w" : [ ] } }`,
		`[ ]`,
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := CompactJSON([]byte(in)); string(got) != want.String() {
			t.Errorf("CompactJSON(%s) = %s, want %s", in, got, want.String())
		}
	}
}
