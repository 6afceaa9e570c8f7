package live

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// app is a real application handler: it reads the JSON body of a POST and
// answers with the item.
func app(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-App", "v1")
	if r.Method == "POST" {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"created":%s}`, body)
		return
	}
	fmt.Fprintf(w, `{"path":%q,"name":"widget","price":12.5}`, r.URL.Path)
}

func TestMiddlewareMirrorsWithoutTouchingTheResponse(t *testing.T) {
	shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select { // a slow shadow: the app's clients must not feel it
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
			return
		}
		item("13")(w, r)
	})
	plan := testPlan("http://prod.invalid", shadow.URL) // the app is prod: its URL is never called
	plan.Mirror.Writes = "isolated"
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Middleware(http.HandlerFunc(app)))
	defer srv.Close()

	start := time.Now()
	for i := range 4 {
		resp, body := get(t, fmt.Sprintf("%s/items/%d", srv.URL, i))
		if want := fmt.Sprintf(`{"path":"/items/%d","name":"widget","price":12.5}`, i); body != want || resp.Header.Get("X-App") != "v1" {
			t.Fatalf("client got %q %v, want the app's answer %q", body, resp.Header, want)
		}
	}
	resp, err := http.Post(srv.URL+"/items", "application/json", strings.NewReader(`{"name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || string(created) != `{"created":{"name":"x"}}` {
		t.Fatalf("POST through the middleware: %d %q", resp.StatusCode, created)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("5 requests took %v behind a shadow answering in 2 s: the middleware waited on it", took)
	}
	eventually(t, "5 copies", func() bool { return shadow.n.Load() == 5 })
	s.Close()
	if e := s.Results().Endpoint("items"); e.Pairs != 4 || e.Categories["value $.price"] == nil {
		t.Fatalf("items: %d pairs, categories %v", e.Pairs, e.Categories)
	}
	found := false // the POST copy carries the body the app read
	for _, b := range shadow.bodies {
		found = found || b == `POST /items {"name":"x"}`
	}
	if !found {
		t.Fatalf("shadow bodies %q, want the POST's", shadow.bodies)
	}
}

// ExampleShadow_Middleware mirrors an application's own traffic to a
// shadow from inside the service.
func ExampleShadow_Middleware() {
	candidate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"name":"widget","price":13}`, r.URL.Path)
	}))
	defer candidate.Close()

	plan := &framework.Plan{
		Shadow: framework.Target{Name: "shadow", URL: candidate.URL, Timeout: 5 * time.Second},
		Mirror: framework.Mirror{Mode: "full", Concurrency: 2, Writes: "skip", MaxBodyBytes: 1 << 20},
		Endpoints: []framework.Endpoint{{Name: "items", Method: "GET", Path: "/items/{id}",
			Thresholds: framework.Thresholds{MatchRate: 1, MinSamples: 1}}},
	}
	results := observe.NewResults(plan.Endpoints)
	shadow, err := New(plan, results, Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	service := httptest.NewServer(shadow.Middleware(http.HandlerFunc(app)))
	defer service.Close()

	resp, _ := http.Get(service.URL + "/items/7")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("client got:", string(body))

	shadow.Close() // waits for the copies in flight
	e := results.Endpoint("items")
	fmt.Printf("%d pair(s), %d matched\n", e.Pairs, e.Matches)
	for name := range e.Categories {
		fmt.Println("differs:", name)
	}
	// Output:
	// client got: {"path":"/items/7","name":"widget","price":12.5}
	// 1 pair(s), 0 matched
	// differs: value $.price
}

// TestMiddlewareKeepsTheWritersInterfaces: an application that streams
// checks its writer for http.Flusher the way most server-sent-events code
// does (w.(http.Flusher)); behind the middleware it must still find one,
// and its events must reach the client as they are flushed, not when the
// handler returns. http.ResponseController must reach the server's
// writer too.
func TestMiddlewareKeepsTheWritersInterfaces(t *testing.T) {
	shadow := serve(t, item("1"))
	plan := testPlan("http://prod.invalid", shadow.URL)
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := make(chan struct{})
	events := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flusher, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		flusher.Flush()
		<-release
		fmt.Fprint(w, "data: second\n\n")
	})
	srv := httptest.NewServer(s.Middleware(events))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/items/1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		close(release)
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("behind the middleware the app answered %d %q: its writer is no http.Flusher", resp.StatusCode, body)
	}
	first := make([]byte, len("data: first\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "data: first\n\n" {
		t.Fatalf("first event %q, %v", first, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "data: second\n\n" {
		t.Fatalf("second event %q", rest)
	}
}

// TestMiddlewareDoesNotCompareACutAnswer: an application that writes
// fewer bytes than its Content-Length, or whose client goes away
// mid-answer (a chunked answer it stops), gave no whole answer: its copy
// is dropped as "answer cut", never compared with the shadow's whole one
// (a false discrepancy) nor recorded.
func TestMiddlewareDoesNotCompareACutAnswer(t *testing.T) {
	shadow := serve(t, item("12.5"))
	plan := testPlan("http://prod.invalid", shadow.URL)
	var recorded atomic.Int64
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{Record: func(*framework.Exchange) { recorded.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gone := make(chan struct{})
	srv := httptest.NewServer(s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/items/short":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"path":`) // and returns: net/http closes the connection
		case "/items/gone":
			io.WriteString(w, `{"path":"/items/gone",`)
			http.NewResponseController(w).Flush()
			<-r.Context().Done() // the client went away: the app stops
			close(gone)
		default:
			item("12.5")(w, r)
		}
	})))
	defer srv.Close()
	if resp, err := http.Get(srv.URL + "/items/short"); err == nil {
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Fatal("a short answer read whole")
		}
		resp.Body.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/items/gone", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Read(make([]byte, 8))
	cancel()
	resp.Body.Close()
	<-gone
	get(t, srv.URL+"/items/whole")
	eventually(t, "the whole answer compared", func() bool { return endpointResults(s, "items").Pairs >= 1 })
	eventually(t, "the cut answers counted", func() bool {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "items", "reason": DropAnswerCut}) == 2
	})
	s.Close()
	if e := s.Results().Endpoint("items"); e.Pairs != 1 || e.Matches != 1 {
		t.Errorf("%d pairs, %d matched: only the whole answer is compared, and it matches", e.Pairs, e.Matches)
	}
	if n := recorded.Load(); n != 1 {
		t.Errorf("%d exchanges recorded, want the whole one", n)
	}
}
