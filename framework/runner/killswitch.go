package runner

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// Trip records why and when the kill switch stopped shadow traffic.
type Trip struct {
	// Trigger names what fired: "shadow error rate", "shadow latency",
	// "kill file" or "signal".
	Trigger string
	// Detail gives the measured value or the external source.
	Detail string
	// At is when it fired.
	At time.Time
}

func (t Trip) String() string {
	return fmt.Sprintf("kill switch tripped by %s at %s: %s", t.Trigger, t.At.UTC().Format("15:04:05.000Z"), t.Detail)
}

// KillFilePoll is how often the kill switch looks for its file.
const KillFilePoll = 100 * time.Millisecond

// window watches the shadow's last N outcomes for errors and slow answers.
// Its memory is two rings of N booleans whatever the traffic.
type window struct {
	cfg framework.KillSwitch

	mu         sync.Mutex
	failed     []bool
	slow       []bool
	next, seen int
	failures   int
	slowCount  int
}

func newWindow(cfg framework.KillSwitch) *window {
	if cfg.Window <= 0 {
		cfg.Window = 100
	}
	return &window{cfg: cfg, failed: make([]bool, cfg.Window), slow: make([]bool, cfg.Window)}
}

// enabled reports whether any in-band trigger is set.
func (w *window) enabled() bool { return w.cfg.ShadowErrorRate > 0 || w.cfg.ShadowLatency > 0 }

// add records the shadow's response and returns a non-empty trigger and
// detail once a threshold is crossed.
func (w *window) add(shadow *framework.Response) (trigger, detail string) {
	failed := shadow.Failed() || shadow.Status >= 500 || shadow.RPC != nil && framework.RPCServerError(shadow.RPC.Code)
	slow := w.cfg.ShadowLatency > 0 && !shadow.Failed() && shadow.Latency > w.cfg.ShadowLatency
	if shadow.ErrKind == "timeout" && w.cfg.ShadowLatency > 0 {
		slow = true // a timeout is the slowest answer of all
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed[w.next] {
		w.failures--
	}
	if w.slow[w.next] {
		w.slowCount--
	}
	w.failed[w.next], w.slow[w.next] = failed, slow
	if failed {
		w.failures++
	}
	if slow {
		w.slowCount++
	}
	w.next = (w.next + 1) % len(w.failed)
	w.seen = min(w.seen+1, len(w.failed))
	n := len(w.failed)
	// Counting against the full window trips only when the rate over the
	// full window is certain to exceed the bound, even before it fills.
	if w.cfg.ShadowErrorRate > 0 && float64(w.failures) > w.cfg.ShadowErrorRate*float64(n) {
		return "shadow error rate", fmt.Sprintf("%d of the last %d requests failed on the shadow (%.0f%% > %g%%)", w.failures, w.seen, 100*float64(w.failures)/float64(w.seen), 100*w.cfg.ShadowErrorRate)
	}
	if w.cfg.ShadowLatency > 0 && 2*w.slowCount > n {
		return "shadow latency", fmt.Sprintf("%d of the last %d shadow responses took longer than %s", w.slowCount, w.seen, w.cfg.ShadowLatency)
	}
	return "", ""
}

// watchFile calls trip once path exists, polling every KillFilePoll until
// done is closed.
func watchFile(path string, done <-chan struct{}, trip func(trigger, detail string)) {
	ticker := time.NewTicker(KillFilePoll)
	defer ticker.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			trip("kill file", path+" appeared")
			return
		}
		select {
		case <-done:
			return
		case <-ticker.C:
		}
	}
}
