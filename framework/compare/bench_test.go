package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
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

// orderShapeRules are the five rules with shape rules where the values
// may differ: the request id must look like one, the creation time must be
// a time, and each item's href keeps its shape instead of being masked.
var orderShapeRules = framework.Rules{
	Shape: map[string]framework.ShapeRule{
		"$.requestId":       {Pattern: `^req-[0-9]+$`},
		"$.createdAt":       {Format: "rfc3339"},
		"$.items[*].href":   {Pattern: `^/catalog/[0-9a-f-]{36}/items/[0-9]+$`},
		"$.customer.email":  {Format: "string"},
		"$.shipping.street": {Format: "string"},
	},
	Tolerance: map[string]framework.Tolerance{"$..price": {Abs: 0.01}, "$.total": {Abs: 0.05}},
	Unordered: []framework.Unordered{{Path: "$.items", Key: "sku"}},
}

// BenchmarkCompareShapes compares the order pair under orderShapeRules.
func BenchmarkCompareShapes(b *testing.B) {
	prodBody, shadowBody := orderPair()
	c := mustCompile(b, orderShapeRules)
	prod, shadow := jsonResponse(string(prodBody)), jsonResponse(string(shadowBody))
	if diffs := c.Compare(prod, shadow); len(diffs) != 2 {
		b.Fatalf("want the one planted diff, got:\n%s", formatDiffs(diffs))
	}
	b.SetBytes(int64(len(prodBody) + len(shadowBody)))
	b.ReportAllocs()
	for b.Loop() {
		c.Compare(prod, shadow)
	}
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

// TestCompareDecodeRatio measures BenchmarkCompareRules and
// BenchmarkCompareShapes against BenchmarkDecodeBoth in one process and
// prints the ratio of their times per operation. The two alternate in short rounds, so that load from other
// processes hits both alike, and the medians over the rounds are compared.
// It measures only with -ratio (timing has no place in ordinary test runs):
//
//	go test ./framework/compare -run TestCompareDecodeRatio -ratio -count 5 -v
func TestCompareDecodeRatio(t *testing.T) {
	prodBody, shadowBody := orderPair()
	t.Logf("pair: %d + %d bytes", len(prodBody), len(shadowBody))
	if !*ratio {
		t.Skip("measures only with -ratio")
	}
	for _, set := range []struct {
		name  string
		rules framework.Rules
	}{{"five rules", orderRules}, {"shape rules", orderShapeRules}} {
		c := mustCompile(t, set.rules)
		prod, shadow := jsonResponse(string(prodBody)), jsonResponse(string(shadowBody))
		if diffs := c.Compare(prod, shadow); len(diffs) != 2 {
			t.Fatalf("%s: want the one planted diff, got:\n%s", set.name, formatDiffs(diffs))
		}
		const rounds, perRound = 41, 200
		compareTimes, decodeTimes, ratios := make([]float64, rounds), make([]float64, rounds), make([]float64, rounds)
		for r := range rounds {
			start := time.Now()
			for range perRound {
				c.Compare(prod, shadow)
			}
			compareTimes[r] = float64(time.Since(start)) / perRound
			start = time.Now()
			for range perRound {
				var p, s any
				if json.Unmarshal(prodBody, &p) != nil || json.Unmarshal(shadowBody, &s) != nil {
					t.Fatal("invalid JSON")
				}
			}
			decodeTimes[r] = float64(time.Since(start)) / perRound
			ratios[r] = compareTimes[r] / decodeTimes[r]
		}
		allocs := testing.AllocsPerRun(100, func() { c.Compare(prod, shadow) })
		fmt.Printf("%s: compare %.0f ns/op (%.0f allocs/op) | decode both %.0f ns/op | ratio of medians %.3f | median ratio %.3f\n",
			set.name, median(compareTimes), allocs, median(decodeTimes), median(compareTimes)/median(decodeTimes), median(ratios))
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	slices.Sort(s)
	return s[len(s)/2]
}
