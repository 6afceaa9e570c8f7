package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// BenchmarkCompareJSON compares a pair of about 3 KB that differ in one
// leaf, under a few rules: the common case the streaming comparator must
// beat.
func BenchmarkCompareJSON(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	items := make([]any, 30)
	for i := range items {
		items[i] = map[string]any{"id": json.Number(strconv.Itoa(i)), "name": "item", "price": json.Number("9.99"), "tags": []any{"a", "b"}, "requestId": "r"}
	}
	var prodBody, shadowBody bytes.Buffer
	writeJSON(&prodBody, rng, map[string]any{"items": items}, false)
	items[7].(map[string]any)["name"] = "changed"
	writeJSON(&shadowBody, rng, map[string]any{"items": items}, true)
	c := mustCompile(b, framework.Rules{Ignore: []string{"$..requestId"}, Tolerance: map[string]framework.Tolerance{"$.items[*].price": {Abs: 0.01}}})
	prod, shadow := jsonResponse(prodBody.String()), jsonResponse(shadowBody.String())
	b.SetBytes(int64(prodBody.Len() + shadowBody.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if len(c.Compare(prod, shadow)) != 1 {
			b.Fatal("want one diff")
		}
	}
}

// orderPair builds a realistic order document of about 3 KB as prod sends
// it, and the shadow's answer to the same request: one item moved,
// prices off by rounding, a timestamp a second later, a fresh request id
// and a fresh UUID inside a link, and one real change (an item's name):
// two diffs, the order of the moved item and the name.
func orderPair() (prod, shadow []byte) {
	type item struct {
		SKU   string   `json:"sku"`
		Name  string   `json:"name"`
		Qty   int      `json:"qty"`
		Price float64  `json:"price"`
		Tags  []string `json:"tags"`
		Href  string   `json:"href"`
	}
	build := func(reqID, uuid, at string, priceDelta float64, reorder bool, changed string) []byte {
		items := make([]item, 17)
		for i := range items {
			items[i] = item{SKU: fmt.Sprintf("SKU-%04d", 100+i), Name: fmt.Sprintf("Widget model %d", i), Qty: 1 + i%3,
				Price: 9.99 + float64(i) + priceDelta, Tags: []string{"hardware", "blue"},
				Href: "/catalog/" + uuid + "/items/" + strconv.Itoa(i)}
		}
		items[5].Name += changed
		if reorder { // the first item moves to the end
			items = append(items[1:], items[0])
		}
		doc := map[string]any{
			"requestId": reqID, "orderId": 918273, "status": "paid", "createdAt": at, "currency": "EUR",
			"customer": map[string]any{"id": 4411, "email": "ada@example.com", "name": "Ada Lovelace", "tier": "gold"},
			"shipping": map[string]any{"street": "12 Analytical Row", "city": "London", "zip": "N1 9GU", "country": "GB"},
			"items":    items, "total": 190.68 + 17*priceDelta,
		}
		b, _ := json.Marshal(doc)
		return b
	}
	prod = build("req-1", "0b9c2a4e-1111-4222-8333-944455556666", "2026-11-25T10:00:00Z", 0, false, "")
	shadow = build("req-2", "7f3e5d10-aaaa-4bbb-8ccc-9ddddeeeefff", "2026-11-25T10:00:01Z", 0.001, true, " v2")
	return prod, shadow
}

// orderRules are the five rules of the comparison benchmark: ignore,
// tolerance, keyed set, mask and skew.
var orderRules = framework.Rules{
	Ignore:    []string{"$.requestId"},
	Tolerance: map[string]framework.Tolerance{"$..price": {Abs: 0.01}, "$.total": {Abs: 0.05}, "$.createdAt": {Skew: 2 * time.Second}},
	Unordered: []framework.Unordered{{Path: "$.items", Key: "sku"}},
	Masks:     []framework.Mask{{Path: "$.items[*].href", Pattern: `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`}},
}

// BenchmarkCompareRules compares the ~3 KB order pair under five rules.
// Compare it with BenchmarkDecodeBoth, run side by side.
func BenchmarkCompareRules(b *testing.B) {
	prodBody, shadowBody := orderPair()
	c := mustCompile(b, orderRules)
	prod, shadow := jsonResponse(string(prodBody)), jsonResponse(string(shadowBody))
	if diffs := c.Compare(prod, shadow); len(diffs) != 2 || diffs[0].Path != `$.items[sku="SKU-0100"]` || diffs[1].Path != `$.items[sku="SKU-0105"].name` {
		b.Fatalf("want the one planted diff, got:\n%s", formatDiffs(diffs))
	}
	b.SetBytes(int64(len(prodBody) + len(shadowBody)))
	b.ReportAllocs()
	for b.Loop() {
		c.Compare(prod, shadow)
	}
}

// BenchmarkDecodeBoth decodes the same two bodies with encoding/json into
// any: the baseline the comparator must not be slower than.
func BenchmarkDecodeBoth(b *testing.B) {
	prodBody, shadowBody := orderPair()
	b.SetBytes(int64(len(prodBody) + len(shadowBody)))
	b.ReportAllocs()
	for b.Loop() {
		var p, s any
		if json.Unmarshal(prodBody, &p) != nil || json.Unmarshal(shadowBody, &s) != nil {
			b.Fatal("invalid JSON")
		}
	}
}

var ratio = flag.Bool("ratio", false, "TestCompareDecodeRatio: measure and print compare time / decode time")

// TestCompareDecodeRatio runs BenchmarkCompareRules and BenchmarkDecodeBoth
// in one process and prints the ratio of their times per operation. It
// measures only with -ratio (timing has no place in ordinary test runs):
//
//	go test ./framework/compare -run TestCompareDecodeRatio -ratio -count 5
func TestCompareDecodeRatio(t *testing.T) {
	prod, shadow := orderPair()
	t.Logf("pair: %d + %d bytes", len(prod), len(shadow))
	if !*ratio {
		t.Skip("measures only with -ratio")
	}
	cmp := testing.Benchmark(BenchmarkCompareRules)
	dec := testing.Benchmark(BenchmarkDecodeBoth)
	r := float64(cmp.NsPerOp()) / float64(dec.NsPerOp())
	fmt.Printf("compare %d ns/op %d allocs/op | decode both %d ns/op %d allocs/op | ratio %.3f\n",
		cmp.NsPerOp(), cmp.AllocsPerOp(), dec.NsPerOp(), dec.AllocsPerOp(), r)
}
