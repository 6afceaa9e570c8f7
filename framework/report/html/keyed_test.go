package html

import (
	"strings"
	"testing"
)

// TestKeyedPathsAreHighlighted: a difference reported at a keyed-set
// element ($.orders[id=7].total, the comparator's keyed sets) marks the
// lines of the element carrying that key, wherever it sits in the array.
func TestKeyedPathsAreHighlighted(t *testing.T) {
	doc := `{"orders":[{"id":3,"total":1},{"id":7,"total":2},{"id":9,"total":3}],"tags":[{"sku":"A-1","n":5}]}`
	tests := []struct {
		mark, want, reason string
	}{
		{"$.orders[id=7].total", `"total": 2`, "a numeric key: the second element's total"},
		{`$.tags[sku="A-1"].n`, `"n": 5`, "a string key"},
		{"$.orders[1].total", `"total": 2`, "a plain index still works"},
	}
	for _, tt := range tests {
		lines := jsonLines(doc, map[string]bool{tt.mark: true})
		var marked []string
		for _, l := range lines {
			if l.Diff {
				marked = append(marked, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l.Text), ",")))
			}
		}
		if len(marked) != 1 || marked[0] != tt.want {
			t.Errorf("%s: marked %q, want only %q (%s)", tt.mark, marked, tt.want, tt.reason)
		}
	}
	if lines := jsonLines(doc, map[string]bool{"$.orders[id=8].total": true}); anyMarked(lines) {
		t.Error("a key that no element carries marks nothing")
	}
}

func anyMarked(lines []lineView) bool {
	for _, l := range lines {
		if l.Diff {
			return true
		}
	}
	return false
}
