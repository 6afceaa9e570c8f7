// Package progress shows how far a run has got: on a terminal, one live
// line redrawn in place (done/total, requests per second, running match
// rate, ETA); elsewhere (CI logs), the same figures as a log line every few
// seconds; with Off, nothing.
//
// It only formats and paces what a Stats function reports; it does not
// count anything itself.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Stats are the figures a progress line shows.
type Stats struct {
	// Done counts the requests handled so far: compared, skipped by the
	// write policy or matching no endpoint.
	Done int64
	// Total is the number of requests in the traffic, 0 while unknown.
	Total int64
	// Compared counts the pairs compared, Matched those that matched.
	Compared, Matched int64
}

// Mode says how progress is shown.
type Mode int

// The ways progress is shown.
const (
	// Off shows nothing.
	Off Mode = iota
	// Live redraws one line in place, for a terminal.
	Live
	// Log writes a line every LogInterval, for CI logs.
	Log
)

// LiveInterval is how often the live line is redrawn.
const LiveInterval = 200 * time.Millisecond

// LogInterval is how often a log line is written when not on a terminal.
const LogInterval = 5 * time.Second

// ModeFor picks the mode for output to f: Off when quiet, Live on a
// terminal, Log otherwise.
func ModeFor(f *os.File, quiet bool) Mode {
	switch {
	case quiet:
		return Off
	case term.IsTerminal(int(f.Fd())):
		return Live
	}
	return Log
}

// Options configure a Reporter.
type Options struct {
	Mode Mode
	// Interval overrides LiveInterval or LogInterval (tests).
	Interval time.Duration
	// Color paints the match rate (never set it when NO_COLOR is set).
	Color bool
}

// Reporter writes progress until Stop is called.
type Reporter struct {
	w       io.Writer
	opt     Options
	stats   func() Stats
	start   time.Time
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	lastLen int
}

// Start begins reporting stats to w; the caller must call Stop.
func Start(w io.Writer, opt Options, stats func() Stats) *Reporter {
	r := &Reporter{w: w, opt: opt, stats: stats, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	if opt.Mode == Off {
		close(r.done)
		return r
	}
	interval := opt.Interval
	if interval <= 0 {
		interval = map[Mode]time.Duration{Live: LiveInterval, Log: LogInterval}[opt.Mode]
	}
	go r.loop(interval)
	return r
}

func (r *Reporter) loop(interval time.Duration) {
	defer close(r.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-r.stop:
			if r.opt.Mode == Live {
				r.draw()
				fmt.Fprintln(r.w)
			}
			return
		case <-ticker.C:
			r.draw()
		}
	}
}

func (r *Reporter) draw() {
	line := Line(r.stats(), time.Since(r.start), r.opt.Color)
	if r.opt.Mode == Log {
		fmt.Fprintln(r.w, "progress: "+line)
		return
	}
	// Pad with spaces over the previous line instead of an erase sequence:
	// the line stays plain text.
	width := len(line)
	pad := max(r.lastLen-width, 0)
	r.lastLen = width
	fmt.Fprint(r.w, "\r"+line+strings.Repeat(" ", pad))
}

// Stop ends reporting; a live line is completed with a newline. Safe to
// call more than once.
func (r *Reporter) Stop() {
	r.once.Do(func() {
		if r.opt.Mode != Off {
			close(r.stop)
		}
	})
	<-r.done
}

// Line formats one progress line, for example
// "12,000/100,000 requests (12%)  4,210 req/s  match 99.71%  ETA 19s".
func Line(s Stats, elapsed time.Duration, color bool) string {
	var b strings.Builder
	if s.Total > 0 {
		fmt.Fprintf(&b, "%s/%s requests (%d%%)", count(s.Done), count(s.Total), 100*s.Done/s.Total)
	} else {
		fmt.Fprintf(&b, "%s requests", count(s.Done))
	}
	rps := 0.0
	if elapsed > 0 {
		rps = float64(s.Done) / elapsed.Seconds()
	}
	fmt.Fprintf(&b, "  %s req/s", count(int64(rps+0.5)))
	if s.Compared > 0 {
		rate := float64(s.Matched) / float64(s.Compared)
		text := fmt.Sprintf("match %.2f%%", 100*rate)
		if color {
			code := "32" // green
			if s.Matched < s.Compared {
				code = "33" // yellow: some pairs differ
			}
			text = "\x1b[" + code + "m" + text + "\x1b[0m"
		}
		b.WriteString("  " + text)
	}
	if s.Total > 0 && rps > 0 && s.Done < s.Total {
		eta := time.Duration(float64(s.Total-s.Done) / rps * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

func count(n int64) string {
	if n < 0 {
		return "-" + count(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
