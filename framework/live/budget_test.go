package live

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// gated is prod for the budget tests: it sends half of answer at once,
// then the rest when gate closes (or stops when the client is gone), and
// counts the requests that reached the gate.
func gated(answer []byte, gate <-chan struct{}, waiting *atomic.Int64, header func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		header(w, r)
		w.WriteHeader(http.StatusOK)
		half := len(answer) / 2
		w.Write(answer[:half])
		http.NewResponseController(w).Flush()
		waiting.Add(1)
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Write(answer[half:])
	}
}

// sampleMax records the highest level of the budget until stop is called.
func sampleMax(b *captureBudget) (stop func() int64) {
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if u := b.used.Load(); u > peak.Load() {
				peak.Store(u)
			}
			select {
			case <-done:
				return
			default:
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	return func() int64 { close(done); <-finished; return peak.Load() }
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// abortMidAnswer gets url, reads half of its answer of size bytes (the
// capture then holds size bytes) and leaves: the capture's bytes must go
// back.
func abortMidAnswer(t *testing.T, s *Shadow, url string, size int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, size/2)); err != nil {
		t.Fatal(err)
	}
	if got := capturesInFlight(t, s); got != float64(size) {
		t.Fatalf("capture_bytes_in_flight = %v with one answer of %d bytes under way", got, size)
	}
	cancel()
	resp.Body.Close()
	eventually(t, "the aborted capture's bytes given back", func() bool { return s.captures.used.Load() == 0 })
}

// capturesInFlight is the shadowtest_live_capture_bytes_in_flight metric.
func capturesInFlight(t *testing.T, s *Shadow) float64 {
	return counter(t, s, "shadowtest_live_capture_bytes_in_flight", nil)
}

// budgetRun is a run of concurrent clients of gated answers (see gated)
// against a session's capture budget.
type budgetRun struct {
	s       *Shadow
	clients int
	budget  int64
	waiting *atomic.Int64
	gate    chan struct{}
	peak    func() int64
	wg      sync.WaitGroup
	errs    chan error
}

func newBudgetRun(s *Shadow, clients int, budget int64, waiting *atomic.Int64, gate chan struct{}) *budgetRun {
	return &budgetRun{s: s, clients: clients, budget: budget, waiting: waiting, gate: gate,
		peak: sampleMax(&s.captures), errs: make(chan error, clients)}
}

// client runs one client of the run; its error fails the test in finish.
func (r *budgetRun) client(f func() error) {
	r.wg.Go(func() {
		if err := f(); err != nil {
			r.errs <- err
		}
	})
}

// finish waits until every answer is half sent (waitMsg names that
// state), calls halfway if not nil, opens the gate and waits for the
// clients: none may have failed, and the captures held at most the
// budget (and something).
func (r *budgetRun) finish(t *testing.T, waitMsg string, halfway func()) {
	t.Helper()
	eventually(t, waitMsg, func() bool { return r.waiting.Load() == int64(r.clients) })
	if halfway != nil {
		halfway()
	}
	close(r.gate)
	r.wg.Wait()
	close(r.errs)
	for err := range r.errs {
		t.Error(err)
	}
	if p := r.peak(); p > r.budget || p == 0 {
		t.Errorf("captures held at most %d bytes, want within the budget of %d", p, r.budget)
	}
}

// finishHTTP is finish for the HTTP paths, which also check, while every
// answer is under way, the capture_bytes_in_flight metric and the heap's
// growth since before, and then that the budget is released.
func (r *budgetRun) finishHTTP(t *testing.T, waitMsg string, before uint64) {
	t.Helper()
	var held float64
	var heap uint64
	r.finish(t, waitMsg, func() { held, heap = capturesInFlight(t, r.s), liveHeap() })
	if held <= 0 || held > float64(r.budget) {
		t.Errorf("capture_bytes_in_flight = %v while %d answers were under way, want in (0, %d]", held, r.clients, r.budget)
	}
	t.Logf("heap +%d KiB with %d answers under way, captures held %v bytes", (int64(heap)-int64(before))>>10, r.clients, held)
	// Without the budget every answer's copy is held (~50-60 MiB in the
	// tests).
	if grown := int64(heap) - int64(before); grown > r.budget+12<<20 {
		t.Errorf("the heap grew by %d MiB with %d answers under way; captures may hold %d MiB", grown>>20, r.clients, r.budget>>20)
	}
	eventually(t, "the budget released", func() bool { return capturesInFlight(t, r.s) == 0 })
}

