package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// The hostile shadows of fixtures/bench, small: the bench measures peak
// RSS at 10,000 requests; these keep a generous heap bound on a few dozen,
// with the default body cap (10 MiB) and concurrency 8.

// The heap bound of these tests is the memory limit the CLI sets
// (MemoryLimit: two bodies at the cap per request in flight, the
// comparison tapes, an allowance) plus what the test's own servers hold,
// plus a generous margin for the collector's lag on a loaded machine
// (without the bounds, one dense body alone would need 180 MiB of tape,
// and every worker would hold two).
const hostileMargin = 256 << 20

// denseBody is a JSON array of about size bytes of the digit d.
func denseBody(size int, d byte) []byte {
	b := make([]byte, 0, size+2)
	b = append(b, '[', d)
	for len(b) < size {
		b = append(b, ',', d)
	}
	return append(b, ']')
}

// hostileRun replays n requests at concurrency 8 with the default body cap
// under the memory limit the CLI sets, the servers' own data (served
// bytes) added to it, and checks the heap's growth against that bound.
func hostileRun(t *testing.T, n int, served int64, prod, shadow http.Handler) (*observe.Endpoint, *disclog.Writer) {
	t.Helper()
	p, _ := serve(t, prod)
	s, _ := serve(t, shadow)
	plan := testPlan(t, p.URL, s.URL, n)
	plan.Mirror.Concurrency = 8
	plan.Mirror.MaxBodyBytes = 10 << 20
	// These tests bound the heap and count pairs, not latency: the 5 s
	// request timeout of testPlan turned the race detector's slowdown on a
	// loaded machine (8 dense 8-12 MB bodies in flight, each read and
	// counted by instrumented code) into prod timeouts, and pairs went
	// missing (three -race runs side by side: 14, 11 and 15 of 16 timed
	// out; no race was reported).
	plan.Prod.Timeout, plan.Shadow.Timeout = 2*time.Minute, 2*time.Minute
	limit := MemoryLimit(plan) + served
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	results := observe.NewResults(plan.Endpoints)
	log := disclog.NewWriter(discard{}, disclog.Options{})
	var err error
	peak := peakHeap(func() { err = Run(context.Background(), plan, results, Options{Observe: log.Add}) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heap peak +%d MiB, limit %d MiB", peak>>20, limit>>20)
	if bound := uint64(limit + hostileMargin); peak > bound {
		t.Errorf("heap grew by %d MiB, want under %d MiB", peak>>20, bound>>20)
	}
	return results.Endpoint("items"), log
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestHostileDenseArrays: 8-12 MB dense arrays on both sides, different at
// every element: every pair differs, whether compared by digest (over
// compare.MaxJSONValues values) or by its first 10 MiB (both cut).
func TestHostileDenseArrays(t *testing.T) {
	var bodies [5][2][]byte
	var once sync.Once
	handler := func(side int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() {
				for i := range bodies {
					bodies[i][0], bodies[i][1] = denseBody((8+i)<<20, '1'), denseBody((8+i)<<20, '2')
				}
			})
			i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/items/"))
			w.Header().Set("Content-Type", "application/json")
			w.Write(bodies[i%5][side])
		})
	}
	const n = 16
	e, _ := hostileRun(t, n, 2*(8+9+10+11+12)<<20, handler(0), handler(1))
	if e.Pairs != n || e.Matches != 0 {
		t.Errorf("%d pairs, %d matches; want %d and none (every pair differs)", e.Pairs, e.Matches, n)
	}
}

