package live

import (
	"github.com/shadowtest/shadowtest/framework"
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
	// The queue at its bound, and the default budget, which is sized on it.
	return runner.MemoryLimit(plan) + 2*DefaultCaptureBytes(plan, queueSize)
}
