package runner

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// faultRequests is how many requests each fault case replays.
const faultRequests = 12

// hugeBody is the size of the "100 MB body" fault.
const hugeBody = 100 << 20

// fault is one way a target misbehaves, served on loopback.
type fault struct {
	name string
	// start returns the target URL (and the counting handler, nil when
	// nothing listens).
	start func(t *testing.T) (string, *counting)
	// timeout overrides the target's timeout.
	timeout time.Duration
}

// cappedHeap is the heap growth allowed when the body cap (1 MiB) is what
// bounds memory: four workers hold at most two capped bodies each, plus
// the comparator's work on them.
const cappedHeap = 64 << 20

func resetMidBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "1000")
	io.WriteString(w, `{"path":"`)
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(10 * time.Second):
	case <-r.Context().Done():
	}
}

var gzipBomb = sync.OnceValue(func() []byte {
	// 96 MiB of zeros compress to about 100 KB: under the body cap, so
	// the whole bomb reaches the comparator, and over its 64 MiB decode
	// cap, which is what must stop the inflation.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	writeZeros(zw, 96<<20)
	zw.Close()
	return buf.Bytes()
})

func faults() []fault {
	handler := func(h http.HandlerFunc) func(t *testing.T) (string, *counting) {
		return func(t *testing.T) (string, *counting) {
			srv, c := serve(t, h)
			return srv.URL, c
		}
	}
	return []fault{
		{name: "connection refused", start: func(t *testing.T) (string, *counting) { return closedURL(t), nil }},
		{name: "reset in the middle of a body", start: handler(resetMidBody)},
		{name: "slower than its timeout", start: handler(slow), timeout: 200 * time.Millisecond},
		{name: "storm of 5xx", start: handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"overloaded"}`)
		})},
		{name: "malformed JSON", start: handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"path":%q,"name":"widget","price":`, r.URL.Path)
		})},
		{name: "100 MB body", start: handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			writeZeros(w, hugeBody)
		})},
		// The compressed bomb (about 100 KB) is under the body cap; the
		// runner caps its decompression at the same cap (the plan's
		// maxBodyBytes, 1 MiB here), so it is bounded like the others.
		{name: "gzip bomb", start: handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipBomb())
		})},
		{name: "wrong content type", start: handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `{"path":%q,"name":"widget","price":12.5}`, r.URL.Path)
		})},
		{name: "redirect loop", start: handler(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		})},
		{name: "TLS failure", start: func(t *testing.T) (string, *counting) {
			c := &counting{Handler: http.HandlerFunc(item)}
			srv := httptest.NewTLSServer(c) // a certificate no client trusts
			t.Cleanup(srv.Close)
			return srv.URL, c
		}},
	}
}

// peakHeap samples the heap while fn runs and returns the highest value
// above the heap at the start.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		ticker := time.NewTicker(5 * time.Millisecond)
		defer ticker.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-ticker.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// outcome is what a fault case asserts: the shadow's error counts by kind
// and the discrepancy categories, with their counts.
type outcome struct {
	errors     string
	categories string
}

