package live

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"time"
)

// connProd is a prod on a raw TCP listener whose handler owns each
// connection: it reads (or does not read) the request itself.
type connProd struct {
	net.Listener
	conns atomic.Int64
}

func newConnProd(t testing.TB, handle func(c net.Conn, br *bufio.Reader)) *connProd {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connProd{Listener: l}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range all {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			mu.Lock()
			all = append(all, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c, bufio.NewReader(c))
			})
		}
	}()
	return p
}

func (p *connProd) URL() string { return "http://" + p.Addr().String() }

// readHead reads one request's head (not its body) and returns its path.
func readHead(br *bufio.Reader) (*http.Request, error) {
	return http.ReadRequest(br)
}

// TestFastProdAttackAnswersAsNetHTTP: more of what a misbehaving prod
// sends, through both prod clients: the client sees the same.
func TestFastProdAttackAnswersAsNetHTTP(t *testing.T) {
	flood := strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", 200)
	manyHeaders := strings.Repeat("X-A: 1\r\n", 100000)
	prod := newRawProd(t, map[string]func(net.Conn){
		"/items/bigchunk":     sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nok\r\n0\r\n\r\n"),
		"/items/nochunkcrlf":  sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX3\r\nabc\r\n0\r\n\r\n"),
		"/items/negchunk":     sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n"),
		"/items/chunkext":     say("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b;c\r\nok\r\n0\r\n\r\n"),
		"/items/badtrailer":   sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nnot a header\r\n\r\n"),
		"/items/midheader":    sayAndClose("HTTP/1.1 200 OK\r\nContent-Le"),
		"/items/midstatus":    sayAndClose("HTTP/1.1 20"),
		"/items/flood":        say(flood + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		"/items/head-body":    say("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
		"/items/204-body":     say("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"),
		"/items/204-chunked":  say("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
		"/items/304-body":     say("HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"),
		"/items/obsfold2":     say("HTTP/1.1 200 OK\r\nX-Fold: a\r\n\tb\r\nContent-Length: 2\r\n\r\nok"),
		"/items/manyheaders":  say("HTTP/1.1 200 OK\r\n" + manyHeaders + "Content-Length: 2\r\n\r\nok"),
		"/items/cl-neg":       sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok"),
		"/items/cl-plus":      sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok"),
		"/items/cl-list":      sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"),
		"/items/cl-huge":      sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok"),
		"/items/te-identity":  sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok"),
		"/items/status-short": sayAndClose("HTTP/1.1 2 OK\r\nContent-Length: 2\r\n\r\nok"),
		"/items/lf-only":      say("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
		"/items/space-colon":  sayAndClose("HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok"),
		"/items/connclose":    say("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
		"/items/101-flood":    say("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	})
	calls := []struct{ method, path string }{
		{"GET", "/items/bigchunk"}, {"GET", "/items/nochunkcrlf"}, {"GET", "/items/negchunk"}, {"GET", "/items/chunkext"},
		{"GET", "/items/badtrailer"}, {"GET", "/items/midheader"}, {"GET", "/items/midstatus"}, {"GET", "/items/flood"},
		{"HEAD", "/items/head-body"}, {"GET", "/items/204-body"}, {"GET", "/items/204-chunked"}, {"GET", "/items/304-body"},
		{"GET", "/items/obsfold2"}, {"GET", "/items/manyheaders"}, {"GET", "/items/cl-neg"}, {"GET", "/items/cl-plus"},
		{"GET", "/items/cl-list"}, {"GET", "/items/cl-huge"}, {"GET", "/items/te-identity"}, {"GET", "/items/status-short"},
		{"GET", "/items/lf-only"}, {"GET", "/items/space-colon"}, {"GET", "/items/connclose"}, {"GET", "/items/101-flood"},
	}
	fs := fronts(t, prod.URL())
	for _, c := range calls {
		got := map[string]seen{}
		after := map[string]seen{}
		for name, front := range fs {
			client := newClient()
			got[name] = fetch(t, client, c.method, front.URL+c.path, nil, nil)
			// The next request, on whatever connection the pool gives,
			// gets its own answer.
			after[name] = fetch(t, client, "GET", front.URL+"/items/next", nil, nil)
		}
		fast, std := got[ProdClientFast], got[ProdClientNetHTTP]
		if fast.Err && std.Err {
			continue // see TestFastProdAnswersAsNetHTTP
		}
		if !reflect.DeepEqual(fast, std) {
			t.Errorf("%s %s: the client saw\n fast:     %+v\n net/http: %+v", c.method, c.path, short(fast), short(std))
		}
		for name, s := range after {
			if s.Status != 200 || s.Body != "ok" {
				t.Errorf("%s %s through %s: the next request's answer is %d %q", c.method, c.path, name, s.Status, s.Body)
			}
		}
	}
}

// TestFastProdAttackIdleGarbage: prod answers, keeps the connection
// idle, then writes garbage (or a whole unsolicited answer) on it: the
// next request gets its own answer, not the garbage.
func TestFastProdAttackIdleGarbage(t *testing.T) {
	for _, junk := range []string{"garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"} {
		prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
			for {
				req, err := readHead(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
				if req.URL.Path == "/items/first" {
					time.Sleep(30 * time.Millisecond)
					io.WriteString(c, junk)
				}
			}
		})
		for name, front := range fronts(t, prod.URL()) {
			fetch(t, newClient(), "GET", front.URL+"/items/first", nil, nil)
			time.Sleep(100 * time.Millisecond)
			if s := fetch(t, newClient(), "GET", front.URL+"/items/second", nil, nil); s.Status != 200 || s.Body != "/items/second" {
				t.Errorf("%s, %q on the idle connection: the next answer is %d %q", name, junk, s.Status, s.Body)
			}
		}
	}
}

// TestFastProdAttackAnswerBeforeBody: prod answers 413 and closes before
// reading a large request body, or reads it slowly: the client sees the
// same with both prod clients.
func TestFastProdAttackAnswerBeforeBody(t *testing.T) {
	prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
		req, err := readHead(br)
		if err != nil {
			return
		}
		switch req.URL.Path {
		case "/items/413":
			io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig")
			c.(*net.TCPConn).CloseWrite()
			time.Sleep(200 * time.Millisecond)
		case "/items/413-keep":
			// Answers without reading and keeps the connection open.
			io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
			time.Sleep(500 * time.Millisecond)
		case "/items/slow":
			buf := make([]byte, 64<<10)
			n := 0
			for {
				m, err := req.Body.Read(buf)
				n += m
				if err != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(fmt.Sprint(n)), fmt.Sprint(n))
		}
	})
	fs := fronts(t, prod.URL())
	body := strings.Repeat("x", 8<<20)
	for _, path := range []string{"/items/413", "/items/413-keep", "/items/slow"} {
		got := map[string]seen{}
		for name, front := range fs {
			got[name] = fetch(t, newClient(), "POST", front.URL+path, strings.NewReader(body), nil)
		}
		fast, std := got[ProdClientFast], got[ProdClientNetHTTP]
		if !reflect.DeepEqual(fast, std) {
			t.Errorf("POST %s: the client saw\n fast:     %+v\n net/http: %+v", path, short(fast), short(std))
		}
		t.Logf("POST %s: %d %q", path, fast.Status, fast.Body)
	}
}

// TestFastProdAttackKeepAliveRace: prod closes a kept connection as the
// next request arrives, without answering: GET is sent again, POST is
// not (prod must see it once).
func TestFastProdAttackKeepAliveRace(t *testing.T) {
	var posts atomic.Int64
	prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
		for n := 0; ; n++ {
			req, err := readHead(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if n == 1 {
				if req.Method == "POST" {
					posts.Add(1)
				}
				return // closes without answering the second request
			}
			if req.Method == "POST" && req.URL.Path == "/items" {
				posts.Add(1)
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	for name, front := range fronts(t, prod.URL()) {
		client := newClient()
		for i := range 3 {
			if s := fetch(t, client, "GET", front.URL+"/items/warm", nil, nil); s.Status != 200 {
				t.Fatalf("%s: warm-up %d: %d", name, i, s.Status)
			}
			s := fetch(t, client, "GET", front.URL+"/items/again", nil, nil)
			if s.Status != 200 || s.Body != "ok" {
				t.Errorf("%s: GET on a connection prod closes: %d %q, want it sent again", name, s.Status, s.Body)
			}
			fetch(t, client, "GET", front.URL+"/items/warm", nil, nil)
			posts.Store(0)
			s = fetch(t, client, "POST", front.URL+"/items", strings.NewReader("{}"), nil)
			if s.Status == 200 && posts.Load() != 1 || posts.Load() > 1 {
				t.Errorf("%s: POST on a connection prod closes: %d, prod saw it %d times", name, s.Status, posts.Load())
			}
		}
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// settle waits for the count to come back to at most want (+slack).
func settle(count func() int, want, slack int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := count()
	for n > want+slack && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = count()
	}
	return n
}

// TestFastProdAttackUnsolicitedSwitchLeaks: a 101 to requests that asked
// for no upgrade, on connections prod keeps open: the proxy answers 502
// and keeps no connection or goroutine per request. ReverseProxy refuses
// the switch but never closes the answer's body: net/http's connection
// stayed open until a garbage collection.
func TestFastProdAttackUnsolicitedSwitchLeaks(t *testing.T) {
	prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(io.Discard, c) // keeps it open until the proxy closes it
	})
	for name, front := range fronts(t, prod.URL()) {
		client := newClient()
		fetch(t, client, "GET", front.URL+"/items/warm", nil, nil)
		fds, gs := openFDs(t), runtime.NumGoroutine()
		for i := range 40 {
			if s := fetch(t, client, "GET", front.URL+"/items/x", nil, nil); s.Status != http.StatusBadGateway {
				t.Fatalf("%s: %d: status %d", name, i, s.Status)
			}
		}
		if n := settle(func() int { return openFDs(t) }, fds, 8); n > fds+8 {
			t.Errorf("%s: %d file descriptors after 40 unsolicited 101s, %d before", name, n, fds)
		}
		if n := settle(runtime.NumGoroutine, gs, 8); n > gs+8 {
			t.Errorf("%s: %d goroutines after 40 unsolicited 101s, %d before", name, n, gs)
		}
	}
}

// TestFastProdAttackClientsLeave: many clients at once leave mid-answer
// (prod streams slowly): goroutines and file descriptors come back to
// where they were, and prod's connections are closed.
func TestFastProdAttackClientsLeave(t *testing.T) {
	var open atomic.Int64
	prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
		open.Add(1)
		defer open.Add(-1)
		for {
			req, err := readHead(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			switch req.URL.Path {
			case "/items/stream":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
				for {
					if _, err := io.WriteString(c, strings.Repeat("s", 1024)); err != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			case "/items/hang":
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				io.Copy(io.Discard, c) // never answers
				return
			default:
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		}
	})
	for name, front := range fronts(t, prod.URL()) {
		fetch(t, newClient(), "GET", front.URL+"/items/warm", nil, nil)
		time.Sleep(50 * time.Millisecond)
		fds, gs, conns := openFDs(t), runtime.NumGoroutine(), open.Load()
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				path := []string{"/items/stream", "/items/hang"}[i%2]
				var body io.Reader
				method := "GET"
				if i%4 >= 2 {
					method, body = "POST", strings.NewReader(strings.Repeat("b", 100000))
				}
				req, _ := http.NewRequestWithContext(ctx, method, front.URL+path, body)
				client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
				defer client.CloseIdleConnections()
				if path == "/items/hang" {
					time.AfterFunc(time.Duration(50+i)*time.Millisecond, cancel)
				}
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				io.ReadFull(resp.Body, make([]byte, 4096))
				resp.Body.Close() // leaves mid-answer
			})
		}
		wg.Wait()
		// A few may be idle in the pool (net/http keeps a connection
		// made for a client that left while it was dialled), not one per
		// client. Each idle one holds two descriptors here (prod is in
		// this process) and three goroutines (the transport's reader and
		// writer, prod's handler): allowed for, as counted by prod.
		n := settle(func() int { return int(open.Load()) }, int(conns), 4)
		if n > int(conns)+4 {
			t.Errorf("%s: prod still has %d connections open, %d before", name, n, conns)
		}
		idle := max(n-int(conns), 0)
		if n := settle(func() int { return openFDs(t) }, fds, 4+2*idle); n > fds+4+2*idle {
			t.Errorf("%s: %d file descriptors after 64 clients left, %d before (%d idle prod connections)", name, n, fds, idle)
		}
		if n := settle(runtime.NumGoroutine, gs, 4+3*idle); n > gs+4+3*idle {
			buf := make([]byte, 1<<20)
			t.Errorf("%s: %d goroutines after 64 clients left, %d before (%d idle prod connections)\n%s", name, n, gs, idle, buf[:runtime.Stack(buf, true)])
		}
	}
}

// TestFastProdAttackBadRequestBody: a client whose chunked request body
// breaks its framing mid-way and then waits: the request body cannot be
// finished, so prod, which waits for the rest, will never answer. Both
// prod clients give the client an answer at once, not after prod's
// timeout.
func TestFastProdAttackBadRequestBody(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	for name, front := range fronts(t, prod.URL) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "POST /items HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
		time.Sleep(50 * time.Millisecond)
		io.WriteString(conn, "zz\r\n")
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("%s: no answer %v after the client's body broke: %v", name, time.Since(start).Round(time.Millisecond), err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: %d after the client's body broke, want net/http's 502", name, resp.StatusCode)
		}
	}
}

// TestFastProdAttackErrorKinds: the errors of misframed answers are of
// the kind net/http's Transport gives (mirror.Classify), whether they
// come before the answer or while its body is read.
func TestFastProdAttackErrorKinds(t *testing.T) {
	answers := map[string]string{
		"/midheader":   "HTTP/1.1 200 OK\r\nContent-Le",
		"/midstatus":   "HTTP/1.1 20",
		"/midbody":     "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"/bigchunk":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nok\r\n0\r\n\r\n",
		"/negchunk":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",
		"/nochunkcrlf": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
		"/midchunk":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nok",
		"/badtrailer":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nnot a header\r\n\r\n",
		"/cl-neg":      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
		"/cl-huge":     "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok",
		"/dupcl":       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"/badstatus":   "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok",
		"/1xx-cut":     "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 2",
	}
	handlers := map[string]func(net.Conn){}
	for path, raw := range answers {
		handlers[path] = sayAndClose(raw)
	}
	prod := newRawProd(t, handlers)
	std := &http.Transport{DisableCompression: true}
	defer std.CloseIdleConnections()
	fast := newFastTransport(std, &net.Dialer{Timeout: time.Second}, time.Minute)
	roundTrip := func(rt http.RoundTripper, url string) (status int, kind string, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := rt.RoundTrip(req)
		if err == nil {
			status = resp.StatusCode
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			return status, "", nil
		}
		return status, mirror.Classify(err), err
	}
	for path := range answers {
		ws, want, werr := roundTrip(std, prod.URL()+path)
		gs, got, gerr := roundTrip(fast, prod.URL()+path)
		if got != want || gs != ws {
			t.Errorf("%s: %d, kind %q (%v); net/http's %d, %q (%v)", path, gs, got, gerr, ws, want, werr)
		}
	}
}

// TestFastProdEarlyAnswerEndsAtOnce: prod answers before it has read the
// request body and keeps the connection without reading: the client has
// the whole answer without waiting for the proxy to decide whether the
// connection can be reused (up to maxWriteWait for the body's write, made
// long here so that a wait shows), as with net/http, whose read
// goroutine waits instead of the handler.
func TestFastProdEarlyAnswerEndsAtOnce(t *testing.T) {
	prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
		time.Sleep(5 * time.Second) // reads nothing more
	})
	u, _ := url.Parse(prod.URL())
	rp := httputil.NewSingleHostReverseProxy(u)
	std := &http.Transport{DisableCompression: true}
	defer std.CloseIdleConnections()
	fast := newFastTransport(std, &net.Dialer{Timeout: time.Second}, time.Minute)
	fast.writeWait = 3 * time.Second
	rp.Transport = fast
	front := httptest.NewServer(rp)
	defer front.Close()
	start := time.Now()
	s := fetch(t, newClient(), "POST", front.URL+"/items", strings.NewReader(strings.Repeat("x", 8<<20)), nil)
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the early answer took %v to reach the client (the body write is waited for up to %v)", took.Round(time.Millisecond), fast.writeWait)
	}
	if s.Status != http.StatusRequestEntityTooLarge || s.Body != "big" || s.Err {
		t.Errorf("the client saw %d %q (cut: %v), want prod's 413", s.Status, s.Body, s.Err)
	}
}

// longHints are four 103s of a long reason phrase, max1xxBytes - 64 KiB
// and max1xxBytes + 64 KiB in all (more than net/http's read-ahead):
// their header fields are small.
func longHints(t *testing.T) (under, over string) {
	hints := func(total int) string {
		frame := len("HTTP/1.1 103 \r\nLink: </a>\r\n\r\n")
		return strings.Repeat("HTTP/1.1 103 "+strings.Repeat("a", total/4-frame)+"\r\nLink: </a>\r\n\r\n", 4)
	}
	under, over = hints(max1xxBytes-64<<10), hints(max1xxBytes+64<<10)
	if len(under) > max1xxBytes || len(over) <= max1xxBytes {
		t.Fatalf("the long hints are %d and %d bytes, want under and over %d", len(under), len(over), max1xxBytes)
	}
	return under, over
}

// TestProxyBounds1xxOverTLS: an https prod's 1xx answers are bounded by
// their bytes too (both clients send https through net/http's Transport,
// which counts the TLS connection's bytes).
func TestProxyBounds1xxOverTLS(t *testing.T) {
	under, over := longHints(t)
	final := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	answers := map[string]string{"/items/longunder": under + final, "/items/longover": over + final}
	cert := httptest.NewUnstartedServer(nil)
	cert.StartTLS() // only for its certificate
	config := cert.TLS.Clone()
	cert.Close()
	l, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, r.Body)
					if _, err := io.WriteString(conn, answers[r.URL.Path]); err != nil {
						return
					}
				}
			}()
		}
	}()
	for _, client := range ProdClients {
		plan := testPlan("https://"+l.Addr().String(), closedURL(t))
		plan.Prod.TLS.InsecureSkipVerify = true
		_, front := session(t, plan, Options{ProdClient: client})
		for _, c := range []struct {
			path            string
			status, interim int
		}{{"/items/longunder", 200, 4}, {"/items/longover", http.StatusBadGateway, 3}} {
			s := fetch(t, newClient(), "GET", front.URL+c.path, nil, nil)
			if s.Status != c.status || len(s.Interims) != c.interim {
				t.Errorf("%s %s: %d after %d interim answers, want %d after %d", client, c.path, s.Status, len(s.Interims), c.status, c.interim)
			}
		}
	}
}

