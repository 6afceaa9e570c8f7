package observe

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Format names the results file format; Version is its version. A reader
// accepts files of its own version and older ones, and fails on newer ones.
// Version 2 gave every key a fixed camelCase name (version 1 wrote some
// Go field names, "Rules", "MatchRatePos": they still read, since the
// names only differ in case) and added the origin: tool, run IDs, shard,
// spec and traffic digests. The JSON Schema of the format is
// schemas/results.schema.json.
const (
	Format  = "shadowtest-results"
	Version = 2
)

// MarshalJSON writes the results file (--results FILE): "format",
// "version" and "runs" (how many runs or shards the results combine), then
// every aggregate. Fields added by later versions get explicit JSON names
// and zero values that mean "not measured", so older files still decode.
func (r *Results) MarshalJSON() ([]byte, error) {
	type plain Results // without this method
	runs := r.runs
	if runs == 0 {
		runs = 1
	}
	return json.Marshal(struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
		Runs    int    `json:"runs"`
		*plain
	}{Format, Version, runs, (*plain)(r)})
}

// UnmarshalJSON reads a results file, checking its format and version.
func (r *Results) UnmarshalJSON(data []byte) error {
	type plain Results
	var f struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
		Runs    int    `json:"runs"`
		*plain
	}
	f.plain = (*plain)(r)
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	switch {
	case f.Format != Format:
		return fmt.Errorf("not a shadowtest results file (format %q, want %q)", f.Format, Format)
	case f.Version < 1 || f.Version > Version:
		return fmt.Errorf("results format version %d is not supported: this shadowtest reads versions 1 to %d; read the file with the shadowtest that wrote it, or a newer one", f.Version, Version)
	}
	r.runs = max(f.Runs, 1)
	r.index()
	return r.checkCounts()
}

// maxCount bounds every count of a results file: far more than a run can
// reach, and far from overflowing when shards add up.
const maxCount = 1 << 50

// checkCounts refuses counts no run can produce (negative, more matches
// than pairs, a category in more pairs than there are): a damaged or
// edited file would otherwise pass a gate with a match rate of 9.
func (r *Results) checkCounts() error {
	bad := func(n int64) bool { return n < 0 || n > maxCount }
	for _, e := range r.Endpoints {
		counts := []int64{e.Requests, e.Pairs, e.Matches, e.Skipped, e.RecordedOnly, e.NoRecording, e.ProdRetries, e.ShadowRetries, e.Probes}
		for _, m := range []map[string]int64{e.ProdErrors, e.ShadowErrors, e.Filtered} {
			for _, n := range m {
				counts = append(counts, n)
			}
		}
		for _, c := range e.Categories {
			counts = append(counts, c.Count)
			if c.Count > e.Pairs {
				return fmt.Errorf("endpoint %q: category %q counts %d pairs of %d: the file is damaged", e.Name, c.Name, c.Count, e.Pairs)
			}
		}
		for _, n := range counts {
			if bad(n) {
				return fmt.Errorf("endpoint %q: count %d is out of range: the file is damaged", e.Name, n)
			}
		}
		if e.Matches > e.Pairs {
			return fmt.Errorf("endpoint %q: %d matches of %d pairs: the file is damaged", e.Name, e.Matches, e.Pairs)
		}
	}
	for _, n := range r.Unmatched {
		if bad(n) {
			return fmt.Errorf("unmatched count %d is out of range: the file is damaged", n)
		}
	}
	return nil
}

// index rebuilds the name index and fills maps a file may leave out.
func (r *Results) index() {
	if r.Unmatched == nil {
		r.Unmatched = map[string]int64{}
	}
	r.byName = map[string]*Endpoint{}
	for i, e := range r.Endpoints {
		if e == nil {
			e = newEndpoint("")
			r.Endpoints[i] = e
		}
		fresh := newEndpoint(e.Name)
		if e.ProdErrors == nil {
			e.ProdErrors = fresh.ProdErrors
		}
		if e.ShadowErrors == nil {
			e.ShadowErrors = fresh.ShadowErrors
		}
		if e.Categories == nil {
			e.Categories = fresh.Categories
		}
		for name, c := range e.Categories {
			if c == nil {
				delete(e.Categories, name)
			}
		}
		for path, n := range e.Noise {
			if n == nil {
				delete(e.Noise, path)
			}
		}
		if e.ProdLatency == nil {
			e.ProdLatency = fresh.ProdLatency
		}
		if e.ShadowLatency == nil {
			e.ShadowLatency = fresh.ShadowLatency
		}
		r.byName[e.Name] = e
	}
}

// Runs is how many runs these results combine (1 for a single run).
func (r *Results) Runs() int { return max(r.runs, 1) }

