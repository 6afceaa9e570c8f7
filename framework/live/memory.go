package live

import (
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/runner"
)

// GCPercent is the garbage collector's target that `shadowtest proxy` sets
// unless GOGC says otherwise: runner.GCPercent, for the same reason (a
// small live heap, allocations for every request; at 400 the proxy used
// 13-20% less CPU per request under the benchmark's load, for a peak RSS
// of about 46 MiB instead of 34 MiB). MemoryLimit bounds what this may
// cost when the live heap is large.
const GCPercent = runner.GCPercent

// MemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit)
// that suits a live session of plan with queueSize waiting copies (0: the
// default queue): what the replay of the same plan may hold
// (runner.MemoryLimit) plus the copy queue's worst case, a request body
// and prod's answer at the body cap for each waiting copy. Near it the
// collector works harder instead of letting GCPercent's headroom grow the
// heap past what the session can hold by design.
func MemoryLimit(plan *framework.Plan, queueSize int) int64 {
	maxBody := plan.Mirror.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = mirror.DefaultMaxBodyBytes
	}
	if queueSize <= 0 {
		queueSize = DefaultQueuePerWorker * max(plan.Mirror.Concurrency, 1)
	}
	return runner.MemoryLimit(plan) + int64(queueSize)*2*maxBody
}