// mirroredAgain checks that the budget is whole again: 5 later requests
// of base+"/items/cl-after-N" get answer (whose answer: "prod's", "the
// application's") and are mirrored, and nothing is left in flight.
func mirroredAgain(t *testing.T, s *Shadow, base string, answer []byte, whose string) {
	t.Helper()
	mirrored := func() float64 {
		return counter(t, s, "shadowtest_live_mirrored_requests_total", map[string]string{"endpoint": "items"})
	}
	before := mirrored()
	for i := range 5 {
		_, body := get(t, fmt.Sprintf("%s/items/cl-after-%d", base, i))
		if body != string(answer) {
			t.Fatal("not " + whose + " answer")
		}
	}
	eventually(t, "later requests mirrored", func() bool { return mirrored() == before+5 })
	if got := capturesInFlight(t, s); got != 0 {
		t.Errorf("capture_bytes_in_flight = %v after the clients are done", got)
	}
}

// TestCapturesInFlightAreBounded: many concurrent clients of large,
// slow answers of a selected endpoint (with and without Content-Length)
// hold at most the budget of captures in flight, and the proxy's heap
// does not grow with them; every client gets prod's bytes exactly; the
// copies that did not fit are dropped and counted; a client gone mid-answer
// gives its bytes back; once the clients are done the budget is whole
// again and later requests are mirrored.
func TestCapturesInFlightAreBounded(t *testing.T) {
	const (
		clients = 40
		size    = 3 << 19 // 1.5 MiB
		budget  = 4 << 20
	)
	answer := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	sum := sha256.Sum256(answer)
	gate := make(chan struct{})
	never := make(chan struct{})
	var waiting atomic.Int64
	setHeader := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if strings.Contains(r.URL.Path, "cl") {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
	}
	slow, stuck := gated(answer, gate, &waiting, setHeader), gated(answer, never, &waiting, setHeader)
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "gone") {
			stuck(w, r)
			return
		}
		slow(w, r)
	})
	shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	plan := testPlan(prod.URL, shadow.URL)
	plan.Mirror.MaxBodyBytes = 2 << 20
	s, front := session(t, plan, Options{CaptureBytes: budget})
	if got := counter(t, s, "shadowtest_live_capture_budget_bytes", nil); got != budget {
		t.Fatalf("capture_budget_bytes = %v, want %d", got, budget)
	}
	dropped := func() float64 {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "items", "reason": DropCapturesInFlight})
	}

	// A client gone mid-answer: the reverse proxy aborts the handler, and
	// the capture's bytes still go back.
	abortMidAnswer(t, s, front.URL+"/items/cl-gone", size)
	waiting.Store(0)

	before := liveHeap()
	run := newBudgetRun(s, clients, budget, &waiting, gate)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for i := range clients {
		kind := "cl"
		if i%2 == 1 {
			kind = "chunked"
		}
		run.client(func() error {
			resp, err := client.Get(fmt.Sprintf("%s/items/%s-%d", front.URL, kind, i))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			h := sha256.New()
			n, err := io.Copy(h, resp.Body) // streamed: the test holds no answer
			if err != nil || n != size || !bytes.Equal(h.Sum(nil), sum[:]) || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s-%d: status %d, %d bytes, %v: not prod's answer", kind, i, resp.StatusCode, n, err)
			}
			return nil
		})
	}
	run.finishHTTP(t, "every answer half sent, prod waiting", before)
	eventually(t, "the captured copies sent", func() bool { return len(s.queue) == 0 && shadow.n.Load()+int64(dropped()) == clients })
	if d := dropped(); d < clients/2 || d >= clients {
		t.Errorf("%v copies dropped as %q, want most of %d but not all", d, DropCapturesInFlight, clients)
	}

	// The budget is whole again: later answers are mirrored.
	mirroredAgain(t, s, front.URL, answer, "prod's")
}

