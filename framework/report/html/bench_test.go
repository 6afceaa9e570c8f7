package html_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/observe"
	reporthtml "github.com/shadowtest/shadowtest/framework/report/html"
)

// BenchmarkWrite renders a report of 50 endpoints with 10 categories each
// and 5 example pairs per category (2,500 pairs side by side).
func BenchmarkWrite(b *testing.B) {
	var endpoints []framework.Endpoint
	for i := range 50 {
		endpoints = append(endpoints, framework.Endpoint{Name: fmt.Sprintf("endpoint-%02d", i), Method: "GET", Path: fmt.Sprintf("/e%d/{id}", i)})
	}
	results := observe.NewResults(endpoints)
	log := disclog.NewWriter(io.Discard, disclog.Options{Examples: 5})
	body := []byte(`{"id":7,"name":"Ada","items":[{"sku":"A-1","price":9.99},{"sku":"B-2","price":19.5}],"total":29.49,"currency":"EUR"}`)
	for _, e := range endpoints {
		for c := range 10 {
			for range 20 {
				p := &framework.Pair{Endpoint: e.Name, Exchange: framework.Exchange{Origin: "t.har: entry 1", Request: framework.Request{Method: "GET", URL: "/x"}},
					Prod: framework.Response{Status: 200, Body: body, Latency: time.Millisecond}, Shadow: framework.Response{Status: 200, Body: body, Latency: 2 * time.Millisecond}}
				diffs := []framework.Diff{{Path: fmt.Sprintf("$.items[1].f%d", c), Kind: framework.KindValue, Prod: "1", Shadow: "2"}}
				results.Add(p, diffs)
				log.Add(p, diffs)
			}
		}
	}
	data := reporthtml.Data{Results: results, Examples: log.Examples()}
	var size countingWriter
	if err := reporthtml.Write(&size, data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := reporthtml.Write(io.Discard, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/report")
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
