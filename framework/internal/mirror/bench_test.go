//go:build unix

package mirror

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// BenchmarkSend is the mirror's cost per pair: one GET to each of two
// loopback servers, both answers read, 8 pairs in flight as in the bench's
// runner. Mirror.Send starts a goroutine for the shadow per pair (whose
// stack the HTTP client grows by copying on every request); Sender.Send,
// what a runner's worker uses, keeps one. Besides ns/op (which a loaded
// machine inflates), it reports cpu-ns/op: the process's CPU time per pair,
// the two servers' included.
func BenchmarkSend(b *testing.B) {
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":7,"name":"widget","price":12.5}`)
	})
	prod, shadow := httptest.NewServer(answer), httptest.NewServer(answer)
	defer prod.Close()
	defer shadow.Close()
	m := New(&framework.Plan{
		Prod:   framework.Target{Name: "prod", URL: prod.URL, Timeout: 5 * time.Second, Retries: 2},
		Shadow: framework.Target{Name: "shadow", URL: shadow.URL, Timeout: 5 * time.Second, Retries: 2},
		Mirror: framework.Mirror{Concurrency: 8},
	})
	req := &framework.Request{Method: "GET", URL: "/items/7", Header: http.Header{"Accept": {"application/json"}}}
	check := func(b *testing.B, p, s framework.Response) {
		if p.Err != nil || s.Err != nil {
			b.Error(p.Err, s.Err)
		}
	}
	b.Run("Mirror.Send", func(b *testing.B) {
		defer cpuPerOp(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, s := m.Send(context.Background(), req)
				check(b, p, s)
			}
		})
	})
	b.Run("Sender.Send", func(b *testing.B) {
		defer cpuPerOp(b)()
		b.RunParallel(func(pb *testing.PB) {
			sender := m.Sender()
			defer sender.Close()
			for pb.Next() {
				p, s := sender.Send(context.Background(), req)
				check(b, p, s)
			}
		})
	})
}

// cpuPerOp puts 4 goroutines per processor in flight (8 on 2 cores) and
// returns a function that reports the process's user and system CPU time
// per operation.
func cpuPerOp(b *testing.B) func() {
	b.ReportAllocs()
	b.SetParallelism(4)
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
