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
	inFlight := func() float64 { return counter(t, s, "shadowtest_live_capture_bytes_in_flight", nil) }
	dropped := func() float64 {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "items", "reason": DropCapturesInFlight})
	}

	// A client gone mid-answer: the reverse proxy aborts the handler, and
	// the capture's bytes still go back.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/items/cl-gone", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, size/2)); err != nil {
		t.Fatal(err)
	}
	if got := inFlight(); got != size {
		t.Fatalf("capture_bytes_in_flight = %v with one answer of %d bytes under way", got, size)
	}
	cancel()
	resp.Body.Close()
	eventually(t, "the aborted capture's bytes given back", func() bool { return s.captures.used.Load() == 0 })
	waiting.Store(0)

	before := liveHeap()
	peak := sampleMax(&s.captures)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		kind := "cl"
		if i%2 == 1 {
			kind = "chunked"
		}
		wg.Go(func() {
			resp, err := client.Get(fmt.Sprintf("%s/items/%s-%d", front.URL, kind, i))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			h := sha256.New()
			n, err := io.Copy(h, resp.Body) // streamed: the test holds no answer
			if err != nil || n != size || !bytes.Equal(h.Sum(nil), sum[:]) || resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("%s-%d: status %d, %d bytes, %v: not prod's answer", kind, i, resp.StatusCode, n, err)
			}
		})
	}
	eventually(t, "every answer half sent, prod waiting", func() bool { return waiting.Load() == clients })
	held, heap := inFlight(), liveHeap()
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak(); p > budget || p == 0 {
		t.Errorf("captures held at most %d bytes, want within the budget of %d", p, budget)
	}
	if held <= 0 || held > budget {
		t.Errorf("capture_bytes_in_flight = %v while %d answers were under way, want in (0, %d]", held, clients, budget)
	}
	t.Logf("heap +%d KiB with %d answers under way, captures held %v bytes", (int64(heap)-int64(before))>>10, clients, held)
	// Without the budget every answer's copy is held (~50 MiB here).
	if grown := int64(heap) - int64(before); grown > budget+12<<20 {
		t.Errorf("the heap grew by %d MiB with %d answers under way; captures may hold %d MiB", grown>>20, clients, budget>>20)
	}
	eventually(t, "the budget released", func() bool { return inFlight() == 0 })
	eventually(t, "the captured copies sent", func() bool { return len(s.queue) == 0 && shadow.n.Load()+int64(dropped()) == clients })
	if d := dropped(); d < clients/2 || d >= clients {
		t.Errorf("%v copies dropped as %q, want most of %d but not all", d, DropCapturesInFlight, clients)
	}
	mirrored := counter(t, s, "shadowtest_live_mirrored_requests_total", map[string]string{"endpoint": "items"})

	// The budget is whole again: later answers are mirrored.
	for i := range 5 {
		_, body := get(t, fmt.Sprintf("%s/items/cl-after-%d", front.URL, i))
		if body != string(answer) {
			t.Fatal("not prod's answer")
		}
	}
	eventually(t, "later requests mirrored", func() bool {
		return counter(t, s, "shadowtest_live_mirrored_requests_total", map[string]string{"endpoint": "items"}) == mirrored+5
	})
	if got := inFlight(); got != 0 {
		t.Errorf("capture_bytes_in_flight = %v after the clients are done", got)
	}
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
	peak := sampleMax(&s.captures)
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			if err := call(); err != nil {
				errs <- err
			}
		})
	}
	eventually(t, "every answer half sent", func() bool { return waiting.Load() == calls })
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak(); p > budget || p == 0 {
		t.Errorf("captures held at most %d bytes, want within the budget of %d", p, budget)
	}
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
	inFlight := func() float64 { return counter(t, s, "shadowtest_live_capture_bytes_in_flight", nil) }
	dropped := func(endpoint string) float64 {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": endpoint, "reason": DropCapturesInFlight})
	}
	mirrored := func(endpoint string) float64 {
		return counter(t, s, "shadowtest_live_mirrored_requests_total", map[string]string{"endpoint": endpoint})
	}

	// A client gone mid-answer: the application's writes fail, it
	// returns, and the capture's bytes go back.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/items/cl-gone", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, size/2)); err != nil {
		t.Fatal(err)
	}
	if got := inFlight(); got != size {
		t.Fatalf("capture_bytes_in_flight = %v with one answer of %d bytes under way", got, size)
	}
	cancel()
	resp.Body.Close()
	eventually(t, "the aborted capture's bytes given back", func() bool { return s.captures.used.Load() == 0 })
	// Half an answer is not the application's answer: not compared.
	eventually(t, "the cut answer's copy dropped", func() bool {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "items", "reason": DropAnswerCut}) == 1
	})
	waiting.Store(0)

	before := liveHeap()
	peak := sampleMax(&s.captures)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		kind := "cl"
		if i%2 == 1 {
			kind = "chunked"
		}
		method, body := "GET", io.Reader(nil)
		if i%4 >= 2 {
			method, body = "POST", bytes.NewReader(upload)
		}
		wg.Go(func() {
			req, _ := http.NewRequest(method, fmt.Sprintf("%s/items/%s-%d", srv.URL, kind, i), body)
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			h := sha256.New()
			n, err := io.Copy(h, resp.Body) // streamed: the test holds no answer
			if err != nil || n != size || !bytes.Equal(h.Sum(nil), sum[:]) || resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("%s %s-%d: status %d, %d bytes, %v: not the application's answer", method, kind, i, resp.StatusCode, n, err)
			}
		})
	}
	eventually(t, "every answer half sent, the application waiting", func() bool { return waiting.Load() == clients })
	held, heap := inFlight(), liveHeap()
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak(); p > budget || p == 0 {
		t.Errorf("captures held at most %d bytes, want within the budget of %d", p, budget)
	}
	if held <= 0 || held > budget {
		t.Errorf("capture_bytes_in_flight = %v while %d answers were under way, want in (0, %d]", held, clients, budget)
	}
	t.Logf("heap +%d KiB with %d answers under way, captures held %v bytes", (int64(heap)-int64(before))>>10, clients, held)
	// Without the budget every answer's copy is held (~60 MiB here).
	if grown := int64(heap) - int64(before); grown > budget+12<<20 {
		t.Errorf("the heap grew by %d MiB with %d answers under way; captures may hold %d MiB", grown>>20, clients, budget>>20)
	}
	eventually(t, "the budget released", func() bool { return inFlight() == 0 })
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
	before0 := mirrored("items")
	for i := range 5 {
		_, body := get(t, fmt.Sprintf("%s/items/cl-after-%d", srv.URL, i))
		if body != string(answer) {
			t.Fatal("not the application's answer")
		}
	}
	eventually(t, "later requests mirrored", func() bool { return mirrored("items") == before0+5 })
	if got := inFlight(); got != 0 {
		t.Errorf("capture_bytes_in_flight = %v after the clients are done", got)
	}
}
