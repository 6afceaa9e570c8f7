package live

import (
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/runner"
)

// MemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit)
// that suits a live session of plan with queueSize waiting copies (0: the
// default queue): what the replay of the same plan may hold
// (runner.MemoryLimit) plus the copy queue's worst case, a request body
// and prod's answer at the body cap for each waiting copy, plus the
// default budget of captures in flight (DefaultCaptureBytes). Near it the
// collector works harder instead of letting runner.GCPercent's headroom
// grow the heap past what the session can hold by design.
func MemoryLimit(plan *framework.Plan, queueSize int) int64 {
	maxBody := plan.Mirror.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = mirror.DefaultMaxBodyBytes
	}
	if queueSize <= 0 {
		queueSize = DefaultQueuePerWorker * max(plan.Mirror.Concurrency, 1)
	}
	return runner.MemoryLimit(plan) + int64(queueSize)*2*maxBody + DefaultCaptureBytes(plan, queueSize)
}
