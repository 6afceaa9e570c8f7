package compare

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

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
