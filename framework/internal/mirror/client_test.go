package mirror

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/shadowtest/shadowtest/framework"
)

func target(url string) framework.Target {
	return framework.Target{Name: "shadow", URL: url, Timeout: 2 * time.Second, Retries: 2}
}

func TestDoSendsRequestWithTargetHeaders(t *testing.T) {
	t.Setenv("SHADOWTEST_TEST_TOKEN", "s3cret")
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	tg := target(srv.URL + "/v2")
	tg.Headers = map[string]string{"Authorization": "Bearer ${SHADOWTEST_TEST_TOKEN}", "Host": "api.internal"}
	c := NewClient(tg, "", 4, 0)
	resp := c.Do(context.Background(), &framework.Request{
		Method: "POST",
		URL:    "/users/7?expand=1",
		Header: http.Header{"Host": {"recorded.example"}, "Content-Length": {"99"}, "X-Trace": {"a"}},
		Body:   []byte(`{"name":"x"}`),
	})
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if resp.Status != 201 || string(resp.Body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response = %d %q %v", resp.Status, resp.Body, resp.Header)
	}
	if got.URL.Path != "/v2/users/7" || got.URL.RawQuery != "expand=1" {
		t.Errorf("path prefix not applied: %s", got.URL)
	}
	if got.Header.Get("Authorization") != "Bearer s3cret" {
		t.Errorf("Authorization = %q, want the environment expanded", got.Header.Get("Authorization"))
	}
	if got.Host != "api.internal" {
		t.Errorf("Host = %q, want the target's Host header", got.Host)
	}
	if got.Header.Get("X-Trace") != "a" || gotBody != `{"name":"x"}` {
		t.Errorf("recorded header or body lost: %v %q", got.Header, gotBody)
	}
	if resp.Latency <= 0 {
		t.Error("latency not measured")
	}
}

func TestDoCapsBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 5000))
	}))
	defer srv.Close()
	resp := NewClient(target(srv.URL), "", 1, 1024).Do(context.Background(), &framework.Request{Method: "GET", URL: "/"})
	if len(resp.Body) != 1024 || !resp.Truncated {
		t.Errorf("body %d bytes, truncated=%v; want 1024 and true", len(resp.Body), resp.Truncated)
	}
	resp = NewClient(target(srv.URL), "", 1, 5000).Do(context.Background(), &framework.Request{Method: "GET", URL: "/"})
	if len(resp.Body) != 5000 || resp.Truncated {
		t.Errorf("body exactly at the cap: %d bytes, truncated=%v; want 5000 and false", len(resp.Body), resp.Truncated)
	}
}

// TestBodylessAnswersAllocateNoBody: a HEAD answer carries its GET's
// Content-Length, a 304 may too; neither has a body, yet readCapped
// allocated the announced length up to the cap, 8 MiB per HEAD of a large
// file in a run or a live session (redteam6).
func TestBodylessAnswersAllocateNoBody(t *testing.T) {
	const size = 8 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		if r.URL.Path == "/304" {
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	defer srv.Close()
	c := NewClient(target(srv.URL), "", 1, size)
	for _, req := range []framework.Request{{Method: "HEAD", URL: "/"}, {Method: "GET", URL: "/304"}} {
		const calls = 5 // an average: another goroutine's garbage cannot pass for the leak of 8 MiB a call
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range calls {
			resp := c.Do(context.Background(), &req)
			if resp.Err != nil || len(resp.Body) != 0 {
				t.Fatalf("%s %s: %v, %d bytes", req.Method, req.URL, resp.Err, len(resp.Body))
			}
		}
		runtime.ReadMemStats(&after)
		if n := (after.TotalAlloc - before.TotalAlloc) / calls; n > 1<<20 {
			t.Errorf("%s %s: %d KiB allocated per call for an answer without a body", req.Method, req.URL, n>>10)
		}
	}
}

func TestRetryOnlyIdempotentAndOnlyOn429(t *testing.T) {
	tests := []struct {
		method string
		status int
		want   int64
		reason string
	}{
		{"GET", 429, 3, "GET on 429 is retried up to RetryMax"},
		{"GET", 503, 1, "a 5xx is an answer to compare, never retried"},
		{"POST", 429, 1, "a POST is never retried"},
		{"GET", 200, 1, "success"},
	}
	for _, tt := range tests {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(tt.status)
		}))
		resp := NewClient(target(srv.URL), "", 1, 0).Do(context.Background(), &framework.Request{Method: tt.method, URL: "/"})
		srv.Close()
		if calls.Load() != tt.want {
			t.Errorf("%s %d: %d calls, want %d (%s)", tt.method, tt.status, calls.Load(), tt.want, tt.reason)
		}
		if resp.Status != tt.status {
			t.Errorf("%s %d: the last response is lost: got status %d (%s)", tt.method, tt.status, resp.Status, tt.reason)
		}
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound) // a loop
	}))
	defer srv.Close()
	resp := NewClient(target(srv.URL), "", 1, 0).Do(context.Background(), &framework.Request{Method: "GET", URL: "/loop"})
	if resp.Err != nil || resp.Status != 302 || resp.Header.Get("Location") != "/loop" {
		t.Errorf("got %d %v %v, want the 302 itself", resp.Status, resp.Header, resp.Err)
	}
}

