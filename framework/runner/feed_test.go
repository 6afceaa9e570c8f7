package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/selector"
)

// TestSampledRate checks the sampled mode over 100,000 distinct requests:
// the chosen fraction is within one percentage point of the rate for any
// rate, within 1% of the rate (relative) from 25% (below, a per-request
// hash is a Bernoulli draw whose binomial spread alone, 0.95% of the rate
// at 10%, makes a relative 1% a coin toss), and the same requests are
// chosen on every call.
func TestSampledRate(t *testing.T) {
	const n = 100000
	requests := make([]framework.Request, n)
	for i := range requests {
		requests[i] = framework.Request{Method: "GET", URL: fmt.Sprintf("/users/%d?expand=orders", i)}
	}
	for _, rate := range []float64{0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9} {
		for _, seed := range []uint64{0, 1, 42} {
			chosen := 0
			for i := range requests {
				if Sampled(&requests[i], rate, seed) {
					chosen++
				}
			}
			fraction := float64(chosen) / n
			if math.Abs(fraction-rate) > 0.01 {
				t.Errorf("rate %v seed %d: chose %v, more than one percentage point off", rate, seed, fraction)
			}
			if rate >= 0.25 && math.Abs(fraction-rate) > 0.01*rate {
				t.Errorf("rate %v seed %d: chose %v, more than 1%% of the rate off", rate, seed, fraction)
			}
		}
	}
	// Deterministic: the same choice on every call, another with another seed.
	var a, b, c []int
	for i := range requests[:10000] {
		if Sampled(&requests[i], 0.3, 7) {
			a = append(a, i)
		}
		if Sampled(&requests[i], 0.3, 7) {
			b = append(b, i)
		}
		if Sampled(&requests[i], 0.3, 8) {
			c = append(c, i)
		}
	}
	if !slices.Equal(a, b) {
		t.Error("the same seed chose different requests")
	}
	if slices.Equal(a, c) {
		t.Error("another seed chose the same requests")
	}
	if !Sampled(&requests[0], 1, 0) {
		t.Error("rate 1 must send everything")
	}
	// Golden: changing the hash changes which requests users' CI runs
	// send; it must be deliberate.
	if want := []int{2, 3, 5, 8, 11}; !slices.Equal(a[:5], want) {
		t.Errorf("rate 0.3 seed 7 chose %v first, want %v", a[:5], want)
	}
}

// feedAll runs feed over plan with opt and returns the origins of the
// requests sent, in order, and the results.
func feedAll(t *testing.T, plan *framework.Plan, opt FeedOptions) ([]string, []framework.Exchange, *observe.Results, error) {
	t.Helper()
	results := observe.NewResults(plan.Endpoints)
	jobs := make(chan job)
	var sent []framework.Exchange
	done := make(chan struct{})
	go func() {
		for j := range jobs {
			sent = append(sent, j.exchange)
		}
		close(done)
	}()
	n, err := feed(context.Background(), plan, selector.New(plan.Endpoints), results, jobs, opt)
	close(jobs)
	<-done
	if int(n) != len(sent) {
		t.Fatalf("feed says %d sent, %d received", n, len(sent))
	}
	var origins []string
	for _, ex := range sent {
		origins = append(origins, ex.Origin)
	}
	return origins, sent, results, err
}

// jsonlPlan writes lines as a JSONL file and returns a plan over it with
// endpoints items (GET /items/{id}) and create (POST /items).
func jsonlPlan(t *testing.T, lines []string) *framework.Plan {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &framework.Plan{
		Dir:     dir,
		Traffic: []framework.TrafficSource{{Format: "jsonl", Path: "t.jsonl"}},
		Mirror:  framework.Mirror{Mode: "full", Writes: "skip", Rate: 1, DryRunHeader: [2]string{"X-Shadow-Dry-Run", "true"}},
		Endpoints: []framework.Endpoint{
			{Name: "items", Method: "GET", Path: "/items/{id}"},
			{Name: "create", Method: "POST", Path: "/items"},
		},
	}
}

