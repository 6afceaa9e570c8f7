package observe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func sampleResults() *Results {
	r := NewResults([]framework.Endpoint{
		{Name: "get-user", Method: "GET", Path: "/users/{id}", Pos: framework.Position{File: "specs/u.cue", Line: 3, Col: 1},
			Rules:      framework.Rules{Ignore: []string{"$..requestId"}, Tolerance: map[string]framework.Tolerance{"$.total": {Abs: 0.01}}},
			Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 5}},
		{Name: "health", Method: "GET", Path: "/health"},
	})
	r.Report = framework.ReportSettings{Redact: []string{"$.password"}, Examples: 3, BaselineMargin: 0.01}
	for i := range 50 {
		var diffs []framework.Diff
		if i%5 == 0 {
			diffs = []framework.Diff{{Path: "$.items[2].price", Kind: framework.KindValue, Prod: "1", Shadow: "<script>"}}
		}
		addPair(r, "get-user", time.Duration(i+1)*time.Millisecond, "", diffs...)
	}
	addPair(r, "get-user", time.Millisecond, "timeout")
	r.AddUnmatched("GET /nowhere")
	r.AddSkipped("health")
	r.Aborted = "interrupted"
	r.Endpoint("get-user").Noise = map[string]*NoisePath{"$.requestId": {Path: "$.requestId", Count: 4, Rule: "$..requestId"}}
	r.Verdicts = []framework.Verdict{{Endpoint: "get-user", Threshold: "match rate >= 0.99", State: "failed", Message: "m", Location: "u.cue:3"}}
	return r
}

// TestResultsRoundTrip proves that every exported aggregate survives the
// results file, including fields other issues add later: the comparison is
// reflective, so a new field that does not round-trip fails here.
func TestResultsRoundTrip(t *testing.T) {
	r := sampleResults()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	again, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("encode(decode(x)) != x:\n%s\n%s", data, again)
	}
	for i, e := range r.Endpoints {
		b := back.Endpoints[i]
		if b.ProdLatency.Quantile(0.99) != e.ProdLatency.Quantile(0.99) || b.ProdLatency.Count() != e.ProdLatency.Count() {
			t.Errorf("%s: latency p99 %v/%v count %d/%d", e.Name, b.ProdLatency.Quantile(0.99), e.ProdLatency.Quantile(0.99), b.ProdLatency.Count(), e.ProdLatency.Count())
		}
		// Compare everything else reflectively.
		ec, bc := *e, *b
		ec.ProdLatency, ec.ShadowLatency, bc.ProdLatency, bc.ShadowLatency = nil, nil, nil, nil
		if !reflect.DeepEqual(ec, bc) {
			t.Errorf("endpoint %s differs after a round trip:\n%+v\n%+v", e.Name, ec, bc)
		}
	}
	if back.Endpoint("get-user") != back.Endpoints[0] || back.Aborted != r.Aborted || !reflect.DeepEqual(back.Unmatched, r.Unmatched) || !reflect.DeepEqual(back.Report, r.Report) || !reflect.DeepEqual(back.Verdicts, r.Verdicts) {
		t.Errorf("run-level fields lost: %+v", back)
	}
	for _, want := range []string{`"format":"shadowtest-results"`, `"version":2`, `"runs":1`, `"p99Ms":`, `"categories":{"value $.items[*].price":`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("results JSON lacks %s", want)
		}
	}
}

