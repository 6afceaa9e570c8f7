package observe

import (
	"errors"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func addPair(r *Results, endpoint string, prodLatency time.Duration, shadowErr string, diffs ...framework.Diff) {
	p := &framework.Pair{Endpoint: endpoint, Prod: framework.Response{Status: 200, Latency: prodLatency}, Shadow: framework.Response{Status: 200, Latency: prodLatency}}
	if shadowErr != "" {
		p.Shadow = framework.Response{Err: errors.New(shadowErr), ErrKind: shadowErr}
	}
	r.Add(p, diffs)
}

func TestAddCountsPairsMatchesErrorsAndCategories(t *testing.T) {
	r := NewResults([]framework.Endpoint{{Name: "a"}})
	price := func(i string) framework.Diff {
		return framework.Diff{Path: "$.items[" + i + "].price", Kind: framework.KindValue, Prod: "1", Shadow: "2"}
	}
	addPair(r, "a", time.Millisecond, "")
	addPair(r, "a", time.Millisecond, "", price("0"), price("3"))
	addPair(r, "a", time.Millisecond, "", price("1"))
	addPair(r, "a", time.Millisecond, "refused", framework.Diff{Path: "response", Kind: framework.KindError})
	r.Add(&framework.Pair{Endpoint: "a", Prod: framework.Response{Err: errors.New("x"), ErrKind: "timeout"}}, nil)
	r.Add(&framework.Pair{Endpoint: "unknown"}, nil)
	e := r.Endpoint("a")
	if e.Requests != 5 || e.Pairs != 4 || e.Matches != 1 {
		t.Errorf("requests %d pairs %d matches %d, want 5 4 1 (a prod failure is not a pair)", e.Requests, e.Pairs, e.Matches)
	}
	if c := e.Categories["value $.items[*].price"]; c == nil || c.Count != 2 || c.Example.Path != "$.items[0].price" {
		t.Errorf("category counts pairs, not diffs, and keeps the first example: %+v", c)
	}
	if e.ShadowErrors["refused"] != 1 || e.ProdErrors["timeout"] != 1 {
		t.Errorf("errors prod %v shadow %v", e.ProdErrors, e.ShadowErrors)
	}
	if top := e.TopCategories(1); len(top) != 1 || top[0].Name != "value $.items[*].price" {
		t.Errorf("top categories %v", top)
	}
}

func TestMergeEqualsOneRun(t *testing.T) {
	endpoints := []framework.Endpoint{{Name: "a"}}
	whole, shard1, shard2 := NewResults(endpoints), NewResults(endpoints), NewResults(endpoints)
	for i := range 100 {
		var diffs []framework.Diff
		if i%7 == 0 {
			diffs = []framework.Diff{{Path: "status", Kind: framework.KindStatus}}
		}
		latency := time.Duration(i+1) * time.Millisecond
		addPair(whole, "a", latency, "", diffs...)
		if i%2 == 0 {
			addPair(shard1, "a", latency, "", diffs...)
		} else {
			addPair(shard2, "a", latency, "", diffs...)
		}
	}
	merged := shard1.Endpoint("a")
	merged.Merge(shard2.Endpoint("a"))
	w := whole.Endpoint("a")
	if merged.Pairs != w.Pairs || merged.Matches != w.Matches || merged.Categories["status status"].Count != w.Categories["status status"].Count {
		t.Errorf("merged %d/%d, whole %d/%d", merged.Matches, merged.Pairs, w.Matches, w.Pairs)
	}
	if merged.ProdLatency.Quantile(0.99) != w.ProdLatency.Quantile(0.99) {
		t.Errorf("p99 merged %v, whole %v", merged.ProdLatency.Quantile(0.99), w.ProdLatency.Quantile(0.99))
	}
}

func TestLatencyQuantilesWithinOnePercent(t *testing.T) {
	l := NewLatency()
	for i := 1; i <= 1000; i++ {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for _, q := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}} {
		got := l.Quantile(q.q)
		if diff := float64(got-q.want) / float64(q.want); diff > 0.011 || diff < -0.011 {
			t.Errorf("q%.2f = %v, want %v within 1%%", q.q, got, q.want)
		}
	}
	if NewLatency().Quantile(0.5) != 0 {
		t.Error("an empty distribution must report 0")
	}
}
