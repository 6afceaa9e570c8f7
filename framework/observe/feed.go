package observe

import (
	"fmt"
	"sort"
	"strings"
)

// The counts of requests the feed did not send: write policies, mirror
// modes, recorded prod, skipped bad records.

// AddRecordedOnly counts an unsafe request of the endpoint that the
// "record-only" write policy logged instead of sending.
func (r *Results) AddRecordedOnly(endpoint string) {
	r.mu.Lock()
	r.byName[endpoint].RecordedOnly++
	r.mu.Unlock()
}

// AddNoRecording counts a request of the endpoint that was not sent
// because prod answers from the recording and it has no recorded response.
func (r *Results) AddNoRecording(endpoint string) {
	r.mu.Lock()
	r.byName[endpoint].NoRecording++
	r.mu.Unlock()
}

// AddFiltered counts a request of the endpoint that the mirror mode did
// not send, by reason ("sampled out", "not selected"), both in the run's
// totals and in the endpoint's.
func (r *Results) AddFiltered(endpoint, reason string) {
	r.mu.Lock()
	if r.Filtered == nil {
		r.Filtered = map[string]int64{}
	}
	r.Filtered[reason]++
	if e := r.byName[endpoint]; e != nil {
		if e.Filtered == nil {
			e.Filtered = map[string]int64{}
		}
		e.Filtered[reason]++
	}
	r.mu.Unlock()
}

// FilterPolicies names the spec setting behind each reason of
// Results.Filtered and Endpoint.Filtered.
var FilterPolicies = map[string]string{
	"sampled out":  "mode: sampled",
	"not selected": "mode: selective",
}

// Withheld says how many requests of the endpoint the spec's own policy
// chose not to send: writes skipped ("writes: skip") or only recorded
// ("writes: record-only"), and requests the mirror mode filtered out
// ("mode: sampled", "mode: selective"). The text reads "12 requests not
// sent under writes: skip"; it is empty when n is 0. Requests not sent
// for other reasons (no recorded response for a recorded prod) are not
// withheld by policy and are not counted here.
func (e *Endpoint) Withheld() (n int64, text string) {
	type part struct {
		n      int64
		policy string
	}
	parts := []part{{e.Skipped, "writes: skip"}, {e.RecordedOnly, "writes: record-only"}}
	reasons := make([]string, 0, len(e.Filtered))
	for reason := range e.Filtered {
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	for _, reason := range reasons {
		policy := FilterPolicies[reason]
		if policy == "" {
			policy = reason
		}
		parts = append(parts, part{e.Filtered[reason], policy})
	}
	var b strings.Builder
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		n += p.n
		if b.Len() == 0 {
			fmt.Fprintf(&b, "%d %s not sent under %s", p.n, plural(p.n, "request", "requests"), p.policy)
		} else {
			fmt.Fprintf(&b, ", %d under %s", p.n, p.policy)
		}
	}
	return n, b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// OnlyWithheld reports whether every request of the endpoint was withheld
// by the spec's own policy: none was sent and at least one was withheld.
// Its thresholds are then skipped rather than failed for lack of traffic.
func (e *Endpoint) OnlyWithheld() bool {
	n, _ := e.Withheld()
	return e.Requests == 0 && n > 0
}

// AddBadRecord counts a malformed traffic record that was skipped.
func (r *Results) AddBadRecord() {
	r.mu.Lock()
	r.BadRecords++
	r.mu.Unlock()
}
