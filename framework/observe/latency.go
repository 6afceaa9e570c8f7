package observe

import (
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
)

// latencyAccuracy is the relative accuracy of latency quantiles (1%).
const latencyAccuracy = 0.01

// latencyBins bounds a sketch's memory; the lowest bins collapse first, so
// high quantiles stay accurate.
const latencyBins = 2048

// Latency is a mergeable latency distribution with relative-error quantiles
// (a DDSketch), in bounded memory whatever the number of samples.
type Latency struct {
	sketch *ddsketch.DDSketch
}

// NewLatency returns an empty distribution.
func NewLatency() *Latency {
	s, err := ddsketch.LogCollapsingLowestDenseDDSketch(latencyAccuracy, latencyBins)
	if err != nil {
		panic(err) // constant arguments: cannot fail
	}
	return &Latency{sketch: s}
}

// Add records one latency.
func (l *Latency) Add(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 0 {
		ms = 0
	}
	_ = l.sketch.Add(ms) // only negative values are rejected
}

// Count is the number of samples.
func (l *Latency) Count() int64 { return int64(l.sketch.GetCount()) }

// Quantile returns the q-quantile (0..1), 0 when empty.
func (l *Latency) Quantile(q float64) time.Duration {
	if l.sketch.IsEmpty() {
		return 0
	}
	ms, err := l.sketch.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// Merge adds other's samples to l.
func (l *Latency) Merge(other *Latency) {
	_ = l.sketch.MergeWith(other.sketch) // same mapping by construction
}

// Sum is the total of the samples (from the sketch, within its accuracy):
// the time spent waiting for this target's answers.
func (l *Latency) Sum() time.Duration {
	return time.Duration(l.sketch.GetSum() * float64(time.Millisecond))
}
