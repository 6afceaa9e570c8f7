package runner

import (
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
)

// GCPercent is the garbage collector's target (runtime/debug.SetGCPercent)
// that `shadowtest run` and `shadowtest proxy` set unless GOGC says
// otherwise. Their live heap is small (aggregates and the pairs in flight)
// while they allocate for every pair, so Go's default of 100 collects many
// times a second; at 400 the gRPC demo's replay used 88 µs of CPU per RPC
// instead of 109 µs, and the proxy 13-20% less per request. MemoryLimit
// bounds what the headroom may cost when the live heap is large: near the
// limit the collector runs as often as it must, whatever the target.
const GCPercent = 400

// MemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit) that
// suits a plan: what a run may hold at once, the response bodies of every
// request in flight at the body cap on both sides, the comparison tapes
// (compare.TapeBudget) and a fixed allowance, so that the collector works
// harder near that bound instead of letting the heap grow to twice what is
// live. Memory then depends on concurrency and the body cap, not on how
// large or how different the responses are.
func MemoryLimit(plan *framework.Plan) int64 {
	maxBody := plan.Mirror.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = mirror.DefaultMaxBodyBytes
	}
	const nodeBytes = 36 // the size of one tape node
	return int64(max(plan.Mirror.Concurrency, 1))*2*maxBody + compare.TapeBudget*nodeBytes + 16<<20
}
