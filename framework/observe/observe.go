// Package observe keeps the streaming per-endpoint aggregates of a run:
// pair and match counts, error counts for both targets, discrepancy
// categories with one example each, and latency distributions as sketches.
//
// Memory depends on the number of endpoints and categories, never on the
// number of requests. Aggregates merge, so shards of one run can be combined.
// It does not decide verdicts; the suite package does.
package observe

import (
	"fmt"
	"sort"
	"sync"

	"github.com/shadowtest/shadowtest/framework"
)

// Results are the aggregates of one run.
type Results struct {
	mu sync.Mutex
	// Endpoints in spec order.
	Endpoints []*Endpoint `json:"endpoints"`
	// Unmatched counts requests no endpoint covered, by "METHOD template".
	Unmatched map[string]int64 `json:"unmatched"`
	// Aborted says why the run stopped early; empty when it ran to the end.
	Aborted string `json:"aborted,omitempty"`
	// Filtered counts matched requests the mirror mode did not send, by
	// reason: "sampled out" (mode sampled), "not selected" (mode
	// selective). Requests of other shards are not counted: each request
	// is counted by exactly one shard.
	Filtered map[string]int64 `json:"filtered,omitempty"`
	// BadRecords counts malformed traffic records skipped under
	// --skip-bad-records.
	BadRecords int64 `json:"badRecords,omitempty"`
	// Verdicts are the outcomes of the threshold test cases, filled in
	// when the run is judged (merge judges again and replaces them).
	Verdicts []framework.Verdict `json:"verdicts,omitempty"`
	// Report holds the spec's report settings (redaction, example cap,
	// baseline margin), carried so that merge and report apply them.
	Report framework.ReportSettings `json:"report"`
	// Origin says which tool, spec, traffic and shard produced the
	// results, so that merge can tell a missing, repeated or foreign shard.
	Origin
	// Redact, when set, masks secrets in the category examples as they are
	// stored (the examples end up in the JUnit, results and HTML).
	Redact func(path, value string) string `json:"-"`
	byName map[string]*Endpoint
	runs   int
	// names are the member names each endpoint's category names keep;
	// run-time state, not part of the results file.
	names map[string]*names
}

// Origin says where results come from. Files of format version 1 have
// none of it.
type Origin struct {
	// Tool is the shadowtest that wrote the results, as `shadowtest
	// version` prints it.
	Tool string `json:"tool,omitempty"`
	// RunIDs identify the runs the results combine: one for a run, every
	// input's for a merge. Merge refuses a run given twice.
	RunIDs []string `json:"runIds,omitempty"`
	// Shard is the slice of the traffic the run sent; nil for a whole run
	// and for merged results.
	Shard *Shard `json:"shard,omitempty"`
	// SpecDigest identifies the effective spec: the endpoints with their
	// rules and thresholds, and the report settings (framework.SpecDigest).
	SpecDigest string `json:"specDigest,omitempty"`
	// TrafficDigest identifies the traffic selection: the sources, mirror
	// mode, sample rate and seed, selected endpoints and write policy
	// (framework.TrafficDigest).
	TrafficDigest string `json:"trafficDigest,omitempty"`
	// Missing says what a partial merge (merge --allow-partial) lacked,
	// e.g. "shard 3/4"; empty for a complete set.
	Missing []string `json:"missing,omitempty"`
}

// Shard is the slice Index (1-based) of Count of the traffic a run sent.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// String formats the shard as "K/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// NewResults returns empty aggregates for the plan's endpoints.
func NewResults(endpoints []framework.Endpoint) *Results {
	r := &Results{Unmatched: map[string]int64{}, byName: map[string]*Endpoint{}}
	for _, e := range endpoints {
		agg := newEndpoint(e.Name)
		declared := e
		agg.Spec = &declared
		r.Endpoints = append(r.Endpoints, agg)
		r.byName[e.Name] = agg
	}
	return r
}

