package observe

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// TestRandomKeysFold: a shadow adding random keys to every response leaves
// a bounded number of categories, the random names folded to $.*, while
// pairs, matches and the pairs of each category are counted exactly.
func TestRandomKeysFold(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "a"}})
	const pairs = 400
	for i := range pairs {
		var diffs []framework.Diff
		for k := range 50 {
			diffs = append(diffs, framework.Diff{Path: fmt.Sprintf("$.k%d_%d", i, k), Kind: framework.KindExtra, Shadow: "1"})
		}
		diffs = append(diffs, framework.Diff{Path: "$.price", Kind: framework.KindValue, Prod: "1", Shadow: "2"})
		addPair(r, "a", time.Millisecond, "", diffs...)
	}
	addPair(r, "a", time.Millisecond, "") // one match
	e := r.Endpoint("a")
	if e.Pairs != pairs+1 || e.Matches != 1 {
		t.Errorf("pairs %d matches %d, want %d and 1", e.Pairs, e.Matches, pairs+1)
	}
	if len(e.Categories) > FoldAfter+2 {
		t.Errorf("%d categories, want at most %d: the random keys must fold", len(e.Categories), FoldAfter+2)
	}
	if c := e.Categories["extra $.*"]; c == nil || c.Count != pairs {
		t.Errorf("folded category: %+v, want every pair counted once", c)
	}
	if c := e.Categories["value $.price"]; c == nil || c.Count != pairs {
		t.Errorf("a member seen in every pair keeps its name and its exact count: %+v", c)
	}
}

// TestCategoriesCapped: distinct paths that do not fold (one new parent per
// pair) stop at MaxCategories; the rest are counted under OtherCategory,
// once per pair, and merging shards keeps the cap.
func TestCategoriesCapped(t *testing.T) {
	shard := func(offset int) *Results {
		r := NewResults([]framework.Endpoint{{Name: "a"}})
		for i := range 3 * MaxCategories {
			// 32 parents of 32 members each: nothing folds, 1024 names.
			path := fmt.Sprintf("$[%d].p%d.q%d", i, (i+offset)%FoldAfter, (i+offset)/FoldAfter)
			addPair(r, "a", time.Millisecond, "",
				framework.Diff{Path: path, Kind: framework.KindValue},
				framework.Diff{Path: "$.same", Kind: framework.KindValue})
		}
		return r
	}
	r := shard(0)
	e := r.Endpoint("a")
	if len(e.Categories) != MaxCategories+1 {
		t.Fatalf("%d categories, want %d and the other bucket", len(e.Categories), MaxCategories)
	}
	other := e.Categories[OtherCategory]
	// $.same takes one of the places; every later pair brings a new path.
	if other == nil || other.Count != 3*MaxCategories-(MaxCategories-1) || !strings.HasPrefix(other.Example.Path, "$[") {
		t.Fatalf("other bucket %+v, want the overflow counted with an example", other)
	}
	if e.Pairs != 3*MaxCategories || e.Matches != 0 {
		t.Errorf("pairs %d matches %d, want every pair counted", e.Pairs, e.Matches)
	}
	merged := shard(0)
	merged.Endpoint("a").Merge(shard(7).Endpoint("a"))
	if n := len(merged.Endpoint("a").Categories); n != MaxCategories+1 {
		t.Errorf("merged shards: %d categories, want %d", n, MaxCategories+1)
	}
	if m := merged.Endpoint("a"); m.Pairs != 6*MaxCategories {
		t.Errorf("merged pairs %d", m.Pairs)
	}
}
