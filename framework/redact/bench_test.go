package redact

import (
	"net/http"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// BenchmarkLearn is the per-pair cost of learning secrets as a run does
// (cmd/shadowtest's seen and observe hooks): the recorded request before
// it is sent, then prod's and the shadow's response headers, for a pair
// like the demo shop's that carries no secret at all.
func BenchmarkLearn(b *testing.B) {
	r, err := Build(Options{Scrubber: scrub.New()})
	if err != nil {
		b.Fatal(err)
	}
	req := &framework.Request{Method: "GET", URL: "/orders/42?expand=items&page=2",
		Header: http.Header{"Accept": {"application/json"}, "User-Agent": {"shop-client/1.4"}}}
	resp := func(id string) *framework.Response {
		return &framework.Response{Status: 200, Header: http.Header{
			"Content-Type": {"application/json"}, "Content-Length": {"412"},
			"Date": {"Mon, 30 Nov 2026 03:20:00 GMT"}, "X-Request-Id": {id}}}
	}
	prod, shadow := resp("5f0c2a9e-prod"), resp("77d1b3c4-shadow")
	b.ReportAllocs()
	for b.Loop() {
		r.Learn(req, nil)
		r.Learn(nil, prod, shadow)
	}
}