// TestGRPCCapturesInFlightAreBounded: the gRPC path takes from the same
// budget: concurrent calls of large, slow answers hold at most the
// budget, every client gets prod's frames and status exactly, the copies
// that did not fit are dropped as captures in flight, and once the calls
// end a call is captured again.
func TestGRPCCapturesInFlightAreBounded(t *testing.T) {
	const (
		calls  = 20
		size   = 3 << 19
		budget = 4 << 20
	)
	answer := make([]byte, 5+size) // one frame of size bytes
	binary.BigEndian.PutUint32(answer[1:5], size)
	for i := range size {
		answer[5+i] = byte(i)
	}
	gate := make(chan struct{})
	var waiting atomic.Int64
	slow := gated(answer, gate, &waiting, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
	})
	prod := rawH2C(t, func(w http.ResponseWriter, r *http.Request) {
		slow(w, r)
		w.Header().Set("Grpc-Status", "0")
	})
	shadow := rawH2C(t, func(w http.ResponseWriter, r *http.Request) {})
	s, front := grpcSession(t, grpcSpec(t, prod, shadow, `mirror: maxBodyBytes: 2097152`), Options{CaptureBytes: budget})
	dropped := func(reason string) float64 {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "get", "reason": reason})
	}
	call := func() error {
		req, _ := http.NewRequest("POST", front.URL+"/shadowtest.live.v1.Items/Get", strings.NewReader("\x00\x00\x00\x00\x03\x0a\x01\x31"))
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		resp, err := h2cClient().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(got, answer) || resp.Trailer.Get("Grpc-Status") != "0" {
			return fmt.Errorf("%d bytes, grpc-status %q, %v: not prod's answer", len(got), resp.Trailer.Get("Grpc-Status"), err)
		}
		return nil
	}
	run := newBudgetRun(s, calls, budget, &waiting, gate)
	for range calls {
		run.client(call)
	}
	run.finish(t, "every answer half sent", nil)
	eventually(t, "every copy counted", func() bool {
		return dropped(DropCapturesInFlight)+dropped(DropUndecodable) == calls
	})
	if d := dropped(DropCapturesInFlight); d < calls/2 || d >= calls {
		t.Errorf("%v copies dropped as %q, want most of %d but not all", d, DropCapturesInFlight, calls)
	}
	eventually(t, "the budget released", func() bool { return s.captures.used.Load() == 0 })
	// A call alone is captured whole again (its made-up message is then
	// dropped as not decodable, after the capture).
	undecodable := dropped(DropUndecodable)
	if err := call(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a later call captured", func() bool { return dropped(DropUndecodable) == undecodable+1 })
}

// TestCaptureAccounting: a capture holds its buffer's capacity, grows as
// append does within the body cap, is refused (and holds nothing) when
// the budget has no room, and gives everything back once, even under a
// budget near MaxInt64.
func TestCaptureAccounting(t *testing.T) {
	b := &captureBudget{limit: 100 << 10}
	c := capture{budget: b}
	for range 10 {
		if !c.add(make([]byte, 1000), 64<<10) {
			t.Fatal("refused within the budget")
		}
	}
	if got := b.used.Load(); got != int64(cap(c.buf)) || got < 10000 || got > 16<<10 {
		t.Fatalf("holds %d bytes for a buffer of %d", got, cap(c.buf))
	}
	other := capture{budget: b}
	if other.reserve(90 << 10) {
		t.Fatal("a reserve over what is left granted")
	}
	if !other.refused || other.add([]byte("x"), 64<<10) || len(other.buf) != 0 {
		t.Fatal("a refused capture still copies")
	}
	c.release()
	c.release()
	other.release()
	if got := b.used.Load(); got != 0 || c.add([]byte("x"), 64<<10) {
		t.Fatalf("after release: %d bytes held, or the capture still copies", got)
	}
	huge := &captureBudget{limit: 1<<63 - 1}
	huge.used.Store(1<<63 - 10)
	if huge.take(100) {
		t.Fatal("an overflowing take granted")
	}
}

