package compare

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// FuzzCompare compares random body pairs as JSON. It checks that Compare
// never panics, that every diff has a valid path and short valid UTF-8
// values, that a body always matches itself and its re-indented form, and
// that swapping prod and shadow gives the same paths with missing and
// extra swapped.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,2,{"c":null}]}`), []byte(`{"b":[1.0,2,{"c":0}],"a":1,"d":"x"}`))
	f.Add([]byte(`[1e400,-0,0.1]`), []byte(`[1E400,0,0.10]`))
	f.Add([]byte(`{"requestId":"x","price":1.5}`), []byte(`{"price":"1.5"}`))
	f.Add([]byte(`{"a":`), []byte(`{}`))
	plain := mustCompile(f, framework.Rules{})
	ruled := mustCompile(f, framework.Rules{
		Ignore:    []string{"$..requestId", "$.b[*].c", "$[0]"},
		Tolerance: map[string]framework.Tolerance{"$..price": {Abs: 0.5}, "$[*]": {Rel: 0.01}},
	})
	sets := mustCompile(f, framework.Rules{
		Unordered: []framework.Unordered{{Path: "$.b"}, {Path: "$", Key: "id"}, {Path: "$..items", Key: "sku"}},
		Masks:     []framework.Mask{{Pattern: "[0-9a-f]{4}"}},
		Tolerance: map[string]framework.Tolerance{"$..at": {Skew: 2 * time.Second}},
	})
	f.Fuzz(func(t *testing.T, prod, shadow []byte) {
		for _, c := range []*Comparator{plain, ruled, sets} {
			diffs := c.Compare(jsonResponse(string(prod)), jsonResponse(string(shadow)))
			checkDiffs(t, diffs)
			for _, body := range [][]byte{prod, shadow} {
				if diffs := c.Compare(jsonResponse(string(body)), jsonResponse(string(body))); len(diffs) != 0 {
					t.Fatalf("%q does not match itself:\n%s", body, formatDiffs(diffs))
				}
				var indented bytes.Buffer
				if json.Indent(&indented, body, "", "  ") == nil && json.Valid(body) {
					if diffs := c.Compare(jsonResponse(string(body)), jsonResponse(indented.String())); len(diffs) != 0 {
						t.Fatalf("%q does not match its indented form:\n%s", body, formatDiffs(diffs))
					}
				}
			}
		}
		forward := plain.Compare(jsonResponse(string(prod)), jsonResponse(string(shadow)))
		backward := plain.Compare(jsonResponse(string(shadow)), jsonResponse(string(prod)))
		if len(forward) != len(backward) {
			t.Fatalf("swapping sides changed the diffs:\n%sversus\n%s", formatDiffs(forward), formatDiffs(backward))
		}
		swapped := map[framework.DiffKind]framework.DiffKind{framework.KindMissing: framework.KindExtra, framework.KindExtra: framework.KindMissing}
		for i := range forward {
			want := forward[i].Kind
			if s, ok := swapped[want]; ok {
				want = s
			}
			if backward[i].Path != forward[i].Path || backward[i].Kind != want ||
				backward[i].Prod != forward[i].Shadow || backward[i].Shadow != forward[i].Prod {
				t.Fatalf("swapping sides changed diff %d: %+v versus %+v", i, forward[i], backward[i])
			}
		}
	})
}

// checkDiffs checks what every diff must satisfy.
func checkDiffs(t *testing.T, diffs []framework.Diff) {
	t.Helper()
	for _, d := range diffs {
		if d.Path != "body" {
			if _, err := fieldpath.Parse(d.Path); err != nil || !strings.HasPrefix(d.Path, "$") {
				t.Fatalf("diff path %q is not a body path: %v", d.Path, err)
			}
		}
		for _, v := range []string{d.Prod, d.Shadow} {
			if !utf8.ValidString(v) || len(v) > displayLimit+len(ellipsis) {
				t.Fatalf("diff %+v: value %q is invalid UTF-8 or too long", d, v)
			}
		}
	}
}