func TestTransportFailuresAreClassified(t *testing.T) {
	refused := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	slowBody := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "first bytes")
		w.(http.Flusher).Flush()
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slowBody.Close()
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "partial")
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer reset.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()

	tests := []struct {
		url, want, reason string
		timeout           time.Duration
	}{
		{refused + "/?api_key=k", "refused", "nothing listens on the port", time.Second},
		{slow.URL, "timeout", "slower than the target's timeout", 200 * time.Millisecond},
		{slowBody.URL, "timeout", "headers in time, the body slower than the timeout: it covers the body too", 200 * time.Millisecond},
		{reset.URL, "reset", "connection closed in the middle of the body", time.Second},
		{tlsSrv.URL, "tls", "certificate signed by an unknown authority", time.Second},
	}
	for _, tt := range tests {
		tg := target(tt.url)
		tg.Timeout = tt.timeout
		start := time.Now()
		resp := NewClient(tg, "", 1, 0).Do(context.Background(), &framework.Request{Method: "POST", URL: "/x?api_key=secret"})
		if resp.Err == nil || resp.ErrKind != tt.want {
			t.Errorf("%s: kind %q (err %v), want %q (%s)", tt.url, resp.ErrKind, resp.Err, tt.want, tt.reason)
		}
		if took := time.Since(start); tt.want == "timeout" && took > 1500*time.Millisecond {
			t.Errorf("%s: the %s timeout ended the request after %v (%s)", tt.url, tt.timeout, took, tt.reason)
		}
		if resp.Err != nil && strings.Contains(resp.Err.Error(), "secret") {
			t.Errorf("the error leaks the query string: %v", resp.Err)
		}
	}
}

func TestSendTimesEachSideOnItsOwn(t *testing.T) {
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "p") }))
	defer prod.Close()
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "s")
	}))
	defer shadow.Close()
	m := New(&framework.Plan{
		Prod:   framework.Target{Name: "prod", URL: prod.URL, Timeout: time.Second},
		Shadow: framework.Target{Name: "shadow", URL: shadow.URL, Timeout: time.Second},
		Mirror: framework.Mirror{Concurrency: 2},
	})
	sender := m.Sender() // a runner's worker: one shadow goroutine for every request
	defer sender.Close()
	for i, send := range []func(context.Context, *framework.Request) (framework.Response, framework.Response){m.Send, sender.Send, sender.Send} {
		p, s := send(context.Background(), &framework.Request{Method: "GET", URL: "/"})
		if string(p.Body) != "p" || string(s.Body) != "s" {
			t.Fatalf("send %d: bodies %q %q: sides swapped or lost", i, p.Body, s.Body)
		}
		if p.Latency >= 200*time.Millisecond || s.Latency < 300*time.Millisecond {
			t.Errorf("send %d: prod latency %v includes the shadow's delay, or shadow latency %v is wrong", i, p.Latency, s.Latency)
		}
	}
}