// TestMiddlewareCapturesInFlightAreBounded: the middleware takes from the
// same budget as the proxy. Many concurrent clients of an application's
// large, slow answers (with and without Content-Length, to POSTs with
// large bodies) hold at most the budget, and the heap does not grow with
// them; every client gets the application's bytes exactly; the copies
// that did not fit are dropped and counted; a client gone mid-answer
// gives its bytes back; once the clients are done the budget is whole
// again and later requests are mirrored.
func TestMiddlewareCapturesInFlightAreBounded(t *testing.T) {
	const (
		clients = 40
		size    = 3 << 19 // 1.5 MiB
		budget  = 4 << 20
	)
	answer := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	sum := sha256.Sum256(answer)
	upload := bytes.Repeat([]byte("u"), 256<<10)
	gate := make(chan struct{})
	never := make(chan struct{})
	var waiting atomic.Int64
	setHeader := func(w http.ResponseWriter, r *http.Request) {
		if n, _ := io.Copy(io.Discard, r.Body); r.Method == "POST" && n != int64(len(upload)) {
			t.Errorf("the application read %d bytes of a %d-byte request body", n, len(upload))
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if strings.Contains(r.URL.Path, "cl") {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
	}
	slow, stuck := gated(answer, gate, &waiting, setHeader), gated(answer, never, &waiting, setHeader)
	shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	plan := testPlan("http://prod.invalid", shadow.URL) // the application is prod: its URL is never called
	plan.Mirror.MaxBodyBytes = 2 << 20
	plan.Mirror.Writes = "isolated"
	plan.Endpoints[1].Path = "/items/{id}" // POST /items/{id}: the uploads
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{CaptureBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "gone") {
			stuck(w, r)
			return
		}
		slow(w, r)
	})))
	defer srv.Close()
	dropped := func(endpoint string) float64 {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": endpoint, "reason": DropCapturesInFlight})
	}

	// A client gone mid-answer: the application's writes fail, it
	// returns, and the capture's bytes go back.
	abortMidAnswer(t, s, srv.URL+"/items/cl-gone", size)
	// Half an answer is not the application's answer: not compared.
	eventually(t, "the cut answer's copy dropped", func() bool {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "items", "reason": DropAnswerCut}) == 1
	})
	waiting.Store(0)

	before := liveHeap()
	run := newBudgetRun(s, clients, budget, &waiting, gate)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for i := range clients {
		kind := "cl"
		if i%2 == 1 {
			kind = "chunked"
		}
		method, body := "GET", io.Reader(nil)
		if i%4 >= 2 {
			method, body = "POST", bytes.NewReader(upload)
		}
		run.client(func() error {
			req, _ := http.NewRequest(method, fmt.Sprintf("%s/items/%s-%d", srv.URL, kind, i), body)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			h := sha256.New()
			n, err := io.Copy(h, resp.Body) // streamed: the test holds no answer
			if err != nil || n != size || !bytes.Equal(h.Sum(nil), sum[:]) || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s %s-%d: status %d, %d bytes, %v: not the application's answer", method, kind, i, resp.StatusCode, n, err)
			}
			return nil
		})
	}
	run.finishHTTP(t, "every answer half sent, the application waiting", before)
	eventually(t, "the captured copies sent", func() bool {
		return len(s.queue) == 0 && shadow.n.Load()+int64(dropped("items")+dropped("create")) == clients
	})
	if d := dropped("items") + dropped("create"); d < clients/2 || d >= clients {
		t.Errorf("%v copies dropped as %q, want most of %d but not all", d, DropCapturesInFlight, clients)
	}
	for _, b := range shadow.bodies { // a copy sent is whole
		if strings.HasPrefix(b, "POST ") && !strings.HasSuffix(b, string(upload)) {
			t.Errorf("a POST copy reached the shadow with %d bytes, not the request's %d", len(b), len(upload))
		}
	}

	// The budget is whole again: later answers are mirrored.
	mirroredAgain(t, s, srv.URL, answer, "the application's")
}
