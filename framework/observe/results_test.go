package observe

import (
	"bytes"
	"encoding/json"
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
	for _, want := range []string{`"format":"shadowtest-results"`, `"version":1`, `"runs":1`, `"p99Ms":`, `"categories":{"value $.items[*].price":`} {
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
	})
}
