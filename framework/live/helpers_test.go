package live

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// testPlan is a plan with one GET endpoint and one POST endpoint, both
// comparing Content-Type and the JSON body.
func testPlan(prod, shadow string) *framework.Plan {
	return &framework.Plan{
		Dir:    "",
		Prod:   framework.Target{Name: "prod", URL: prod, Timeout: 5 * time.Second},
		Shadow: framework.Target{Name: "shadow", URL: shadow, Timeout: 5 * time.Second},
		Mirror: framework.Mirror{Mode: "full", Concurrency: 4, Writes: "skip", MaxBodyBytes: 1 << 20, DryRunHeader: [2]string{"X-Shadow-Dry-Run", "1"}},
		Endpoints: []framework.Endpoint{
			{Name: "items", Method: "GET", Path: "/items/{id}", Rules: framework.Rules{Headers: []string{"Content-Type"}}, Thresholds: framework.Thresholds{MatchRate: 1, MinSamples: 1}},
			{Name: "create", Method: "POST", Path: "/items", Rules: framework.Rules{Headers: []string{"Content-Type"}}, Thresholds: framework.Thresholds{MatchRate: 1, MinSamples: 1}},
		},
	}
}

// target is a loopback service that counts and timestamps its requests.
type target struct {
	*httptest.Server
	n        atomic.Int64
	mu       sync.Mutex
	arrivals []time.Time
	bodies   []string
}

func serve(t testing.TB, h http.HandlerFunc) *target {
	t.Helper()
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.n.Add(1)
		tg.mu.Lock()
		tg.arrivals = append(tg.arrivals, time.Now())
		if len(tg.bodies) < 1000 {
			tg.bodies = append(tg.bodies, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		}
		tg.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(tg.Close)
	return tg
}

// lastArrival is when the latest request reached the target.
func (tg *target) lastArrival() time.Time {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.arrivals) == 0 {
		return time.Time{}
	}
	return tg.arrivals[len(tg.arrivals)-1]
}

// item answers like a healthy service; the shadow variant differs in
// the price.
func item(price string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"name":"widget","price":%s}`, r.URL.Path, price)
	}
}

// session starts a shadow session and a proxy in front of it.
func session(t testing.TB, plan *framework.Plan, opt Options) (*Shadow, *httptest.Server) {
	t.Helper()
	s, err := New(plan, observe.NewResults(plan.Endpoints), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	front := httptest.NewServer(NewProxy(s))
	t.Cleanup(front.Close)
	return s, front
}

// eventually waits up to 5 s for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// bareFront is httputil.ReverseProxy alone to prod, with the proxy's
// transport settings and copy buffers: the benchmarks' floor.
func bareFront(prod *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(prod)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	rp.BufferPool = bufferPool{}
	return rp
}
