package disclog

import (
	"io"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// BenchmarkAdd measures the log's cost per differing pair once every
// category is at its cap (the common case in a long run): the differences
// are redacted and one short line is written.
func BenchmarkAdd(b *testing.B) {
	body := []byte(`{"id":7,"name":"Ada","items":[{"sku":"A-1","price":9.99},{"sku":"B-2","price":19.5}],"total":29.49,"currency":"EUR"}`)
	p := pairWith("get-order", "t.har: entry 1", body, body)
	diffs := []framework.Diff{{Path: "$.currency", Kind: framework.KindMissing, Prod: `"EUR"`}}
	for _, bc := range []struct {
		name     string
		examples int
	}{{"capped", 1}, {"every-pair-an-example", 1 << 30}} {
		b.Run(bc.name, func(b *testing.B) {
			w := NewWriter(io.Discard, Options{Examples: bc.examples})
			if bc.examples > 1 {
				// keep memory flat: examples are kept for the HTML report
				w.examples = make([]Entry, 0, 1)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.Add(p, diffs)
				if bc.examples > 1 {
					w.examples = w.examples[:0]
				}
			}
		})
	}
}
