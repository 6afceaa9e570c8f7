package live

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// timerNotRun is a call's context whose deadline has passed while its
// timer has not run yet (Err is still nil): on a loaded machine, prod's
// reset at its own deadline (grpc-go resets with CANCEL when the
// grpc-timeout it was sent expires) can reach the proxy in that window.
type timerNotRun struct {
	context.Context
	deadline time.Time
}

func (c timerNotRun) Deadline() (time.Time, bool) { return c.deadline, true }

// TestGRPCResetAtTheDeadlineIsDeadlineExceeded: prod's CANCEL reset once
// the call's deadline has passed is DEADLINE_EXCEEDED, as a direct client
// of prod reports it, even when the proxy's own timer has not run yet.
// TestGRPCDeadlinesAndCancellation/deadline met that window about once in
// 50 runs under load (prod's reset arrived before the proxy's context
// said DeadlineExceeded) and answered UNAVAILABLE "prod unavailable
// (other)" before resetStatus read the deadline itself; this pins that
// decision without depending on the scheduler.
func TestGRPCResetAtTheDeadlineIsDeadlineExceeded(t *testing.T) {
	reset := http2.StreamError{StreamID: 1, Code: http2.ErrCodeCancel, Cause: errors.New("received from peer")}
	for _, tc := range []struct {
		reason string
		ctx    context.Context
		want   string
	}{
		{"the deadline passed, its timer not run yet", timerNotRun{context.Background(), time.Now().Add(-time.Millisecond)}, "4"},
		{"the deadline still ahead: prod canceled the call", timerNotRun{context.Background(), time.Now().Add(time.Hour)}, "1"},
		{"no deadline: prod canceled the call", context.Background(), "1"},
	} {
		w := httptest.NewRecorder()
		writeGRPCError(w, tc.ctx, reset)
		if got := w.Header().Get("Grpc-Status"); got != tc.want {
			t.Errorf("%s: grpc-status %s (%s), want %s", tc.reason, got, w.Header().Get("Grpc-Message"), tc.want)
		}
	}
}
