package runner

import (
	"context"
	"net/http"
	"testing"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// BenchmarkRun replays b.N requests to two loopback servers and compares
// every pair: the runner's own cost per request (go run ./fixtures/bench
// measures the binary against vegeta).
func BenchmarkRun(b *testing.B) {
	prod, _ := serve(b, http.HandlerFunc(item))
	shadow, _ := serve(b, http.HandlerFunc(item))
	plan := testPlan(b, prod.URL, shadow.URL, b.N)
	plan.Mirror.Concurrency = 8
	b.ReportAllocs()
	b.ResetTimer()
	if err := Run(context.Background(), plan, observe.NewResults(plan.Endpoints), Options{}); err != nil {
		b.Fatal(err)
	}
}