// Endpoint returns the aggregates of the named endpoint, nil if unknown.
func (r *Results) Endpoint(name string) *Endpoint { return r.byName[name] }

// AddUnmatched counts a request that no endpoint covered.
func (r *Results) AddUnmatched(label string) {
	r.mu.Lock()
	r.Unmatched[label]++
	r.mu.Unlock()
}

// AddSkipped counts a request of the endpoint that the write policy did not
// send.
func (r *Results) AddSkipped(endpoint string) {
	r.mu.Lock()
	r.byName[endpoint].Skipped++
	r.mu.Unlock()
}

// Add records one mirrored pair and the differences found between its two
// responses (none means the pair matched). It sets pair.Categories to the
// pair's categories as the aggregates name them.
func (r *Results) Add(pair *framework.Pair, diffs []framework.Diff) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.byName[pair.Endpoint]
	if e == nil {
		return
	}
	if r.names == nil {
		r.names = map[string]*names{}
	}
	n := r.names[e.Name]
	if n == nil {
		n = &names{}
		r.names[e.Name] = n
	}
	e.add(pair, diffs, n, r.Redact)
}

// Snapshot calls fn with the results locked, for reading while a run is
// still adding to them.
func (r *Results) Snapshot(fn func(*Results)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r)
}

// Endpoint holds one endpoint's aggregates.
type Endpoint struct {
	// Name is the spec endpoint's name.
	Name string `json:"name"`
	// Spec is the endpoint as the spec declared it (method, path, rules,
	// thresholds, positions), so that merged results can be judged
	// without the spec directory.
	Spec *framework.Endpoint `json:"spec,omitempty"`
	// Requests counts the requests that reached the endpoint and were sent.
	Requests int64 `json:"requests"`
	// Pairs counts the requests prod answered: the pairs that were compared.
	Pairs int64 `json:"pairs"`
	// Matches counts the pairs whose responses matched under the rules.
	Matches int64 `json:"matches"`
	// Skipped counts requests the write policy did not send.
	Skipped int64 `json:"skipped"`
	// RecordedOnly counts unsafe requests the "record-only" write policy
	// logged instead of sending.
	RecordedOnly int64 `json:"recordedOnly,omitempty"`
	// NoRecording counts requests not sent because prod answers from the
	// recording and the recording has no response for them.
	NoRecording int64 `json:"noRecording,omitempty"`
	// Filtered counts the endpoint's requests the mirror mode did not
	// send, by reason ("sampled out", "not selected").
	Filtered map[string]int64 `json:"filtered,omitempty"`
	// ProdRetries and ShadowRetries count the attempts sent again after a
	// transport failure or a 429 (Target.Retries).
	ProdRetries   int64 `json:"prodRetries,omitempty"`
	ShadowRetries int64 `json:"shadowRetries,omitempty"`
	// ProdErrors and ShadowErrors count failures by kind: transport error
	// kinds ("refused", "timeout", ...) and "5xx" for server errors
	// (a gRPC server error counts under its code, "UNAVAILABLE").
	ProdErrors   map[string]int64 `json:"prodErrors"`
	ShadowErrors map[string]int64 `json:"shadowErrors"`
	// Categories counts differing pairs by discrepancy category.
	Categories map[string]*Category `json:"categories"`
	// ProdLatency and ShadowLatency are the latency distributions of the
	// answered requests.
	ProdLatency   *Latency `json:"prodLatency"`
	ShadowLatency *Latency `json:"shadowLatency"`
	// Noise maps a folded path to how often it differed between two prod
	// answers to the same request, with the ignore rule suggested for it.
	// Empty unless the spec asks for a noise probe.
	Noise map[string]*NoisePath `json:"noise,omitempty"`

	// The fields below are noise learning (issue 3, framework/observe/noise.go);
	// the results-file owner (issue 6): they serialise as named here.

	// Probes counts the requests sent to prod a second time.
	Probes int64 `json:"probes,omitempty"`
	// Denoised counts the pairs that count as matches because every
	// difference they showed was at a noise path; included in Matches.
	Denoised int64 `json:"denoised,omitempty"`
	// CategorySets counts differing pairs by their difference pattern:
	// their categories, each with what the shadow's value looked like
	// (shape.Fit), sorted and joined by "\n", so that pairs whose only
	// differences turn out to be noise of prod's shape can be counted as
	// matches at the end of the run. Kept only for endpoints with a noise
	// probe, at most maxCategorySets entries (coarsened beyond).
	CategorySets map[string]int64 `json:"categorySets,omitempty"`
	noiseApplied bool
	noise        noiseState
}

