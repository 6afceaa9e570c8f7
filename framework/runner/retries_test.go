package runner

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestRetriesCountedInResults: a shadow that resets every request is sent
// each request exactly retries+1 times, and the results count the retries;
// prod, which answers, is sent each request once.
func TestRetriesCountedInResults(t *testing.T) {
	const n = 10
	prod, prodHits := serve(t, http.HandlerFunc(item))
	shadow, shadowHits := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}))
	plan := testPlan(t, prod.URL, shadow.URL, n)
	plan.Shadow.Retries = 1
	results := observe.NewResults(plan.Endpoints)
	if err := Run(context.Background(), plan, results, Options{}); err != nil {
		t.Fatal(err)
	}
	e := results.Endpoint("items")
	if shadowHits.n.Load() != 2*n || e.ShadowRetries != n || e.ShadowErrors["reset"] != n {
		t.Errorf("shadow: %d attempts, %d retries counted, errors %v; want %d, %d, reset=%d",
			shadowHits.n.Load(), e.ShadowRetries, e.ShadowErrors, 2*n, n, n)
	}
	if prodHits.n.Load() != n || e.ProdRetries != 0 {
		t.Errorf("prod: %d attempts, %d retries; want %d and 0", prodHits.n.Load(), e.ProdRetries, n)
	}
}