// WriteFile writes the results to path as indented JSON.
func (r *Results) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Write writes the results to w as indented JSON.
func (r *Results) Write(w io.Writer) error {
	r.mu.Lock()
	data, err := json.MarshalIndent(r, "", "  ")
	r.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// ReadFile reads a results file; errors name the file.
func ReadFile(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Decode reads one results document.
func Decode(rd io.Reader) (*Results, error) {
	r := &Results{}
	dec := json.NewDecoder(rd)
	if err := dec.Decode(r); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("offset %d: %w", syntax.Offset, err)
		}
		return nil, err
	}
	return r, nil
}

// Absorb adds other's aggregates into r, endpoint by endpoint (see
// Merge); an endpoint r does not know is an error.
func (r *Results) Absorb(other *Results) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range other.Endpoints {
		mine := r.byName[e.Name]
		if mine == nil {
			return fmt.Errorf("endpoint %q is not in these results", e.Name)
		}
		mine.Merge(e)
	}
	for label, n := range other.Unmatched {
		r.Unmatched[label] += n
	}
	r.runs += other.Runs() // results of a run in progress count as 0 runs until absorbed
	if other.Aborted != "" {
		r.Aborted = other.Aborted
	}
	return nil
}

// Merge combines the results of shards of one run (the same specs, disjoint
// traffic) into new results: counts add up, latency sketches merge, each
// category keeps the first shard's example. Endpoints keep the first
// file's order; an endpoint only some shards know is added at the end.
// The report settings are the first file's. It fails when shards disagree
// about an endpoint's spec.
func Merge(shards ...*Results) (*Results, error) {
	out := &Results{Unmatched: map[string]int64{}, byName: map[string]*Endpoint{}}
	var aborted []string
	for i, s := range shards {
		if i == 0 {
			out.Report = s.Report
			out.SpecDigest, out.TrafficDigest = s.SpecDigest, s.TrafficDigest
		}
		if s.SpecDigest != out.SpecDigest {
			out.SpecDigest = ""
		}
		if s.TrafficDigest != out.TrafficDigest {
			out.TrafficDigest = ""
		}
		out.RunIDs = append(out.RunIDs, s.RunIDs...)
		out.Missing = append(out.Missing, s.Missing...)
		out.runs += s.Runs()
		for _, e := range s.Endpoints {
			mine := out.byName[e.Name]
			if mine == nil {
				mine = newEndpoint(e.Name)
				mine.Spec = e.Spec
				out.Endpoints = append(out.Endpoints, mine)
				out.byName[e.Name] = mine
			} else if !sameSpec(mine, e) {
				return nil, fmt.Errorf("results %d: endpoint %q is declared differently than in results 1 (merge only shards of one run with the same specs)", i+1, e.Name)
			}
			mine.Merge(e)
		}
		for label, n := range s.Unmatched {
			out.Unmatched[label] += n
		}
		for reason, n := range s.Filtered {
			if out.Filtered == nil {
				out.Filtered = map[string]int64{}
			}
			out.Filtered[reason] += n
		}
		out.BadRecords += s.BadRecords
		if s.Aborted != "" {
			aborted = append(aborted, fmt.Sprintf("results %d: %s", i+1, s.Aborted))
		}
	}
	if len(aborted) > 0 {
		out.Aborted = fmt.Sprint(aborted)
	}
	return out, nil
}

// maxShards bounds the shard count a results file may claim, so that a
// damaged file cannot make CheckSet list millions of missing shards.
const maxShards = 100000