// NoisePath is a response path where prod differed from itself between
// two answers to the same request, and what noise learning decided there.
type NoisePath struct {
	// Path is the path with indices folded, e.g. "$.items[*].requestId".
	Path string `json:"path"`
	// Count is how many probed requests showed it.
	Count int64 `json:"count"`
	// Shape describes the shape learned from prod's values, e.g. "uuid".
	Shape string `json:"shape,omitempty"`
	// Rule is the learned shape as a spec shape rule in CUE ("uuid",
	// {pattern: "^...$"}); empty when Writable is false.
	Rule string `json:"rule,omitempty"`
	// Writable is set when the shape can be written as a shape rule (not
	// when prod sometimes omits the value or it is an object or array).
	Writable bool `json:"writable,omitempty"`
	// Shadow is how many pairs differed at the path with shadow values of
	// prod's shape; Misfit how many had a value outside it.
	Shadow int64 `json:"shadow,omitempty"`
	Misfit int64 `json:"misfit,omitempty"`
	// Decision is NoiseHidden, NoiseCounted or NoiseUndecided, and Reason
	// says why, with the figures.
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// PValue is the one-sided Fisher exact test's p-value (see decide).
	PValue float64 `json:"pValue,omitempty"`
	// Settle estimates the probes that would decide an undecided path.
	Settle int64 `json:"settle,omitempty"`
	// Reported is set when the differences at the path still count
	// (Decision is not NoiseHidden).
	Reported bool `json:"reported,omitempty"`
}

// Category is one kind of discrepancy at one path of one endpoint.
type Category struct {
	// Name is the category, e.g. "value $.items[*].price".
	Name string `json:"name"`
	// Count is the number of pairs showing it.
	Count int64 `json:"count"`
	// Example is the first difference seen in this category (values
	// redacted).
	Example framework.Diff `json:"example"`
	// Origin names the recorded request of the example.
	Origin string `json:"origin"`
}

func newEndpoint(name string) *Endpoint {
	return &Endpoint{
		Name:          name,
		ProdErrors:    map[string]int64{},
		ShadowErrors:  map[string]int64{},
		Categories:    map[string]*Category{},
		ProdLatency:   NewLatency(),
		ShadowLatency: NewLatency(),
	}
}

func (e *Endpoint) add(pair *framework.Pair, diffs []framework.Diff, kept *names, redact func(path, value string) string) {
	e.Requests++
	e.ProdRetries += int64(pair.Prod.Retries)
	e.ShadowRetries += int64(pair.Shadow.Retries)
	countErrors(e.ProdErrors, &pair.Prod)
	countErrors(e.ShadowErrors, &pair.Shadow)
	if pair.Prod.Failed() {
		// Nothing to compare against: counted as a prod error only.
		return
	}
	e.ProdLatency.Add(pair.Prod.Latency)
	if !pair.Shadow.Failed() {
		e.ShadowLatency.Add(pair.Shadow.Latency)
	}
	e.Pairs++
	if len(diffs) == 0 {
		e.Matches++
		return
	}
	seen := make(map[string]bool, len(diffs))
	pair.Categories = pair.Categories[:0]
	for _, d := range diffs {
		name := e.category(d, kept)
		if seen[name] {
			continue
		}
		seen[name] = true
		pair.Categories = append(pair.Categories, name)
		c := e.Categories[name]
		if c == nil {
			c = &Category{Name: name}
			e.Categories[name] = c
		}
		// The example is the one with the smallest origin: the same
		// whatever order concurrent pairs arrive in.
		if c.Count == 0 || exampleBefore(pair.Exchange.Origin, d.Path, c) {
			if redact != nil {
				d.Prod, d.Shadow = redact(d.Path, d.Prod), redact(d.Path, d.Shadow)
			}
			d.Excerpt = "" // the log and the HTML report show it; results stay small
			c.Example, c.Origin = d, pair.Exchange.Origin
		}
		c.Count++
	}
	e.noteCategorySet(pair, diffs, redact)
}