func TestShardsAreDisjointAndCoverAll(t *testing.T) {
	var lines []string
	for i := range 5000 {
		// Duplicates at different times, and identical lines, on purpose.
		lines = append(lines, fmt.Sprintf(`{"time":"2026-11-25T10:%02d:%02dZ","request":{"method":"GET","url":"/items/%d"}}`, i/60%60, i%60, i%700))
	}
	lines = append(lines, `{"request":{"method":"GET","url":"/items/1"}}`, `{"request":{"method":"GET","url":"/items/1"}}`, `{"request":{"method":"GET","url":"/nowhere"}}`)
	plan := jsonlPlan(t, lines)
	all, _, _, err := feedAll(t, plan, FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5002 {
		t.Fatalf("%d requests selected, want 5002 (the unmatched one is not traffic to shard)", len(all))
	}
	for _, count := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		var union []string
		for index := 1; index <= count; index++ {
			part, _, _, err := feedAll(t, plan, FeedOptions{Shard: Shard{Index: index, Count: count}})
			if err != nil {
				t.Fatal(err)
			}
			if count > 1 && (len(part) < len(all)/count/2 || len(part) > 2*len(all)/count) {
				t.Errorf("shard %d/%d has %d of %d requests: badly balanced", index, count, len(part), len(all))
			}
			again, _, _, _ := feedAll(t, plan, FeedOptions{Shard: Shard{Index: index, Count: count}})
			if !slices.Equal(part, again) {
				t.Errorf("shard %d/%d differs between two runs", index, count)
			}
			for _, origin := range part {
				seen[origin]++
			}
			union = append(union, part...)
		}
		for origin, n := range seen {
			if n != 1 {
				t.Errorf("%d shards: %s is in %d shards, want exactly 1", count, origin, n)
			}
		}
		slices.Sort(union)
		sortedAll := slices.Sorted(slices.Values(all))
		if !slices.Equal(union, sortedAll) {
			t.Errorf("%d shards: their union has %d requests, the traffic %d", count, len(union), len(all))
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{{"1/1", "1/1"}, {"3/4", "3/4"}, {"0/4", "error"}, {"5/4", "error"}, {"2", "error"}, {"a/b", "error"}, {"1/0", "error"}} {
		s, err := ParseShard(tt.in)
		got := s.String()
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("ParseShard(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestModesAndWritePolicies(t *testing.T) {
	lines := []string{
		`{"request":{"method":"GET","url":"/items/1"},"response":{"status":200}}`,
		`{"request":{"method":"POST","url":"/items?api_key=secret","body":"{}"},"response":{"status":201}}`,
		`{"request":{"method":"GET","url":"/items/2"}}`,
		`{"request":{"method":"DELETE","url":"/other/3"}}`,
	}
	tests := []struct {
		mirror       func(*framework.Mirror)
		recordedProd bool
		wantSent     []string
		check        func(*observe.Results, []framework.Exchange, string) string
		reason       string
	}{
		{
			mirror:   func(m *framework.Mirror) {},
			wantSent: []string{"line 1", "line 3"},
			check: func(r *observe.Results, _ []framework.Exchange, _ string) string {
				if r.Endpoint("create").Skipped != 1 || r.Unmatched["DELETE /other/{id}"] != 1 {
					return fmt.Sprintf("skipped %d, unmatched %v", r.Endpoint("create").Skipped, r.Unmatched)
				}
				return ""
			},
			reason: "writes are skipped by default and counted; unmatched traffic is counted by template",
		},
		{
			mirror:   func(m *framework.Mirror) { m.Writes = "isolated" },
			wantSent: []string{"line 1", "line 2", "line 3"},
			reason:   "isolated: writes are sent",
		},
		{
			mirror:   func(m *framework.Mirror) { m.Writes = "dry-run" },
			wantSent: []string{"line 1", "line 2", "line 3"},
			check: func(r *observe.Results, sent []framework.Exchange, _ string) string {
				if sent[1].Request.Header.Get("X-Shadow-Dry-Run") != "true" || sent[0].Request.Header.Get("X-Shadow-Dry-Run") != "" {
					return "the dry-run header must be on the write only"
				}
				return ""
			},
			reason: "dry-run: writes are sent with the header",
		},
		{
			mirror:   func(m *framework.Mirror) { m.Writes = "record-only" },
			wantSent: []string{"line 1", "line 3"},
			check: func(r *observe.Results, _ []framework.Exchange, log string) string {
				if r.Endpoint("create").RecordedOnly != 1 || r.Endpoint("create").Skipped != 0 {
					return fmt.Sprintf("recordedOnly %d", r.Endpoint("create").RecordedOnly)
				}
				if !strings.Contains(log, "record-only: POST /items?api_key=[REDACTED] (endpoint create, ") || strings.Contains(log, "secret") {
					return "log: " + log
				}
				return ""
			},
			reason: "record-only: the intent is logged (query redacted) and counted",
		},
		{
			mirror: func(m *framework.Mirror) {
				m.Mode, m.Endpoints = "selective", []string{"create"}
				m.Writes = "isolated"
			},
			wantSent: []string{"line 2"},
			check: func(r *observe.Results, _ []framework.Exchange, _ string) string {
				if r.Filtered["not selected"] != 2 {
					return fmt.Sprintf("filtered %v", r.Filtered)
				}
				return ""
			},
			reason: "selective: only the named endpoints",
		},
		{
			mirror:       func(m *framework.Mirror) { m.Writes = "isolated" },
			recordedProd: true,
			wantSent:     []string{"line 1", "line 2"},
			check: func(r *observe.Results, _ []framework.Exchange, _ string) string {
				if r.Endpoint("items").NoRecording != 1 {
					return fmt.Sprintf("noRecording %d", r.Endpoint("items").NoRecording)
				}
				return ""
			},
			reason: "recorded prod: requests without a recorded response are not sent, and counted",
		},
	}
	for _, tt := range tests {
		plan := jsonlPlan(t, lines)
		tt.mirror(&plan.Mirror)
		plan.Prod.Recorded = tt.recordedProd
		var log bytes.Buffer
		origins, sent, results, err := feedAll(t, plan, FeedOptions{Log: &log})
		if err != nil {
			t.Fatalf("%s: %v", tt.reason, err)
		}
		var got []string
		for _, o := range origins {
			got = append(got, o[strings.LastIndex(o, ": ")+2:])
		}
		if !slices.Equal(got, tt.wantSent) {
			t.Errorf("%s: sent %v, want %v", tt.reason, got, tt.wantSent)
			continue
		}
		if tt.check != nil {
			if problem := tt.check(results, sent, log.String()); problem != "" {
				t.Errorf("%s: %s", tt.reason, problem)
			}
		}
	}
}

func TestBadRecords(t *testing.T) {
	lines := []string{
		`{"request":{"method":"GET","url":"/items/1"}}`,
		`{"request":{"url":"/items/2"}}`,
		`not json`,
		`{"request":{"method":"GET","url":"/items/4"}}`,
	}
	plan := jsonlPlan(t, lines)
	_, _, _, err := feedAll(t, plan, FeedOptions{})
	var input *InputError
	if !errors.As(err, &input) || !strings.HasSuffix(err.Error(), "t.jsonl: line 2 (byte 47): request.method: missing") {
		t.Errorf("without --skip-bad-records: %v, want an input error naming the file and line", err)
	}
	var log bytes.Buffer
	origins, _, results, err := feedAll(t, plan, FeedOptions{SkipBadRecords: true, Log: &log})
	if err != nil || len(origins) != 2 || results.BadRecords != 2 {
		t.Errorf("with --skip-bad-records: err %v, %d sent, %d bad; want nil, 2, 2", err, len(origins), results.BadRecords)
	}
	if !strings.Contains(log.String(), "t.jsonl: line 3 (byte 78): ") {
		t.Errorf("the skipped records are not logged with their line: %s", log.String())
	}
}

func TestReplayPacing(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		mode   string
		speed  float64
		times  []time.Duration // recorded offsets
		want   []time.Duration // sleeps
		reason string
	}{
		{"replay", 1, []time.Duration{0, time.Second, 3 * time.Second}, []time.Duration{time.Second, 3 * time.Second}, "the recorded pace"},
		{"replay", 2, []time.Duration{0, time.Second, 3 * time.Second}, []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}, "twice as fast"},
		{"replay", 0, []time.Duration{0, time.Second}, nil, "speed 0: as fast as the limits allow"},
		{"full", 1, []time.Duration{0, time.Second}, nil, "other modes are not paced"},
		{"replay", 1, []time.Duration{time.Second, 0, time.Second}, nil, "an earlier time does not wait"},
	}
	for _, tt := range tests {
		p := newPacer(framework.Mirror{Mode: tt.mode, Speed: tt.speed})
		var slept []time.Duration
		now := base // the fake clock does not move except by sleeping
		p.now = func() time.Time { return now }
		p.sleep = func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		}
		for _, offset := range tt.times {
			if err := p.wait(context.Background(), base.Add(offset)); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(slept, tt.want) {
			t.Errorf("%s: slept %v, want %v", tt.reason, slept, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); err == nil {
		t.Error("a cancelled run must not wait for the recorded pace")
	}
}

// TestRecordedProdAndDryRunOnTheWire runs the whole runner: prod answers
// from the recording (its server must never be called), the shadow gets
// the write with the dry-run header.
func TestRecordedProdAndDryRunOnTheWire(t *testing.T) {
	var mu sync.Mutex
	var prodCalls int
	var shadowDryRun []string
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		prodCalls++
		mu.Unlock()
	}))
	defer prod.Close()
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		shadowDryRun = append(shadowDryRun, r.Method+" "+r.Header.Get("X-Shadow-Dry-Run"))
		mu.Unlock()
		w.WriteHeader(201)
		w.Write([]byte("created"))
	}))
	defer shadow.Close()
	plan := jsonlPlan(t, []string{`{"request":{"method":"POST","url":"/items","body":"{}"},"response":{"status":201,"body":"created"}}`})
	plan.Prod = framework.Target{Name: "prod", URL: prod.URL, Timeout: 5 * time.Second, Recorded: true}
	plan.Shadow = framework.Target{Name: "shadow", URL: shadow.URL, Timeout: 5 * time.Second}
	plan.Mirror.Writes, plan.Mirror.Concurrency = "dry-run", 1
	results := observe.NewResults(plan.Endpoints)
	if err := Run(context.Background(), plan, results, Options{}); err != nil {
		t.Fatal(err)
	}
	e := results.Endpoint("create")
	if prodCalls != 0 || !slices.Equal(shadowDryRun, []string{"POST true"}) || e.Pairs != 1 || e.Matches != 1 {
		t.Errorf("prod calls %d, shadow saw %v, pairs %d, matches %d", prodCalls, shadowDryRun, e.Pairs, e.Matches)
	}
}
