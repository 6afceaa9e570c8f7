package live

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shadowtest/shadowtest/framework/runner"
)

// Trigger names for the kill switch, as the metrics and /status show them.
const (
	TriggerAdmin     = "admin"
	TriggerSignal    = "signal"
	TriggerFile      = "kill file"
	TriggerErrorRate = "shadow error rate"
	TriggerLatency   = "shadow latency"
	TriggerSelfTest  = "self-test"
)

// Switch is the live kill switch. While it is tripped no copy is queued
// and the shadow requests in flight are cancelled; Resume starts mirroring
// again. Its zero value is not usable: call newSwitch.
type Switch struct {
	killed atomic.Bool

	mu     sync.Mutex
	ctx    context.Context // cancelled on trip: cuts the shadow requests in flight
	cancel context.CancelFunc
	base   context.Context
	last   *runner.Trip
	trips  map[string]int64
	// onTrip and onResume let the metrics follow the state.
	onTrip   func(trigger string)
	onResume func()
}

func newSwitch(base context.Context) *Switch {
	k := &Switch{base: base, trips: map[string]int64{}}
	k.ctx, k.cancel = context.WithCancel(base)
	return k
}

// Trip stops mirroring at once, naming what fired and why. It returns
// false when the switch was already tripped (the first reason stays).
func (k *Switch) Trip(trigger, detail string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.killed.Load() {
		return false
	}
	k.killed.Store(true)
	k.cancel()
	k.last = &runner.Trip{Trigger: trigger, Detail: detail, At: time.Now()}
	k.trips[trigger]++
	if k.onTrip != nil {
		k.onTrip(trigger)
	}
	return true
}

// Resume starts mirroring again after a trip; it returns false when the
// switch was not tripped.
func (k *Switch) Resume() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.killed.Load() {
		return false
	}
	k.ctx, k.cancel = context.WithCancel(k.base)
	k.killed.Store(false)
	if k.onResume != nil {
		k.onResume()
	}
	return true
}

// Killed reports whether mirroring is stopped.
func (k *Switch) Killed() bool { return k.killed.Load() }

// context returns the context shadow requests are sent with: it is
// cancelled when the switch trips.
func (k *Switch) context() context.Context {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ctx
}

// SwitchStatus is the kill switch's state as GET /status shows it.
type SwitchStatus struct {
	Killed bool `json:"killed"`
	// LastTrip says what last stopped mirroring, empty before any trip.
	LastTrip string `json:"lastTrip,omitempty"`
	// Trips counts the trips by trigger.
	Trips map[string]int64 `json:"trips"`
}

// Status returns the switch's state.
func (k *Switch) Status() SwitchStatus {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := SwitchStatus{Killed: k.killed.Load(), Trips: map[string]int64{}}
	for t, n := range k.trips {
		s.Trips[t] = n
	}
	if k.last != nil {
		s.LastTrip = k.last.String()
	}
	return s
}

// lastTrigger is the trigger of the last trip, "" before any.
func (k *Switch) lastTrigger() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.last == nil {
		return ""
	}
	return k.last.Trigger
}

// watchFile trips the switch while path exists, polling every
// runner.KillFilePoll, and resumes it when the file is removed if the file
// was what tripped it. It returns when ctx ends.
func (k *Switch) watchFile(ctx context.Context, path string) {
	ticker := time.NewTicker(runner.KillFilePoll)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		k.checkFile(path)
	}
}

// checkFile trips the switch if path exists, and resumes it if path is
// gone and was what tripped it. newShadow checks once before it returns,
// so that a session started while the kill file exists starts stopped.
func (k *Switch) checkFile(path string) {
	_, err := os.Stat(path)
	switch {
	case err == nil && !k.Killed():
		k.Trip(TriggerFile, path+" appeared")
	case err != nil && k.Killed() && k.lastTrigger() == TriggerFile:
		k.Resume()
	}
}
