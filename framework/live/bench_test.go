//go:build unix

package live

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// BenchmarkProxyPath measures one request through a front to prod and
// back, client, front and prod in this process, one request at a time:
// ns/op is the round trip, allocs/op everything allocated on the way.
// "bare" is httputil.ReverseProxy alone with the proxy's transport
// settings: the difference of another arm to it is what the live proxy's
// own work costs per request (go test ./framework/live -run '^$' -bench
// ProxyPath -benchmem -count 5). cpu-ns/op is the process's CPU time per
// request (client, front and prod): steadier than ns/op on a busy machine.
// "healthy" mirrors every request to a shadow in this process (its CPU
// counts too), "refused" to a closed port, "killed" has its kill switch
// tripped, "unmatched" sends paths no endpoint covers.
func BenchmarkProxyPath(b *testing.B) {
	prod := httptest.NewServer(item("12.5"))
	defer prod.Close()
	shadow := httptest.NewServer(item("12.5"))
	defer shadow.Close()
	prodURL, _ := url.Parse(prod.URL)
	refused := closedURL(b)
	arms := []struct {
		name, path string
		front      func(b *testing.B) http.Handler
	}{
		{"bare", "/items/%d", func(*testing.B) http.Handler { return bareFront(prodURL) }},
		{"unmatched", "/other/%d", func(b *testing.B) http.Handler { return proxyFor(b, prod.URL, refused) }},
		{"refused", "/items/%d", func(b *testing.B) http.Handler { return proxyFor(b, prod.URL, refused) }},
		{"refused-nethttp", "/items/%d", func(b *testing.B) http.Handler { return proxyWith(b, prod.URL, refused, ProdClientNetHTTP) }},
		{"healthy", "/items/%d", func(b *testing.B) http.Handler { return proxyFor(b, prod.URL, shadow.URL) }},
		{"killed", "/items/%d", func(b *testing.B) http.Handler { return killedProxy(b, prod.URL, shadow.URL) }},
	}
	get := func(b *testing.B, client *http.Client, url string) {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	for _, arm := range arms {
		b.Run(arm.name, func(b *testing.B) {
			front := httptest.NewServer(arm.front(b))
			defer front.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			b.ReportAllocs()
			start := cpuTime()
			for i := 0; b.Loop(); i++ {
				get(b, client, front.URL+fmt.Sprintf(arm.path, i%100))
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
		// 16 clients at once, as the bench's live arms: ns/op is then
		// the inverse of throughput.
		b.Run(arm.name+"/16", func(b *testing.B) {
			front := httptest.NewServer(arm.front(b))
			defer front.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			b.ReportAllocs()
			b.SetParallelism(max(16/runtime.GOMAXPROCS(0), 1))
			var n atomic.Int64
			start := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, client, front.URL+fmt.Sprintf(arm.path, n.Add(1)%100))
				}
			})
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far: client, front
// and prod together, the same in every arm but for the front.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func proxyFor(b *testing.B, prod, shadow string) http.Handler {
	return proxyWith(b, prod, shadow, ProdClientFast)
}

// proxyWith is proxyFor with the given prod client (--prod-client).
func proxyWith(b *testing.B, prod, shadow, client string) http.Handler {
	plan := testPlan(prod, shadow)
	plan.Shadow.Timeout = 2 * time.Second
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{ProdClient: client})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return NewProxy(s)
}

// killedProxy is proxyFor with its kill switch tripped: every request
// passes to prod and is counted as dropped, none is copied.
func killedProxy(b *testing.B, prod, shadow string) http.Handler {
	plan := testPlan(prod, shadow)
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	s.Switch().Trip(TriggerAdmin, "benchmark")
	return NewProxy(s)
}

// BenchmarkProdClient measures one GET to prod through each prod client
// alone, one request at a time: the difference in cpu-ns/op between the
// arms is what the client itself costs (prod, in this process too, is
// the same in both).
func BenchmarkProdClient(b *testing.B) {
	prod := httptest.NewServer(item("12.5"))
	defer prod.Close()
	std := &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	clients := map[string]http.RoundTripper{
		ProdClientNetHTTP: std,
		ProdClientFast:    newFastTransport(std, &net.Dialer{}, time.Minute),
	}
	for _, name := range ProdClients {
		b.Run(strings.ReplaceAll(name, "/", "-"), func(b *testing.B) {
			rt := clients[name]
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				req, _ := http.NewRequest("GET", prod.URL+"/items/1", nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkShadowClient measures one GET to the shadow, one at a time,
// through the shadow's client (mirror.Client: retryablehttp, net/http's
// Client and Transport, the attempt's timeout) and through the bare
// transports under it: the difference between "mirror" and "net/http"
// is the layers around the Transport, between "net/http" and "fast"
// what net/http's write and read goroutines cost a copy (go test
// ./framework/live -run '^$' -bench ShadowClient -benchmem). The shadow,
// in this process too, is the same in every arm.
func BenchmarkShadowClient(b *testing.B) {
	shadow := httptest.NewServer(item("12.5"))
	defer shadow.Close()
	std := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}
	roundTrip := func(rt http.RoundTripper) func(b *testing.B) {
		return func(b *testing.B) {
			req, _ := http.NewRequest("GET", shadow.URL+"/items/1", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	plan := testPlan(shadow.URL, shadow.URL)
	client := mirror.NewClient(plan.Shadow, "", 4, plan.Mirror.MaxBodyBytes)
	client.SetRetryPolicy(mirror.ShadowRetryPolicy)
	copyOf := &framework.Request{Method: "GET", URL: "/items/1", Header: http.Header{"Accept": {"application/json"}, "User-Agent": {"bench"}}}
	arms := []struct {
		name string
		send func(b *testing.B)
	}{
		{"mirror", func(b *testing.B) {
			if resp := client.Do(context.Background(), copyOf); resp.Err != nil {
				b.Fatal(resp.Err)
			}
		}},
		{"net-http", roundTrip(std)},
		{"fast", roundTrip(newFastTransport(std, &net.Dialer{}, time.Minute))},
	}
	for _, arm := range arms {
		b.Run(arm.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				arm.send(b)
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
