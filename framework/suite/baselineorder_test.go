package suite

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestNewCategoriesDoNotDependOnArrivalOrder: an endpoint answering a map
// keyed by ids ({"users":{"u17":{...}}}) with differences under more ids
// than observe.FoldAfter keeps names for: which ids keep their names and
// which fold into "value $.users.*.name" depends on the order pairs
// arrive, which concurrency changes from run to run. Two runs of the same
// traffic against the same services then disagreed, and the baseline's
// "no new discrepancy category" failed the second run (redteam6). A
// category a folded one covers, either way, is not new.
func TestNewCategoriesDoNotDependOnArrivalOrder(t *testing.T) {
	endpoint := framework.Endpoint{Name: "users", Method: "GET", Path: "/users"}
	run := func(seed uint64) *observe.Endpoint {
		ids := make([]int, 80)
		for i := range ids {
			ids[i] = i
		}
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		results := observe.NewResults([]framework.Endpoint{endpoint})
		for _, id := range ids {
			path := fmt.Sprintf("$.users.u%d.name", id)
			results.Add(&framework.Pair{Endpoint: "users"}, []framework.Diff{{Path: path, Kind: framework.KindValue, Prod: `"a"`, Shadow: `"b"`}})
		}
		return results.Endpoint("users")
	}
	baseline := run(1)
	for seed := uint64(2); seed < 6; seed++ {
		if msg := NewCategories(run(seed), baseline); msg != "" {
			t.Fatalf("the same differences in another order:\n%s", msg)
		}
	}
	// A category that is new indeed is still reported.
	results := observe.NewResults([]framework.Endpoint{endpoint})
	results.Add(&framework.Pair{Endpoint: "users"}, []framework.Diff{{Path: "$.total", Kind: framework.KindValue, Prod: "1", Shadow: "2"}})
	if msg := NewCategories(results.Endpoint("users"), baseline); msg == "" {
		t.Fatal("value $.total is new, and was not reported")
	}
}