// TestFastProdAttack1xxFlood: prod sends informational answers without
// end (or with huge headers, or huge reason phrases) before its answer:
// both prod clients stop at the same bound and answer 502; a few 103s
// still pass, and so do long ones whose bytes, status lines included,
// stay under the bound of all of them together.
func TestFastProdAttack1xxFlood(t *testing.T) {
	hint := "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
	bigHint := "HTTP/1.1 103 Early Hints\r\nLink: <" + strings.Repeat("a", 1<<20) + ">\r\n\r\n"
	under, over := longHints(t)
	// One reason phrase just under the header limit, and redteam9's flood
	// (each long 103 passed alone, as every header limit started again).
	oneLong := "HTTP/1.1 103 " + strings.Repeat("a", max1xxBytes-1024) + "\r\n\r\n"
	reasonFlood := strings.Repeat("HTTP/1.1 103 "+strings.Repeat("a", 5<<20)+"\r\nLink: </a>\r\n\r\n", 3)
	final := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	prod := newRawProd(t, map[string]func(net.Conn){
		"/items/few":         say(strings.Repeat(hint, 3) + final),
		"/items/bound":       say(strings.Repeat(hint, max1xx) + final),
		"/items/flood":       say(strings.Repeat(hint, 5000) + final),
		"/items/bigflood":    say(strings.Repeat(bigHint, 12) + final),
		"/items/longunder":   say(under + final),
		"/items/longover":    say(over + final),
		"/items/onelong":     say(oneLong + final),
		"/items/reasonflood": say(reasonFlood + final),
	})
	cases := []struct {
		path    string
		status  int
		interim int
	}{
		{"/items/few", 200, 3},
		{"/items/bound", 200, max1xx},
		{"/items/flood", http.StatusBadGateway, max1xx},
		{"/items/bigflood", http.StatusBadGateway, 9},
		{"/items/longunder", 200, 4},
		{"/items/longover", http.StatusBadGateway, 3},
		{"/items/onelong", 200, 1},
		{"/items/reasonflood", http.StatusBadGateway, 1},
	}
	for name, front := range fronts(t, prod.URL()) {
		for _, c := range cases {
			s := fetch(t, newClient(), "GET", front.URL+c.path, nil, nil)
			if s.Status != c.status || len(s.Interims) != c.interim {
				t.Errorf("%s %s: %d after %d interim answers, want %d after %d", name, c.path, s.Status, len(s.Interims), c.status, c.interim)
			}
		}
	}
}