func TestResultsFileErrors(t *testing.T) {
	for _, tc := range []struct {
		reason, doc, want string
	}{
		{"another JSON file", `{"format":"other","version":1}`, `not a shadowtest results file`},
		{"a newer version", `{"format":"shadowtest-results","version":99}`, `version 99 is not supported`},
		{"broken JSON", `{"format":`, `unexpected EOF`},
		{"wrong type", `{"format":"shadowtest-results","version":1,"endpoints":[{"pairs":"x"}]}`, `cannot unmarshal`},
		// A damaged or edited shard must not pass a gate through merge.
		{"more matches than pairs", `{"format":"shadowtest-results","version":2,"endpoints":[{"name":"a","pairs":3,"matches":27}]}`, `27 matches of 3 pairs`},
		{"a negative count", `{"format":"shadowtest-results","version":2,"endpoints":[{"name":"a","pairs":-5}]}`, `out of range`},
		{"a count that overflows when shards add up", `{"format":"shadowtest-results","version":2,"endpoints":[{"name":"a","pairs":4611686018427387904}]}`, `out of range`},
		{"a category in more pairs than there are", `{"format":"shadowtest-results","version":2,"endpoints":[{"name":"a","pairs":2,"categories":{"value $.x":{"name":"value $.x","count":5}}}]}`, `counts 5 pairs of 2`},
	} {
		_, err := Decode(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.reason, err, tc.want)
		}
	}
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil {
		t.Error("a missing file must fail")
	}
}

func TestResultsOlderFileWithoutNewFields(t *testing.T) {
	doc := `{"format":"shadowtest-results","version":1,"endpoints":[{"name":"a","pairs":3,"matches":3}]}`
	r, err := Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	e := r.Endpoint("a")
	if e == nil || e.MatchRate() != 1 || e.Categories == nil || e.ProdLatency.Count() != 0 {
		t.Fatalf("missing fields must decode to usable zero values: %+v", e)
	}
	e.Merge(sampleResults().Endpoint("get-user")) // maps and sketches are usable
}

func TestMergeFiles(t *testing.T) {
	a, b := sampleResults(), sampleResults()
	dir := t.TempDir()
	for i, r := range []*Results{a, b} {
		if err := r.WriteFile(filepath.Join(dir, string(rune('a'+i))+".json")); err != nil {
			t.Fatal(err)
		}
	}
	ra, err := ReadFile(filepath.Join(dir, "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := ReadFile(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(ra, rb)
	if err != nil {
		t.Fatal(err)
	}
	e := m.Endpoint("get-user")
	if m.Runs() != 2 || e.Pairs != 102 || e.Categories["value $.items[*].price"].Count != 20 || e.ProdLatency.Count() != 102 || m.Unmatched["GET /nowhere"] != 2 {
		t.Errorf("merged runs %d pairs %d, categories %v", m.Runs(), e.Pairs, e.Categories)
	}
	if m.Endpoint("health").Skipped != 2 || e.Spec == nil || e.Spec.Thresholds.MatchRate != 0.99 {
		t.Errorf("merged skipped / spec lost: %+v", e.Spec)
	}
	rb.Endpoints[0].Spec.Thresholds.MatchRate = 0.5
	if _, err := Merge(ra, rb); err == nil || !strings.Contains(err.Error(), "declared differently") {
		t.Errorf("shards of different specs must not merge: %v", err)
	}
}

func TestRedactHookMasksExamples(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "a"}})
	r.Redact = func(path, value string) string {
		if path == "header:Set-Cookie" {
			return "[REDACTED]"
		}
		return value
	}
	addPair(r, "a", time.Millisecond, "", framework.Diff{Path: "header:Set-Cookie", Kind: framework.KindHeader, Prod: "sid=1", Shadow: "sid=2"})
	if c := r.Endpoint("a").Categories["header header:Set-Cookie"]; c == nil || c.Example.Prod != "[REDACTED]" || c.Example.Shadow != "[REDACTED]" {
		t.Errorf("example not redacted: %+v", c)
	}
}

