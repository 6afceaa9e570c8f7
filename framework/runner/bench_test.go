//go:build unix

package runner

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// BenchmarkRun replays b.N requests to two loopback servers and compares
// every pair, learning each exchange's and each pair's secrets as
// shadowtest run does: the runner's own cost per request (go run
// ./fixtures/bench measures the binary against vegeta). Besides ns/op,
// which a loaded machine inflates, it reports cpu-ns/op: the process's CPU
// time per pair, the two servers' included.
func BenchmarkRun(b *testing.B) {
	prod, _ := serve(b, http.HandlerFunc(item))
	shadow, _ := serve(b, http.HandlerFunc(item))
	plan := testPlan(b, prod.URL, shadow.URL, b.N)
	plan.Mirror.Concurrency = 8
	red, err := redact.Build(redact.Options{Scrubber: scrub.New()})
	if err != nil {
		b.Fatal(err)
	}
	opt := Options{
		Seen:    func(ex *framework.Exchange) { red.Learn(&ex.Request, ex.Recorded) },
		Observe: func(pair *framework.Pair, _ []framework.Diff) { red.Learn(nil, &pair.Prod, &pair.Shadow) },
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	if err := Run(context.Background(), plan, observe.NewResults(plan.Endpoints), opt); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