func TestShadowIsNotRetriedOnRefusedConnection(t *testing.T) {
	idempotent := context.WithValue(context.Background(), sendKey{}, &sending{idempotent: true})
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	tests := []struct {
		name   string
		policy func(context.Context, *http.Response, error) (bool, error)
		err    error
		want   bool
		reason string
	}{
		{"shadow refused", ShadowRetryPolicy, refused, false, "a shadow that is down would hold a worker prod needs through every backoff"},
		{"prod refused", RetryPolicy, refused, true, "prod's answer is what every comparison needs: a restarting prod gets another try"},
		{"shadow reset", ShadowRetryPolicy, reset, true, "a reset connection may be a stale pooled one: retried on both sides"},
	}
	for _, tt := range tests {
		got, _ := tt.policy(idempotent, nil, tt.err)
		if got != tt.want {
			t.Errorf("%s: retry = %v, want %v (%s)", tt.name, got, tt.want, tt.reason)
		}
	}
}

func TestShadowRefusedIsOneAttempt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	m := New(&framework.Plan{
		Prod:   framework.Target{Name: "prod", URL: "http://" + addr, Timeout: time.Second, Retries: 2},
		Shadow: framework.Target{Name: "shadow", URL: "http://" + addr, Timeout: time.Second, Retries: 2},
		Mirror: framework.Mirror{Concurrency: 1},
	})
	var prodAttempts, shadowAttempts atomic.Int64
	m.Prod.http.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, _ int) { prodAttempts.Add(1) }
	m.Shadow.http.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, _ int) { shadowAttempts.Add(1) }
	p, s := m.Send(context.Background(), &framework.Request{Method: "GET", URL: "/"})
	if p.ErrKind != "refused" || s.ErrKind != "refused" {
		t.Fatalf("kinds %q %q, want refused on both sides", p.ErrKind, s.ErrKind)
	}
	if shadowAttempts.Load() != 1 || prodAttempts.Load() != 3 {
		t.Errorf("attempts: shadow %d (want 1), prod %d (want 3: RetryMax 2)", shadowAttempts.Load(), prodAttempts.Load())
	}
}

// TestRetriesAreExactAndCounted: a GET that the server resets every time
// reaches it exactly retries+1 times, even when the client's pool holds
// reused keep-alive connections (on which net/http's Transport would
// resend the request by itself), and the response counts the retries.
func TestRetriesAreExactAndCounted(t *testing.T) {
	for _, retries := range []int{0, 1, 2, 4} {
		var resets atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/reset" {
				resets.Add(1)
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.(*net.TCPConn).SetLinger(0) // a real RST
					conn.Close()
				}
				return
			}
			time.Sleep(20 * time.Millisecond) // keep the warm-up requests overlapping
			io.WriteString(w, "ok")
		}))
		tg := target(srv.URL)
		tg.Retries = retries
		c := NewClient(tg, "", 8, 0)
		// Fill the pool with idle keep-alive connections.
		done := make(chan struct{})
		for range 8 {
			go func() {
				c.Do(context.Background(), &framework.Request{Method: "GET", URL: "/ok"})
				done <- struct{}{}
			}()
		}
		for range 8 {
			<-done
		}
		for _, method := range []string{"GET", "DELETE"} {
			resets.Store(0)
			resp := c.Do(context.Background(), &framework.Request{Method: method, URL: "/reset"})
			if resp.ErrKind != "reset" {
				t.Errorf("retries %d, %s: kind %q (%v), want reset", retries, method, resp.ErrKind, resp.Err)
			}
			if got := resets.Load(); got != int64(retries+1) || resp.Retries != retries {
				t.Errorf("retries %d, %s: the server saw %d attempts and the response counts %d retries; want %d and %d",
					retries, method, got, resp.Retries, retries+1, retries)
			}
		}
		srv.Close()
	}
}

