package live

import (
	"sync/atomic"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
)

// DropCapturesInFlight: the copy of a request or of prod's answer did not
// fit in the budget of captures in flight (Options.CaptureBytes), so the
// proxy stopped copying; prod's bytes went to the client untouched.
const DropCapturesInFlight = "captures in flight"

// DefaultCaptureBytes is the budget of captures in flight when
// Options.CaptureBytes is 0: as many bytes as the copy queue holds at its
// bound, a request body and prod's answer at the body cap for each of its
// queueSize copies (0: the default queue).
func DefaultCaptureBytes(plan *framework.Plan, queueSize int) int64 {
	maxBody := plan.Mirror.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = mirror.DefaultMaxBodyBytes
	}
	if queueSize <= 0 {
		queueSize = DefaultQueuePerWorker * max(plan.Mirror.Concurrency, 1)
	}
	return int64(queueSize) * 2 * maxBody
}

// captureBudget bounds the bytes held by the copies of requests and of
// prod's answers while prod answers (HTTP and gRPC alike): without it,
// every slow client of a selected endpoint would hold up to twice the body
// cap, and the proxy's memory would grow with the number of clients
// instead of with the queue. A lock-free counter rather than
// x/sync/semaphore.Weighted: it is taken on the prod path by every
// concurrent request, must never block, and its level is the
// capture_bytes_in_flight gauge.
type captureBudget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or reports false, at once, when they do not fit.
func (b *captureBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if n > b.limit-used { // not used+n: a limit near MaxInt64 would overflow
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *captureBudget) give(n int64) { b.used.Add(-n) }

// capture is a copy of a body, up to the body cap, whose buffer is held
// against the budget: every byte of its capacity is taken before it is
// allocated. Once refused (or released) it copies nothing more.
type capture struct {
	budget  *captureBudget
	buf     []byte
	held    int64 // taken from the budget: cap(buf), or what a reserve took
	refused bool  // the budget had no room: the copy is dropped
	done    bool  // released: handed off or dropped
}

// minCapture is the first allocation of a body of unknown length.
const minCapture = 4 << 10

// reserve allocates room for n bytes at once (a known Content-Length), if
// the budget grants it; otherwise the capture is refused: the body will
// not fit.
func (c *capture) reserve(n int64) bool {
	if c.done || c.refused {
		return false
	}
	if n <= int64(cap(c.buf)) {
		return true
	}
	if !c.budget.take(n) {
		c.refuse()
		return false
	}
	buf := make([]byte, len(c.buf), n)
	copy(buf, c.buf)
	c.budget.give(c.held)
	c.buf, c.held = buf, n
	return true
}

// add appends p, growing the buffer (at most to limit, the body cap, which
// the caller keeps len(buf)+len(p) within) with the budget's leave; it
// reports false when the capture is refused or released.
func (c *capture) add(p []byte, limit int64) bool {
	if c.done || c.refused {
		return false
	}
	if need := int64(len(c.buf) + len(p)); need > int64(cap(c.buf)) {
		// Doubling, as append does, but taken before it is allocated.
		if !c.reserve(max(need, min(max(2*int64(cap(c.buf)), minCapture), limit))) {
			return false
		}
	}
	c.buf = append(c.buf, p...)
	return true
}

// refuse drops what was copied and gives its bytes back.
func (c *capture) refuse() {
	c.refused = true
	c.buf = nil
	c.budget.give(c.held)
	c.held = 0
}

// reset drops what was copied (a body over the cap) and gives its bytes
// back; the capture is not refused.
func (c *capture) reset() {
	c.buf = nil
	c.budget.give(c.held)
	c.held = 0
}

// release gives the capture's bytes back to the budget once its copy is
// handed off (the queue bounds it from then on) or dropped; it copies
// nothing more. Safe to call more than once.
func (c *capture) release() {
	if c.done {
		return
	}
	c.done = true
	c.budget.give(c.held)
	c.held = 0
}