// TestHostileRandomKeys: 50 random keys in every shadow answer leave a
// bounded number of categories and examples, and exact counts.
func TestHostileRandomKeys(t *testing.T) {
	shadow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"path":%q,"name":"widget","price":12.5`, r.URL.Path)
		key := make([]byte, 8)
		for i := range 50 {
			rand.Read(key)
			fmt.Fprintf(&b, `,"k%s":%d`, hex.EncodeToString(key), i)
		}
		b.WriteByte('}')
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.Bytes())
	})
	const n = 600
	e, log := hostileRun(t, n, 0, http.HandlerFunc(item), shadow)
	if e.Pairs != n || e.Matches != 0 {
		t.Errorf("%d pairs, %d matches; want %d and none", e.Pairs, e.Matches, n)
	}
	if len(e.Categories) > observe.FoldAfter+1 || e.Categories["extra $.*"] == nil || e.Categories["extra $.*"].Count != n {
		t.Errorf("%d categories (extra $.*: %+v), want at most %d, the random keys folded into one counting every pair",
			len(e.Categories), e.Categories["extra $.*"], observe.FoldAfter+1)
	}
	if got := len(log.Examples()); got > disclog.MaxExamples {
		t.Errorf("%d examples kept, want at most %d", got, disclog.MaxExamples)
	}
}

// TestHostileEndlessBody: a shadow body that never ends is cut at the cap,
// each pair differs, and the heap stays bounded.
func TestHostileEndlessBody(t *testing.T) {
	shadow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte("1,"), 32<<10)
		w.Write([]byte("["))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	const n = 24
	e, _ := hostileRun(t, n, 0, http.HandlerFunc(item), shadow)
	if e.Pairs != n || e.Matches != 0 || len(e.ShadowErrors) != 0 {
		t.Errorf("%d pairs, %d matches, shadow errors %v; want %d, none, none", e.Pairs, e.Matches, e.ShadowErrors, n)
	}
}

// TestMemoryIsFlatInRequests: replaying 4N requests instead of N, with
// 2 MiB bodies of unknown length on both sides, neither keeps more live
// memory at the end nor allocates body memory per extra pair: each worker
// reads its pairs' bodies into the same buffers. Reading every body into
// new memory (some 6 MiB of doubling per side) kept the collector running
// near the soft limit, which a loaded machine let the heap pass: the dense
// hostile shadow's peak RSS grew with the number of requests.
func TestMemoryIsFlatInRequests(t *testing.T) {
	body := func(d byte) http.Handler {
		chunk := bytes.Repeat([]byte{d}, 64<<10)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			for range 32 { // 2 MiB, chunked: no Content-Length
				w.Write(chunk)
			}
		})
	}
	p, _ := serve(t, body('p'))
	s, _ := serve(t, body('s'))
	measure := func(n int) (live, alloc uint64) {
		plan := testPlan(t, p.URL, s.URL, n)
		plan.Mirror.MaxBodyBytes = 4 << 20
		results := observe.NewResults(plan.Endpoints)
		log := disclog.NewWriter(discard{}, disclog.Options{})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := Run(context.Background(), plan, results, Options{Observe: log.Add}); err != nil {
			t.Fatal(err)
		}
		if e := results.Endpoint("items"); e.Pairs != int64(n) || e.Matches != 0 {
			t.Fatalf("%d pairs, %d matches; want %d, none", e.Pairs, e.Matches, n)
		}
		// The workers' goroutines may not have ended yet: the least of a
		// few collections is what the run keeps.
		for range 10 {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if after.HeapAlloc == 0 || ms.HeapAlloc < after.HeapAlloc {
				after = ms
			}
			time.Sleep(10 * time.Millisecond)
		}
		runtime.KeepAlive(results)
		runtime.KeepAlive(log)
		return after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc), after.TotalAlloc - before.TotalAlloc
	}
	const n = 30
	live1, alloc1 := measure(n)
	live4, alloc4 := measure(4 * n)
	perPair := (alloc4 - min(alloc4, alloc1)) / (3 * n)
	t.Logf("live after %d: +%d KiB, after %d: +%d KiB; allocated per extra pair %d KiB", n, live1>>10, 4*n, live4>>10, perPair>>10)
	if live4 > live1+2<<20 {
		t.Errorf("live heap after %d requests %d KiB, after %d %d KiB: want no more than 2 MiB more", 4*n, live4>>10, n, live1>>10)
	}
	if perPair > 512<<10 {
		t.Errorf("%d KiB allocated per extra pair of 2 MiB bodies, want under 512 KiB (bodies read into each worker's buffers)", perPair>>10)
	}
}
