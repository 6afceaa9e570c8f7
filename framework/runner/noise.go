package runner

import (
	"context"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// probeNoise sends the request of a deterministic fraction of an
// endpoint's exchanges (Noise.Probe) to prod a second time and records how
// the two prod answers differ, under the endpoint's own rules: what differs
// is noise (observe.AddNoise). Only safe requests (GET, HEAD, OPTIONS, and
// RPCs without side effects) are probed: a write is never sent to prod
// twice. Never when prod answers from the recording, and only when prod
// answered. send sends to prod on connections of the probe's own.
func probeNoise(ctx context.Context, send func(context.Context, *framework.Request) framework.Response, plan *framework.Plan, endpoint *framework.Endpoint, c *compare.Comparator, ex *framework.Exchange, first *framework.Response, results *observe.Results) {
	if endpoint.Noise.Probe <= 0 || first.Failed() || plan.Prod.Recorded || !safeRequest(&ex.Request) {
		return
	}
	if !probed(ex, endpoint.Noise.Probe) {
		return
	}
	second := send(ctx, &ex.Request)
	if second.Failed() || ctx.Err() != nil {
		return
	}
	results.AddNoise(endpoint.Name, c.Compare(first, &second))
}

// probed decides by a hash of the request and its recorded time, as shards
// do, so the same traffic probes the same requests on every run, in every
// shard and wherever the spec is: not by the record's origin, which names
// the file as the run reached it (from another working directory or CI
// workspace, other requests were probed and noise decided otherwise).
func probed(ex *framework.Exchange, rate float64) bool {
	if rate >= 1 {
		return true
	}
	h := requestHash(&ex.Request, probeSalt^uint64(ex.Time.UnixNano()))
	return float64(h>>11)/(1<<53) < rate
}

const probeSalt = 0x165667b19e3779f9

// safeRequest reports whether a request only reads: a safe method, or an
// RPC without side effects.
func safeRequest(req *framework.Request) bool {
	if req.RPC != nil {
		return req.RPC.NoSideEffects
	}
	return safeMethod(req.Method)
}

// safeMethod reports whether a method only reads (RFC 9110 §9.2.1).
func safeMethod(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS":
		return true
	}
	return false
}
