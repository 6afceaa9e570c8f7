package rpc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestCompact: the in-place compaction of protojson's output removes the
// space between tokens and keeps every byte of the strings (spaces,
// escaped quotes and backslashes), as encoding/json's Compact does.
func TestCompact(t *testing.T) {
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
		if got := compact([]byte(in)); string(got) != want.String() {
			t.Errorf("compact(%s) = %s, want %s", in, got, want.String())
		}
	}
}