// exampleBefore reports whether the difference at path of the pair from
// origin comes before c's example: by origin, then path.
func exampleBefore(origin, path string, c *Category) bool {
	if origin != c.Origin {
		return origin < c.Origin
	}
	return path < c.Example.Path
}

func countErrors(counts map[string]int64, r *framework.Response) {
	switch {
	case r.Failed():
		counts[r.ErrKind]++
	case r.RPC != nil && framework.RPCServerError(r.RPC.Code):
		counts[framework.RPCCodeName(r.RPC.Code)]++ // a gRPC server error, by its code
	case r.Status >= 500:
		counts["5xx"]++
	}
}

// MatchRate is Matches/Pairs, 0 when there are no pairs.
func (e *Endpoint) MatchRate() float64 {
	if e.Pairs == 0 {
		return 0
	}
	return float64(e.Matches) / float64(e.Pairs)
}

// ErrorCount sums the counts of an error map.
func ErrorCount(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// TopCategories returns the endpoint's categories, most frequent first
// (ties by name), at most n of them (all when n <= 0).
func (e *Endpoint) TopCategories(n int) []*Category {
	out := make([]*Category, 0, len(e.Categories))
	for _, c := range e.Categories {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Merge adds other's aggregates for the same endpoint into e.
func (e *Endpoint) Merge(other *Endpoint) {
	e.Requests += other.Requests
	e.Pairs += other.Pairs
	e.Matches += other.Matches
	e.Skipped += other.Skipped
	e.RecordedOnly += other.RecordedOnly
	e.NoRecording += other.NoRecording
	for reason, n := range other.Filtered {
		if e.Filtered == nil {
			e.Filtered = map[string]int64{}
		}
		e.Filtered[reason] += n
	}
	e.ProdRetries += other.ProdRetries
	e.ShadowRetries += other.ShadowRetries
	for k, v := range other.ProdErrors {
		e.ProdErrors[k] += v
	}
	for k, v := range other.ShadowErrors {
		e.ShadowErrors[k] += v
	}
	for _, c := range other.TopCategories(0) { // most frequent first: they keep their names
		name := c.Name
		if e.Categories[name] == nil && len(e.Categories) >= MaxCategories {
			name = OtherCategory
		}
		mine := e.Categories[name]
		if mine == nil {
			copied := *c
			copied.Name = name
			e.Categories[name] = &copied
			continue
		}
		mine.Count += c.Count
	}
	for path, n := range other.Noise {
		if e.Noise == nil {
			e.Noise = map[string]*NoisePath{}
		}
		if mine := e.Noise[path]; mine != nil {
			mine.Count += n.Count
			mine.Shadow += n.Shadow
			mine.Misfit += n.Misfit
			if n.Reported && !mine.Reported {
				mine.Decision, mine.Reason = n.Decision, n.Reason
			}
			mine.Reported = mine.Reported || n.Reported
			continue
		}
		copied := *n
		e.Noise[path] = &copied
	}
	e.mergeNoise(other)
	e.ProdLatency.Merge(other.ProdLatency)
	e.ShadowLatency.Merge(other.ShadowLatency)
}