func FuzzDecode(f *testing.F) {
	data, _ := json.Marshal(sampleResults())
	f.Add(data)
	f.Add([]byte(`{"format":"shadowtest-results","version":1,"endpoints":[null,{"name":"a","categories":{"x":null},"noise":{"y":null}}]}`))
	f.Add([]byte(`{"format":"shadowtest-results","version":2,"specDigest":"sha256:1","shard":{"index":2,"count":4},"endpoints":[]}`))
	f.Add([]byte(`{"format":"shadowtest-results","version":2,"specDigest":"sha256:1","shard":{"index":0,"count":999999999999},"endpoints":[]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		r, err := Decode(bytes.NewReader(doc))
		if err != nil {
			return
		}
		for _, e := range r.Endpoints {
			_ = e.MatchRate()
			_ = e.TopCategories(3)
			_ = e.ProdLatency.Quantile(0.5)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("decoded results do not encode: %v", err)
		}
		if _, err := Merge(r, r); err != nil && !strings.Contains(err.Error(), "declared differently") {
			t.Fatalf("merge: %v", err)
		}
		if missing, _ := CheckSet([]string{"a", "b"}, []*Results{r, r}); len(missing) > maxShards+2 {
			t.Fatalf("%d missing shards listed", len(missing))
		}
	})
}

// TestResultsVersion1FileIsRead reads a results file written by the
// previous format (version 1, whose spec and verdict keys were Go field
// names such as "MatchRatePos" and "State"): every field still decodes,
// and writing it again gives version 2 with camelCase keys.
func TestResultsVersion1FileIsRead(t *testing.T) {
	r, err := ReadFile("testdata/results-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	e := r.Endpoint("get-order")
	if e == nil || e.Spec == nil {
		t.Fatalf("get-order or its spec lost: %+v", e)
	}
	th := e.Spec.Thresholds
	if e.Spec.Method != "GET" || e.Spec.Path != "/orders/{id}" || th.MatchRate != 0.99 || th.MinSamples != 20 ||
		th.MatchRatePos.File != "specs/demo/shadow.cue" || th.MatchRatePos.Line != 35 || !th.LatencyP99Monitored ||
		len(e.Spec.Rules.Ignore) == 0 || e.Pairs != 81 || e.Categories["missing $.currency"].Count != 22 {
		t.Errorf("version 1 spec fields lost: %+v", e.Spec)
	}
	if len(r.Verdicts) == 0 || r.Verdicts[0].State == "" || r.Verdicts[0].Threshold == "" {
		t.Errorf("version 1 verdicts lost: %+v", r.Verdicts)
	}
	var out bytes.Buffer
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"version": 2`) {
		t.Errorf("rewritten file is not version 2")
	}
	var keys []string
	collectKeys(t, out.Bytes(), &keys)
	for _, k := range keys {
		if k[0] < 'a' || k[0] > 'z' {
			t.Errorf("key %q is not camelCase", k)
		}
	}
}

// collectKeys lists the object keys of a results document, except the
// keys of maps whose keys are data (categories, error kinds, paths).
func collectKeys(t *testing.T, doc []byte, keys *[]string) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	dataKeyed := map[string]bool{"unmatched": true, "filtered": true, "prodErrors": true, "shadowErrors": true, "categories": true, "noise": true, "categorySets": true, "tolerance": true}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				*keys = append(*keys, k)
				if m, ok := child.(map[string]any); ok && dataKeyed[k] {
					for _, grandchild := range m {
						walk(grandchild)
					}
					continue
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(v)
}

// TestResultsFieldsHaveJSONNames walks every type the results file holds:
// each exported field has an explicit camelCase json name, so renaming a
// Go field cannot change the versioned format.
func TestResultsFieldsHaveJSONNames(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, where string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() == "time" {
			return
		}
		seen[typ] = true
		if _, custom := reflect.PointerTo(typ).MethodByName("MarshalJSON"); custom && typ != reflect.TypeFor[Results]() {
			return // Latency writes its own fields
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, ok := f.Tag.Lookup("json")
			name, _, _ := strings.Cut(tag, ",")
			switch {
			case f.Anonymous && !ok:
				walk(f.Type, where)
				continue
			case name == "-":
				continue
			case !ok || name == "":
				t.Errorf("%s.%s (%s) has no json name", typ.Name(), f.Name, where)
			case name[0] < 'a' || name[0] > 'z' || strings.ContainsAny(name, "_- "):
				t.Errorf("%s.%s: json name %q is not camelCase", typ.Name(), f.Name, name)
			}
			walk(f.Type, where+"."+name)
		}
	}
	walk(reflect.TypeFor[Results](), "results")
	if len(seen) < 10 {
		t.Errorf("walked only %d types", len(seen))
	}
}