// CheckSet checks that results (named by names, in the same order) are one
// complete set: either whole runs of one spec, or the N shards of one
// sharded run, each given once, from the same spec and traffic selection.
// Problems that make the set unusable (mixed sets, foreign or repeated
// shards, another spec) are errors; missing shards are returned in
// missing ("shard 3/4"), and --allow-partial may judge without them.
// Results without an origin (format 1) cannot be checked: they are
// listed in missing too.
func CheckSet(names []string, set []*Results) (missing []string, err error) {
	var problems []string
	seenRun := map[string]string{}
	for i, r := range set {
		for _, id := range r.RunIDs {
			if first, ok := seenRun[id]; ok {
				problems = append(problems, fmt.Sprintf("%s and %s are the same run given twice", first, names[i]))
			}
			seenRun[id] = names[i]
		}
	}
	differ := func(what string, of func(*Results) string) {
		groups := map[string][]string{}
		var order []string
		for i, r := range set {
			v := of(r)
			if v == "" {
				continue
			}
			if groups[v] == nil {
				order = append(order, v)
			}
			groups[v] = append(groups[v], names[i])
		}
		if len(order) > 1 {
			var parts []string
			for _, v := range order {
				parts = append(parts, strings.Join(groups[v], ", ")+" ("+v[:min(len(v), 19)]+"...)")
			}
			problems = append(problems, fmt.Sprintf("the results come from different %s: %s", what, strings.Join(parts, " vs ")))
		}
	}
	differ("specs (spec digests differ; merge the shards of one run, with the same specs)", func(r *Results) string { return r.SpecDigest })
	var sharded, whole []string
	count := 0
	byIndex := map[int][]string{}
	for i, r := range set {
		switch {
		case r.SpecDigest == "":
			missing = append(missing, fmt.Sprintf("%s has no shard or digest (results format 1, or an older shadowtest): the set cannot be checked", names[i]))
		case r.Shard == nil:
			whole = append(whole, names[i])
		case r.Shard.Index < 1 || r.Shard.Index > r.Shard.Count || r.Shard.Count > maxShards:
			problems = append(problems, fmt.Sprintf("%s: shard %s is not a valid K/N (1 <= K <= N <= %d)", names[i], r.Shard, maxShards))
		default:
			sharded = append(sharded, names[i])
			if count != 0 && r.Shard.Count != count {
				problems = append(problems, fmt.Sprintf("%s is shard %s, but an earlier file is a shard of %d", names[i], r.Shard, count))
				continue
			}
			count = r.Shard.Count
			byIndex[r.Shard.Index] = append(byIndex[r.Shard.Index], names[i])
		}
	}
	if len(sharded) > 0 {
		differ("traffic (traffic digests differ: sources, mode, rate, seed or write policy; every shard must select from the same traffic)", func(r *Results) string { return r.TrafficDigest })
		if len(whole) > 0 {
			problems = append(problems, fmt.Sprintf("%s are shards of a sharded run but %s are whole runs (no --shard): merge one or the other", strings.Join(sharded, ", "), strings.Join(whole, ", ")))
		}
		for k := 1; k <= count; k++ {
			switch files := byIndex[k]; {
			case len(files) == 0:
				missing = append(missing, fmt.Sprintf("shard %d/%d missing", k, count))
			case len(files) > 1:
				problems = append(problems, fmt.Sprintf("shard %d/%d given twice (%s)", k, count, strings.Join(files, ", ")))
			}
		}
	}
	for _, m := range set {
		for _, what := range m.Missing {
			missing = append(missing, what+" (already missing in a merged input)")
		}
	}
	if len(problems) > 0 {
		return missing, errors.New(strings.Join(problems, "; "))
	}
	return missing, nil
}

// RepeatedSelections lists the whole runs (not shards) among set that
// share a traffic selection, as "a.json, b.json": merging them is right
// when the recordings behind the same names changed between the runs, and
// doubles every count when they did not.
func RepeatedSelections(names []string, set []*Results) []string {
	byDigest := map[string][]string{}
	var order []string
	for i, r := range set {
		if r.Shard != nil || r.TrafficDigest == "" {
			continue
		}
		if byDigest[r.TrafficDigest] == nil {
			order = append(order, r.TrafficDigest)
		}
		byDigest[r.TrafficDigest] = append(byDigest[r.TrafficDigest], names[i])
	}
	var out []string
	for _, d := range order {
		if len(byDigest[d]) > 1 {
			out = append(out, strings.Join(byDigest[d], ", "))
		}
	}
	return out
}

func sameSpec(a, b *Endpoint) bool {
	if a.Spec == nil || b.Spec == nil {
		return true
	}
	x, _ := json.Marshal(a.Spec)
	y, _ := json.Marshal(b.Spec)
	return string(x) == string(y)
}

// latencyJSON is a latency distribution in the results file: quantiles
// for people (milliseconds) and the encoded DDSketch for merging.
type latencyJSON struct {
	Count  int64   `json:"count"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	Sketch []byte  `json:"sketch"`
}

// MarshalJSON writes the count, p50/p90/p99 in milliseconds and the sketch
// (DDSketch binary encoding, base64).
func (l *Latency) MarshalJSON() ([]byte, error) {
	var enc []byte
	l.sketch.Encode(&enc, false)
	return json.Marshal(latencyJSON{
		Count:  l.Count(),
		P50Ms:  ms(l.Quantile(0.5)),
		P90Ms:  ms(l.Quantile(0.9)),
		P99Ms:  ms(l.Quantile(0.99)),
		Sketch: enc,
	})
}

// UnmarshalJSON restores the distribution from its sketch; the quantiles
// in the file are informational.
func (l *Latency) UnmarshalJSON(data []byte) error {
	var v latencyJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	fresh := NewLatency()
	if len(v.Sketch) > 0 {
		if err := fresh.sketch.DecodeAndMergeWith(v.Sketch); err != nil {
			return fmt.Errorf("latency sketch: %w", err)
		}
	}
	*l = *fresh
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