// TestEmptyBodyChangesNothingOnTheWire: the empty body that stops net/http
// from resending a request adds no Content-Length or Transfer-Encoding.
func TestEmptyBodyChangesNothingOnTheWire(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" cl="+strconv.FormatInt(r.ContentLength, 10)+" te="+strings.Join(r.TransferEncoding, ",")+" h="+r.Header.Get("Content-Length"))
	}))
	defer srv.Close()
	c := NewClient(target(srv.URL), "", 1, 0)
	for _, m := range []string{"GET", "HEAD", "DELETE", "OPTIONS", "PUT", "POST"} {
		c.Do(context.Background(), &framework.Request{Method: m, URL: "/"})
	}
	want := []string{"GET cl=0 te= h=", "HEAD cl=0 te= h=", "DELETE cl=0 te= h=", "OPTIONS cl=0 te= h=", "PUT cl=0 te= h=0", "POST cl=0 te= h=0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests as received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The raw bytes too: a GET's head ends the request, with neither
	// header (a parsing server could hide, say, Transfer-Encoding: identity).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	raw := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			raw <- err.Error()
			return
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		b, _ := io.ReadAll(conn) // until the deadline: every byte the client sent
		raw <- string(b)
	}()
	tg := target("http://" + l.Addr().String())
	tg.Timeout = 200 * time.Millisecond
	NewClient(tg, "", 1, 0).Do(context.Background(), &framework.Request{Method: "GET", URL: "/"})
	sent := <-raw
	if lower := strings.ToLower(sent); strings.Contains(lower, "transfer-encoding") || strings.Contains(lower, "content-length") || !strings.HasSuffix(sent, "\r\n\r\n") {
		t.Errorf("a GET as sent on the wire:\n%q\nwant a head without Transfer-Encoding or Content-Length, and nothing after it", sent)
	}
}

// TestShadowRefusedIsNotRedialled: after the shadow refused a connection,
// requests within ShadowRefusedHold fail as refused without a dial (each
// refused dial costs the runner as much as a whole answered request); once
// the hold is over, a shadow that came back answers. Prod is always dialled.
func TestShadowRefusedIsNotRedialled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	m := New(&framework.Plan{
		Prod:   framework.Target{Name: "prod", URL: "http://" + addr, Timeout: time.Second},
		Shadow: framework.Target{Name: "shadow", URL: "http://" + addr, Timeout: time.Second},
		Mirror: framework.Mirror{Concurrency: 1},
	})
	var prodAttempts, shadowAttempts atomic.Int64
	m.Prod.http.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, _ int) { prodAttempts.Add(1) }
	m.Shadow.http.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, _ int) { shadowAttempts.Add(1) }
	start := time.Now()
	const n = 20
	for range n {
		p, s := m.Send(context.Background(), &framework.Request{Method: "GET", URL: "/"})
		if p.ErrKind != "refused" || s.ErrKind != "refused" {
			t.Fatalf("kinds %q %q, want refused on both sides", p.ErrKind, s.ErrKind)
		}
	}
	if time.Since(start) < ShadowRefusedHold && shadowAttempts.Load() != 1 {
		t.Errorf("shadow dialled %d times within the hold, want once", shadowAttempts.Load())
	}
	if prodAttempts.Load() != n {
		t.Errorf("prod dialled %d times, want %d (prod is never held back)", prodAttempts.Load(), n)
	}
	// The shadow comes back on the same address.
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("address taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "back") })}
	go srv.Serve(l)
	defer srv.Close()
	time.Sleep(ShadowRefusedHold + 20*time.Millisecond)
	if resp := m.Shadow.Do(context.Background(), &framework.Request{Method: "GET", URL: "/"}); resp.Err != nil || string(resp.Body) != "back" {
		t.Errorf("after the hold: %v %q, want the shadow's answer", resp.Err, resp.Body)
	}
}

// TestReadCappedLyingLength: a Content-Length far beyond the cap (or the
// largest int64) allocates no more than the cap, and a body shorter than
// its announced length is read as it is.
func TestReadCappedLyingLength(t *testing.T) {
	for _, length := range []int64{1 << 62, 9223372036854775807, 5} {
		body, truncated, err := readCapped(strings.NewReader(strings.Repeat("x", 3000)), length, 1024, nil)
		if err != nil || len(body) != 1024 || cap(body) > 1025 || !truncated {
			t.Errorf("length %d: %d bytes (cap %d), truncated %v, %v; want the 1024-byte cap, truncated", length, len(body), cap(body), truncated, err)
		}
	}
	body, truncated, err := readCapped(strings.NewReader("short"), 100, 1024, nil)
	if err != nil || string(body) != "short" || truncated {
		t.Errorf("short body: %q %v %v", body, truncated, err)
	}
}

