//go:build unix

package live

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
)

// BenchmarkProxyLatency measures the latency of one request at a time
// from a keep-alive client through each front to prod and back, the
// fronts taken in turn on every iteration so that a busy machine's noise
// falls on all of them alike: the p50-us metric of an arm minus bare's is
// what that front adds to a request's latency (go test ./framework/live
// -run '^$' -bench ProxyLatency -count 5). The fronts are served as
// `shadowtest proxy` serves them (HTTP/1.1 and h2c, ReadHeaderTimeout).
// "dropped" mirrors to a shadow that never answers, so its queue is full
// and every copy is dropped: the proxy's prod path with no shadow work.
func BenchmarkProxyLatency(b *testing.B) {
	prod := httptest.NewServer(item("12.5"))
	defer prod.Close()
	hold := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hold)
	prodURL, _ := url.Parse(prod.URL)
	refused := closedURL(b)
	arms := []struct {
		name  string
		front http.Handler
	}{
		{"bare", bareFront(prodURL)},
		{"dropped", proxyFor(b, prod.URL, slow.URL)},
		{"dropped-nethttp", proxyWith(b, prod.URL, slow.URL, ProdClientNetHTTP)},
		{"refused", proxyFor(b, prod.URL, refused)},
		{"refused-nethttp", proxyWith(b, prod.URL, refused, ProdClientNetHTTP)},
	}
	type client struct {
		base  string
		http  *http.Client
		times []time.Duration
	}
	clients := make([]*client, len(arms))
	for i, arm := range arms {
		srv := httptest.NewUnstartedServer(arm.front)
		srv.Config.ReadHeaderTimeout = 30 * time.Second
		srv.Config.Protocols = Protocols()
		srv.Start()
		defer srv.Close()
		clients[i] = &client{base: srv.URL, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}}
	}
	get := func(b *testing.B, c *client, i int) time.Duration {
		b.Helper()
		start := time.Now()
		resp, err := c.http.Get(c.base + fmt.Sprintf("/items/%d", i%100))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return took
	}
	for i := range 200 { // warm up: connections, pools, and the slow shadow's queue filled
		for _, c := range clients {
			get(b, c, i)
		}
	}
	// back-to-back: the next request leaves as soon as the last answer is
	// in; paced: 1 ms of idle before each, as at a few hundred requests a
	// second, so every request wakes the scheduler from idle.
	for _, gap := range []time.Duration{0, time.Millisecond} {
		name := "back-to-back"
		if gap > 0 {
			name = "paced"
		}
		b.Run(name, func(b *testing.B) {
			for _, c := range clients {
				c.times = c.times[:0]
			}
			for i := 0; b.Loop(); i++ {
				for j := range clients {
					c := clients[(i+j)%len(clients)] // each arm first in turn
					if gap > 0 {
						time.Sleep(gap)
					}
					c.times = append(c.times, get(b, c, i))
				}
			}
			for i, c := range clients {
				slices.Sort(c.times)
				b.ReportMetric(float64(c.times[len(c.times)/2].Nanoseconds())/1e3, arms[i].name+"-p50-us")
			}
		})
	}
}