func TestRepeatedSelections(t *testing.T) {
	whole := func(id, traffic string) *Results {
		r := sampleResults()
		r.RunIDs, r.SpecDigest, r.TrafficDigest = []string{id}, "sha256:aa", traffic
		return r
	}
	shard := whole("s", "sha256:t1")
	shard.Shard = &Shard{Index: 1, Count: 2}
	got := RepeatedSelections([]string{"a", "b", "c", "d"}, []*Results{whole("1", "sha256:t1"), whole("2", "sha256:t2"), whole("3", "sha256:t1"), shard})
	if strings.Join(got, "|") != "a, c" {
		t.Errorf("repeated selections %q, want only a and c", got)
	}
}

func TestCheckSet(t *testing.T) {
	shard := func(k, n int, spec, traffic string) *Results {
		r := sampleResults()
		r.RunIDs = []string{fmt.Sprintf("run-%d-%d-%s-%s", k, n, spec, traffic)}
		r.SpecDigest, r.TrafficDigest = spec, traffic
		if n > 1 {
			r.Shard = &Shard{Index: k, Count: n}
		}
		return r
	}
	s1, s2, s3 := shard(1, 3, "sha256:aa", "sha256:tt"), shard(2, 3, "sha256:aa", "sha256:tt"), shard(3, 3, "sha256:aa", "sha256:tt")
	for _, tc := range []struct {
		reason  string
		set     []*Results
		missing string
		err     string
	}{
		{"a complete set", []*Results{s3, s1, s2}, "", ""},
		{"one shard missing", []*Results{s1, s3}, "shard 2/3 missing", ""},
		{"a shard given twice", []*Results{s1, s2, s2}, "shard 3/3 missing", "b.json and c.json are the same run given twice"},
		{"a shard run twice", []*Results{s1, s2, s3, shard(2, 3, "sha256:aa", "sha256:tt2")}, "", "shard 2/3 given twice (b.json, d.json)"},
		{"another spec", []*Results{s1, s2, shard(3, 3, "sha256:bb", "sha256:tt")}, "", "different specs"},
		{"other traffic", []*Results{s1, s2, shard(3, 3, "sha256:aa", "sha256:xx")}, "", "different traffic"},
		{"another shard count", []*Results{s1, s2, shard(3, 4, "sha256:aa", "sha256:tt")}, "shard 3/3 missing", "c.json is shard 3/4, but an earlier file is a shard of 3"},
		{"shards and a whole run", []*Results{s1, s2, s3, shard(1, 1, "sha256:aa", "sha256:tt")}, "", "are whole runs (no --shard)"},
		{"whole runs of other traffic", []*Results{shard(1, 1, "sha256:aa", "sha256:t1"), shard(1, 1, "sha256:aa", "sha256:t2")}, "", ""},
		{"whole runs of one traffic selection", []*Results{shard(1, 1, "sha256:aa", "sha256:t1"), shard(2, 1, "sha256:aa", "sha256:t1")}, "", ""},
		{"a version 1 file", []*Results{s1, s2, s3, {}}, "d.json has no shard or digest", ""},
		{"a damaged shard", []*Results{s1, s2, s3, shard(5, 3, "sha256:aa", "sha256:tt")}, "", "d.json: shard 5/3 is not a valid K/N"},
		{"a huge shard count", []*Results{shard(1, 1<<40, "sha256:aa", "sha256:tt")}, "", "is not a valid K/N"},
	} {
		names := []string{"a.json", "b.json", "c.json", "d.json"}[:len(tc.set)]
		missing, err := CheckSet(names, tc.set)
		if got := strings.Join(missing, "; "); (tc.missing == "") != (got == "") || !strings.Contains(got, tc.missing) {
			t.Errorf("%s: missing %q, want %q", tc.reason, got, tc.missing)
		}
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.reason, err, tc.err)
		}
	}
}
