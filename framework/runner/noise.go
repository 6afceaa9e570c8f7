package runner

import (
	"context"
	"hash/fnv"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// probeNoise sends the request of a deterministic fraction of an
// endpoint's exchanges (Noise.Probe) to prod a second time and records how
// the two prod answers differ, under the endpoint's own rules: what differs
// is noise (observe.AddNoise). Only safe requests (GET, HEAD, OPTIONS) are
// probed: a write is never sent to prod twice. Never when prod answers
// from the recording, and only when prod answered.
func probeNoise(ctx context.Context, prod *mirror.Client, plan *framework.Plan, endpoint *framework.Endpoint, c *compare.Comparator, ex *framework.Exchange, first *framework.Response, results *observe.Results) {
	if endpoint.Noise.Probe <= 0 || first.Failed() || plan.Prod.Recorded || !safeMethod(ex.Request.Method) {
		return
	}
	if !probed(ex, endpoint.Noise.Probe) {
		return
	}
	second := prod.Do(ctx, &ex.Request)
	if second.Failed() || ctx.Err() != nil {
		return
	}
	results.AddNoise(endpoint.Name, c.Compare(first, &second))
}

// probed decides by a hash of the record, so the same traffic probes the
// same requests on every run and in every shard.
func probed(ex *framework.Exchange, rate float64) bool {
	if rate >= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(ex.Origin))
	h.Write([]byte{0})
	h.Write([]byte(ex.Request.Method + " " + ex.Request.URL))
	return float64(h.Sum64()>>11)/(1<<53) < rate
}

// safeMethod reports whether a method only reads (RFC 9110 §9.2.1).
func safeMethod(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS":
		return true
	}
	return false
}
