package observe

import (
	"fmt"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestApplyNoise feeds pairs and probes to one endpoint and checks which
// paths end up hidden as noise, which stay reported, and how many pairs
// count as matches once noise is forgiven.
func TestApplyNoise(t *testing.T) {
	value := func(path string) framework.Diff { return framework.Diff{Kind: framework.KindValue, Path: path} }
	tests := []struct {
		name       string
		probes     [][]framework.Diff // one entry per probe: the prod-vs-prod diffs
		pairs      [][]framework.Diff // one entry per pair: the prod-vs-shadow diffs
		matches    int64
		categories []string
		reported   []string
		reason     string
	}{
		{name: "token always noisy", probes: repeat(4, value("$.token")), pairs: repeat(10, value("$.token")),
			matches: 10, reason: "a path that changes in every probe and every pair is noise: all pairs match"},
		{name: "regression in a deterministic field", probes: repeat(4, value("$.token")),
			pairs:   append(repeat(6, value("$.token")), repeat(4, value("$.token"), value("$.total"))...),
			matches: 6, categories: []string{"value $.total"},
			reason: "the deterministic field never changed between prod answers: never noise, and its pairs do not match"},
		{name: "noisy but far more often against the shadow", probes: append(repeat(1, value("$.cache")), repeat(9)...),
			pairs:   repeat(10, value("$.cache")),
			matches: 0, categories: []string{"value $.cache"}, reported: []string{"$.cache"},
			reason: "prod changes it in 1 of 10 probes, the shadow in 10 of 10 pairs: more than twice as often, still counted"},
		{name: "noisy about as often", probes: append(repeat(5, value("$.items[0].at")), repeat(5)...),
			pairs:   append(repeat(5, value("$.items[3].at")), repeat(5)...),
			matches: 10, reason: "indices fold: $.items[*].at changes in half the probes and half the pairs: noise"},
		{name: "no probes", pairs: repeat(3, value("$.token")), matches: 0, categories: []string{"value $.token"},
			reason: "without probes nothing is noise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewResults([]framework.Endpoint{{Name: "e", Noise: framework.Noise{Probe: 0.5}}})
			for _, diffs := range tt.probes {
				r.AddNoise("e", diffs)
			}
			for i, diffs := range tt.pairs {
				r.Add(&framework.Pair{Endpoint: "e", Exchange: framework.Exchange{Origin: fmt.Sprint(i)}, Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}}, diffs)
			}
			r.ApplyNoise()
			r.ApplyNoise() // once only
			e := r.Endpoint("e")
			if e.Matches != tt.matches {
				t.Errorf("matches %d, want %d (%s)", e.Matches, tt.matches, tt.reason)
			}
			var categories, reported []string
			for _, c := range e.TopCategories(0) {
				categories = append(categories, c.Name)
			}
			for _, n := range e.NoisePaths() {
				if n.Reported {
					reported = append(reported, n.Path)
				}
			}
			if fmt.Sprint(categories) != fmt.Sprint(tt.categories) || fmt.Sprint(reported) != fmt.Sprint(tt.reported) {
				t.Errorf("categories %v, reported noise %v; want %v, %v (%s)", categories, reported, tt.categories, tt.reported, tt.reason)
			}
		})
	}
}

// repeat returns n copies of the diff list.
func repeat(n int, diffs ...framework.Diff) [][]framework.Diff {
	out := make([][]framework.Diff, n)
	for i := range out {
		out[i] = diffs
	}
	return out
}
