package progress

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		stats   Stats
		elapsed time.Duration
		color   bool
		want    string
		reason  string
	}{
		{Stats{Done: 12000, Total: 100000, Compared: 10000, Matched: 9971}, 3 * time.Second, false,
			"12,000/100,000 requests (12%)  4,000 req/s  match 99.71%  ETA 22s", "every figure with a known total"},
		{Stats{Done: 500}, time.Second, false, "500 requests  500 req/s", "total still unknown, nothing compared yet: no ETA, no rate"},
		{Stats{Done: 10, Total: 10, Compared: 10, Matched: 10}, time.Second, false, "10/10 requests (100%)  10 req/s  match 100.00%", "finished: no ETA"},
		{Stats{Done: 1, Compared: 2, Matched: 1}, time.Second, true, "1 requests  1 req/s  \x1b[33mmatch 50.00%\x1b[0m", "colour only when asked"},
		{Stats{}, 0, false, "0 requests  0 req/s", "nothing yet, no division by zero"},
	}
	for _, tt := range tests {
		if got := Line(tt.stats, tt.elapsed, tt.color); got != tt.want {
			t.Errorf("Line(%+v) = %q, want %q (%s)", tt.stats, got, tt.want, tt.reason)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestModes(t *testing.T) {
	var done atomic.Int64
	stats := func() Stats { return Stats{Done: done.Add(1), Total: 1000} }

	var live syncBuffer
	r := Start(&live, Options{Mode: Live, Interval: time.Millisecond}, stats)
	for !strings.Contains(live.String(), "\r") {
		time.Sleep(time.Millisecond)
	}
	r.Stop()
	r.Stop() // idempotent
	out := live.String()
	if strings.Contains(strings.TrimSuffix(out, "\n"), "\n") || !strings.HasSuffix(out, "\n") {
		t.Errorf("live mode must redraw one line and end it once: %q", out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("escape sequences without Color: %q", out)
	}

	var log syncBuffer
	r = Start(&log, Options{Mode: Log, Interval: time.Millisecond}, stats)
	for strings.Count(log.String(), "\n") < 2 {
		time.Sleep(time.Millisecond)
	}
	r.Stop()
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if !strings.HasPrefix(line, "progress: ") || strings.Contains(line, "\r") {
			t.Errorf("log mode writes whole lines: %q", line)
		}
	}

	var off syncBuffer
	Start(&off, Options{Mode: Off, Interval: time.Millisecond}, stats).Stop()
	if off.String() != "" {
		t.Errorf("off mode wrote %q", off.String())
	}
}