// TestReadCappedReusesTheBuffer: a body read into a large enough buffer
// uses its memory and allocates nothing, whether its length is known or
// not; a buffer larger than the cap is read only up to the cap; a small
// buffer grows as before.
func TestReadCappedReusesTheBuffer(t *testing.T) {
	text := strings.Repeat("x", 3000)
	buf := make([]byte, 0, 4096)
	for _, length := range []int64{3000, -1} {
		allocs := testing.AllocsPerRun(20, func() {
			body, truncated, err := readCapped(strings.NewReader(text), length, 1<<20, buf)
			if err != nil || string(body) != text || truncated || &body[:1][0] != &buf[:1][0] {
				t.Fatalf("length %d: %d bytes, truncated %v, %v, same memory %v", length, len(body), truncated, err, &body[:1][0] == &buf[:1][0])
			}
		})
		if allocs > 1 { // the strings.Reader
			t.Errorf("length %d: %.0f allocations per read into a large enough buffer, want none", length, allocs)
		}
	}
	body, truncated, err := readCapped(strings.NewReader(text), -1, 1024, buf)
	if err != nil || len(body) != 1024 || !truncated {
		t.Errorf("buffer over the cap: %d bytes, truncated %v, %v; want the 1024-byte cap", len(body), truncated, err)
	}
	body, _, err = readCapped(strings.NewReader(text), -1, 1<<20, make([]byte, 0, 16))
	if err != nil || string(body) != text {
		t.Errorf("small buffer: %d bytes, %v", len(body), err)
	}
}

// TestAnswerHeadersAreBoundedByTheBodyCap: a hostile shadow answering
// every request with megabytes of headers held up to net/http's default
// (10 MiB) per answer, past mirror.maxBodyBytes, times the concurrency.
// An answer whose headers exceed the bound (twice the body cap, at least
// 64 KiB, at most 1 MiB) is a failed answer; ordinary headers pass under a
// small cap.
func TestAnswerHeadersAreBoundedByTheBodyCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("kib"))
		for i := range n / 8 {
			w.Header().Set("X-Pad-"+strconv.Itoa(i), strings.Repeat("p", 8<<10))
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := NewClient(target(srv.URL), "", 1, 16<<10)
	if resp := c.Do(context.Background(), &framework.Request{Method: "GET", URL: "/?kib=48"}); resp.Failed() || string(resp.Body) != "ok" {
		t.Errorf("48 KiB of headers under a 16 KiB body cap: %v %q, want the answer", resp.Err, resp.Body)
	}
	resp := c.Do(context.Background(), &framework.Request{Method: "GET", URL: "/?kib=4096"})
	if !resp.Failed() {
		size := 0
		for name, values := range resp.Header {
			size += len(name) + len(strings.Join(values, ""))
		}
		t.Errorf("4 MiB of headers under a 16 KiB body cap: an answer with %d KiB of headers, want a failed answer", size>>10)
	}
}

// TestDoCopiesEveryHeaderValue: the copy sends each recorded header with
// all its values in order (the values of every header share one array),
// the target's own headers replace the recorded ones, and the recorded
// request is left as it was.
func TestDoCopiesEveryHeaderValue(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	}))
	defer srv.Close()
	tg := target(srv.URL)
	tg.Headers = map[string]string{"X-Replaced": "target"}
	c := NewClient(tg, "", 1, 0)
	recorded := http.Header{"X-Multi": {"a", "b", "c"}, "x-lower": {"d"}, "X-Replaced": {"recorded", "twice"}, "Cookie": {"k=v", "k2=v2"}}
	before := recorded.Clone()
	if resp := c.Do(context.Background(), &framework.Request{Method: "GET", URL: "/", Header: recorded}); resp.Err != nil {
		t.Fatal(resp.Err)
	}
	for name, want := range map[string][]string{"X-Multi": {"a", "b", "c"}, "X-Lower": {"d"}, "X-Replaced": {"target"}, "Cookie": {"k=v", "k2=v2"}} {
		if !slices.Equal(got[name], want) {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	if !reflect.DeepEqual(recorded, before) {
		t.Errorf("the recorded request's header changed: %v, was %v", recorded, before)
	}
}