func describe(e *observe.Endpoint, errs map[string]int64) outcome {
	var kinds, cats []string
	for k, n := range errs {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	for name, c := range e.Categories {
		cats = append(cats, fmt.Sprintf("%s=%d", name, c.Count))
	}
	sort.Strings(kinds)
	sort.Strings(cats)
	return outcome{strings.Join(kinds, ","), strings.Join(cats, ",")}
}

// TestShadowFaultMatrix replays the same traffic against a healthy prod
// and a shadow failing in each way the issue lists. For each: the run
// finishes, prod's side is exactly what a healthy shadow would leave, the
// failure is counted under its kind, and the heap stays bounded.
func TestShadowFaultMatrix(t *testing.T) {
	want := map[string]outcome{
		"connection refused":            {"refused=12", "error response=12"},
		"reset in the middle of a body": {"reset=12", "error response=12"},
		"slower than its timeout":       {"timeout=12", "error response=12"},
		"storm of 5xx":                  {"5xx=12", "status status=12"},
		"malformed JSON":                {"", "type body=12"},
		"100 MB body":                   {"", "type body=12"},
		"gzip bomb":                     {"", "type body=12"},
		"wrong content type":            {"", "header header:Content-Type=12"},
		"redirect loop":                 {"", "status status=12"},
		"TLS failure":                   {"tls=12", "error response=12"},
	}
	for _, f := range faults() {
		t.Run(f.name, func(t *testing.T) {
			prod, prodHits := serve(t, http.HandlerFunc(item))
			shadowURL, _ := f.start(t)
			plan := testPlan(t, prod.URL, shadowURL, faultRequests)
			if f.timeout > 0 {
				plan.Shadow.Timeout = f.timeout
			}
			results := observe.NewResults(plan.Endpoints)
			var err error
			peak := peakHeap(func() { err = Run(context.Background(), plan, results, Options{}) })
			if err != nil {
				t.Fatalf("run: %v, want it to finish", err)
			}
			e := results.Endpoint("items")
			if e.Requests != faultRequests || e.Pairs != faultRequests || len(e.ProdErrors) != 0 || e.ProdLatency.Count() != faultRequests {
				t.Errorf("prod's side changed: %d requests, %d pairs, prod errors %v, %d prod latencies; want %d, %d, none, %d",
					e.Requests, e.Pairs, e.ProdErrors, e.ProdLatency.Count(), faultRequests, faultRequests, faultRequests)
			}
			if prodHits.n.Load() != faultRequests {
				t.Errorf("prod served %d requests, want exactly %d (no retries, no duplicates)", prodHits.n.Load(), faultRequests)
			}
			if got := describe(e, e.ShadowErrors); got != want[f.name] {
				t.Errorf("outcome %+v, want %+v", got, want[f.name])
			}
			if peak > cappedHeap {
				t.Errorf("heap grew by %d MiB, want under %d MiB: a body was not capped", peak>>20, cappedHeap>>20)
			}
			t.Logf("heap peak +%d MiB", peak>>20)
		})
	}
}

// TestProdFaultMatrix: the same faults on prod's side, where they apply. A
// prod that never answers ends the run as aborted, saying so; a prod that
// answers badly is compared like any answer, and its bodies are capped.
func TestProdFaultMatrix(t *testing.T) {
	const unreachable = "prod unreachable"
	tests := []struct {
		fault  string
		abort  string  // the abort reason's start; "" when the run completes
		want   outcome // prod's error counts and the categories, when it completes
		reason string
	}{
		{fault: "connection refused", abort: unreachable, reason: "every request fails: nothing to compare"},
		{fault: "reset in the middle of a body", abort: unreachable, reason: "no answer is ever complete"},
		{fault: "slower than its timeout", abort: unreachable, reason: "every request times out"},
		{fault: "TLS failure", abort: unreachable, reason: "no connection is ever established"},
		{fault: "storm of 5xx", want: outcome{"5xx=25", "status status=25"}, reason: "a 503 is an answer: compared, and counted as prod's error"},
		{fault: "100 MB body", want: outcome{"", "type body=25"}, reason: "cut at the cap, compared, memory bounded"},
		{fault: "redirect loop", want: outcome{"", "status status=25"}, reason: "the 302 itself is the answer, never followed"},
	}
	byName := map[string]fault{}
	for _, f := range faults() {
		byName[f.name] = f
	}
	const n = 25 // more than unreachableAfter
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			f := byName[tt.fault]
			shadow, _ := serve(t, http.HandlerFunc(item))
			prodURL, _ := f.start(t)
			plan := testPlan(t, prodURL, shadow.URL, n)
			if f.timeout > 0 {
				plan.Prod.Timeout = f.timeout
			}
			results := observe.NewResults(plan.Endpoints)
			var err error
			peak := peakHeap(func() { err = Run(context.Background(), plan, results, Options{}) })
			if tt.abort != "" {
				abort, ok := err.(*AbortError)
				if !ok || !strings.HasPrefix(abort.Reason, tt.abort) {
					t.Fatalf("run returned %v, want an abort starting %q (%s)", err, tt.abort, tt.reason)
				}
				if results.Aborted != abort.Reason {
					t.Errorf("results say aborted %q, want the reason %q", results.Aborted, abort.Reason)
				}
				if e := results.Endpoint("items"); e.Pairs != 0 || e.Matches != 0 {
					t.Errorf("%d pairs compared without a prod answer", e.Pairs)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v, want it to finish (%s)", err, tt.reason)
			}
			e := results.Endpoint("items")
			if got := describe(e, e.ProdErrors); got != tt.want || e.Pairs != n || len(e.ShadowErrors) != 0 {
				t.Errorf("outcome %+v with %d pairs and shadow errors %v; want %+v, %d pairs, none (%s)", got, e.Pairs, e.ShadowErrors, tt.want, n, tt.reason)
			}
			if peak > cappedHeap {
				t.Errorf("heap grew by %d MiB, want under %d MiB", peak>>20, cappedHeap>>20)
			}
		})
	}
}
