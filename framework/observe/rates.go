package observe

import (
	"fmt"
	"sort"
	"strings"
)

// ProdErrorRate is the fraction of requests sent that prod answered with a
// transport failure or a 5xx, 0 when none were sent.
func (e *Endpoint) ProdErrorRate() float64 { return errorRate(e.ProdErrors, e.Requests) }

// ShadowErrorRate is the fraction of requests sent that the shadow answered
// with a transport failure or a 5xx, 0 when none were sent.
func (e *Endpoint) ShadowErrorRate() float64 { return errorRate(e.ShadowErrors, e.Requests) }

func errorRate(counts map[string]int64, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(ErrorCount(counts)) / float64(requests)
}

// ErrorKinds formats error counts by kind, most frequent first (ties by
// kind): "refused 70, 5xx 3"; "none" when there are none.
func ErrorKinds(counts map[string]int64) string {
	kinds := make([]string, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return "none"
	}
	sort.Slice(kinds, func(i, j int) bool {
		if counts[kinds[i]] != counts[kinds[j]] {
			return counts[kinds[i]] > counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}
