package live

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/internal/mirror"
)

// rawProd is a prod that answers with bytes as they are written here
// (net/http's server would refuse to send most of them), and keeps the
// raw bytes of every request it reads.
type rawProd struct {
	net.Listener
	answers  map[string]func(conn net.Conn)
	mu       sync.Mutex
	requests map[string][]byte // the last raw request per path
	conns    atomic.Int64
}

func newRawProd(t testing.TB, answers map[string]func(conn net.Conn)) *rawProd {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rawProd{Listener: l, answers: answers, requests: map[string][]byte{}}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			go p.serve(conn)
		}
	}()
	return p
}

func (p *rawProd) URL() string { return "http://" + p.Addr().String() }

// recording keeps what the request's reader consumed.
type recording struct {
	r   io.Reader
	buf bytes.Buffer
}

func (r *recording) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.buf.Write(b[:n])
	return n, err
}

func (p *rawProd) serve(conn net.Conn) {
	defer conn.Close()
	rec := &recording{r: conn}
	br := bufio.NewReader(rec)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		raw := slices.Clone(rec.buf.Bytes()[:rec.buf.Len()-br.Buffered()])
		rest := slices.Clone(rec.buf.Bytes()[rec.buf.Len()-br.Buffered():])
		rec.buf.Reset()
		rec.buf.Write(rest)
		p.mu.Lock()
		key := req.URL.Path
		if c := req.Header.Get("X-Case"); c != "" {
			key = c
		}
		p.requests[key] = raw
		p.mu.Unlock()
		answer := p.answers[req.URL.Path]
		if answer == nil {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			continue
		}
		answer(conn)
	}
}

func (p *rawProd) request(path string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[path]
}

// say answers with raw bytes and keeps the connection.
func say(raw string) func(net.Conn) {
	return func(c net.Conn) { io.WriteString(c, raw) }
}

// sayAndClose answers with raw bytes and closes the connection.
func sayAndClose(raw string) func(net.Conn) {
	return func(c net.Conn) {
		io.WriteString(c, raw)
		c.Close()
	}
}

// fronts starts one proxy per prod client in front of prod; the shadow is
// a closed port.
func fronts(t *testing.T, prod string) map[string]*httptest.Server {
	t.Helper()
	out := map[string]*httptest.Server{}
	for _, c := range ProdClients {
		_, front := session(t, testPlan(prod, closedURL(t)), Options{ProdClient: c})
		out[c] = front
	}
	return out
}

// seen is what a client of the proxy sees of one answer.
type seen struct {
	Status   int
	Header   http.Header
	Body     string
	Trailer  http.Header
	Err      bool // the body did not arrive whole
	Interims []int
}

func fetch(t *testing.T, client *http.Client, method, url string, body io.Reader, header http.Header) seen {
	t.Helper()
	var s seen
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			s.Interims = append(s.Interims, code)
			return nil
		},
	})
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		s.Status, s.Err = -1, true // no answer (the proxy aborted it)
		return s
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	s.Status, s.Header, s.Body, s.Trailer, s.Err = resp.StatusCode, resp.Header, string(b), resp.Trailer, err != nil
	s.Header.Del("Date")
	return s
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 20 * time.Second}
}

// TestFastProdAnswersAsNetHTTP: for answers a proxy most easily alters
// and answers that break HTTP's rules, the client of the fast prod
// client sees exactly what the client of net/http's Transport sees.
func TestFastProdAnswersAsNetHTTP(t *testing.T) {
	bigHeader := "X-Big: " + strings.Repeat("b", 1<<20) + "\r\n"
	hugeHeader := strings.Repeat("X-Huge: "+strings.Repeat("h", 1<<20)+"\r\n", 11)
	lateSent := make(chan struct{}, 1)
	prod := newRawProd(t, map[string]func(net.Conn){
		"/items/cookies": say("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: a=2; Path=/x\r\nSet-Cookie: b=3\r\n" +
			"x-multi: 1\r\nX-Multi: 2\r\nContent-Length: 2\r\n\r\nok"),
		"/items/trailers": say("HTTP/1.1 200 OK\r\nTrailer: X-Sum, X-Other\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"3\r\nabc\r\n0\r\nX-Sum: s1\r\nX-Other: o\r\nX-Unannounced: u\r\n\r\n"),
		"/items/forbidden-trailer": say("HTTP/1.1 200 OK\r\nTrailer: Content-Type\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"2\r\nok\r\n0\r\nContent-Type: evil\r\n\r\n"),
		"/items/early": say("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nLink: </a.css>; rel=preload\r\nContent-Length: 2\r\n\r\nok"),
		"/items/continue":    say("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		"/items/nocontent":   say("HTTP/1.1 204 No Content\r\nX-A: 1\r\nX-A: 2\r\n\r\n"),
		"/items/notmodified": say("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 99\r\n\r\n"),
		"/items/head":        say("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12345\r\n\r\n"),
		"/items/close":       sayAndClose("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection closes"),
		"/items/http10":      sayAndClose("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		"/items/garbage":     sayAndClose("HTTPX/9 what\r\n\r\n"),
		"/items/nostatus":    sayAndClose("\r\n\r\n"),
		"/items/empty":       sayAndClose(""),
		"/items/dupcl":       sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
		"/items/samecl":      say("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
		"/items/clte":        say("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
		"/items/te-gzip":     sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
		"/items/badchunk":    sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n"),
		"/items/shortchunk":  sayAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nok"),
		"/items/short":       sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
		"/items/nul":         sayAndClose("HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\nok"),
		"/items/cr":          sayAndClose("HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 2\r\n\r\nok"),
		"/items/spacename":   sayAndClose("HTTP/1.1 200 OK\r\nX Bad: a\r\nContent-Length: 2\r\n\r\nok"),
		"/items/obsfold":     sayAndClose("HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\nok"),
		"/items/bigheader":   say("HTTP/1.1 200 OK\r\n" + bigHeader + "Content-Length: 2\r\n\r\nok"),
		"/items/hugeheader":  sayAndClose("HTTP/1.1 200 OK\r\n" + hugeHeader + "Content-Length: 2\r\n\r\nok"),
		"/items/status999":   say("HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\nok"),
		// A body longer than its Content-Length: the rest must not pass
		// for the answer to the next request on the connection.
		"/items/longer": say("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"),
		"/items/longer-late": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			time.Sleep(30 * time.Millisecond)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled")
			select {
			case lateSent <- struct{}{}:
			default:
			}
		},
		"/items/after": say("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter"),
		// 101 to a request that asked for no upgrade.
		"/items/switch": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\n\r\nraw bytes")
			time.Sleep(50 * time.Millisecond)
			c.Close()
		},
		"/items/reset": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
			time.Sleep(20 * time.Millisecond)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		},
	})
	type call struct {
		method, path string
		body         string
	}
	calls := []call{
		{"GET", "/items/cookies", ""}, {"GET", "/items/trailers", ""}, {"GET", "/items/forbidden-trailer", ""},
		{"GET", "/items/early", ""}, {"GET", "/items/continue", ""}, {"GET", "/items/nocontent", ""},
		{"GET", "/items/notmodified", ""}, {"HEAD", "/items/head", ""}, {"GET", "/items/close", ""},
		{"GET", "/items/http10", ""}, {"GET", "/items/garbage", ""}, {"GET", "/items/nostatus", ""},
		{"GET", "/items/empty", ""}, {"GET", "/items/dupcl", ""}, {"GET", "/items/samecl", ""},
		{"GET", "/items/clte", ""}, {"GET", "/items/te-gzip", ""}, {"GET", "/items/badchunk", ""},
		{"GET", "/items/shortchunk", ""}, {"GET", "/items/short", ""}, {"GET", "/items/nul", ""},
		{"GET", "/items/cr", ""}, {"GET", "/items/spacename", ""}, {"GET", "/items/obsfold", ""},
		{"GET", "/items/bigheader", ""}, {"GET", "/items/hugeheader", ""}, {"GET", "/items/status999", ""},
		{"GET", "/items/reset", ""}, {"POST", "/items", `{"a":1}`}, {"POST", "/items/cookies", "x"},
		{"GET", "/items/switch", ""},
	}
	fs := fronts(t, prod.URL())
	for _, c := range calls {
		got := map[string]seen{}
		for name, front := range fs {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			got[name] = fetch(t, newClient(), c.method, front.URL+c.path, body, nil)
		}
		fast, std := got[ProdClientFast], got[ProdClientNetHTTP]
		if fast.Err && std.Err {
			// A body cut short: whether its headers reached the client
			// first is a race in ReverseProxy (its first flush of a
			// streamed answer runs on a timer), with either client.
			continue
		}
		if !reflect.DeepEqual(fast, std) {
			t.Errorf("%s %s: the client saw\n fast:     %+v\n net/http: %+v", c.method, c.path, short(fast), short(std))
		}
	}
	// The answers are the ones prod sent, not only the same on both.
	front := fs[ProdClientFast]
	for _, first := range []string{"/items/longer", "/items/longer-late"} {
		client := newClient()
		fetch(t, client, "GET", front.URL+first, nil, nil)
		if first == "/items/longer-late" {
			// The late bytes are in before the next request leaves (a
			// fixed wait would not say so under load).
			select {
			case <-lateSent:
			case <-time.After(5 * time.Second):
				t.Fatal("prod did not send its late bytes")
			}
		}
		time.Sleep(50 * time.Millisecond)
		if s := fetch(t, client, "GET", front.URL+"/items/after", nil, nil); s.Body != "after" {
			t.Errorf("after %s: the next answer is %d %q, want prod's answer to it", first, s.Status, s.Body)
		}
	}
	s := fetch(t, newClient(), "GET", front.URL+"/items/cookies", nil, nil)
	if len(s.Header["Set-Cookie"]) != 3 || strings.Join(s.Header["X-Multi"], ",") != "1,2" || s.Body != "ok" {
		t.Errorf("cookies: %v %q", s.Header, s.Body)
	}
	s = fetch(t, newClient(), "GET", front.URL+"/items/trailers", nil, nil)
	if s.Body != "abc" || s.Trailer.Get("X-Sum") != "s1" || s.Trailer.Get("X-Other") != "o" || s.Trailer.Get("X-Unannounced") != "u" {
		t.Errorf("trailers: body %q, trailer %v", s.Body, s.Trailer)
	}
	if ct, ok := s.Header["Content-Type"]; ok {
		t.Errorf("cookies: prod sent no Content-Type, the client got %q", ct)
	}
	s = fetch(t, newClient(), "GET", front.URL+"/items/early", nil, nil)
	if !slices.Equal(s.Interims, []int{103}) || s.Status != 200 || s.Body != "ok" {
		t.Errorf("103 Early Hints: interim %v, status %d, body %q", s.Interims, s.Status, s.Body)
	}
	if ct, ok := s.Header["Content-Type"]; ok {
		t.Errorf("103 Early Hints: prod sent no Content-Type, the client got %q", ct)
	}
	s = fetch(t, newClient(), "GET", front.URL+"/items/close", nil, nil)
	if s.Body != "until the connection closes" || s.Err {
		t.Errorf("close-delimited: %q (cut: %v)", s.Body, s.Err)
	}
	s = fetch(t, newClient(), "GET", front.URL+"/items/bigheader", nil, nil)
	if s.Status != 200 || len(s.Header.Get("X-Big")) != 1<<20 {
		t.Errorf("a 1 MiB header: status %d, %d bytes", s.Status, len(s.Header.Get("X-Big")))
	}
	if s = fetch(t, newClient(), "GET", front.URL+"/items/hugeheader", nil, nil); s.Status != http.StatusBadGateway {
		t.Errorf("11 MiB of headers: status %d, want 502", s.Status)
	}
}

func short(s seen) seen {
	for k, v := range s.Header {
		for i := range v {
			if len(v[i]) > 64 {
				v[i] = v[i][:64] + "..."
			}
		}
		s.Header[k] = v
	}
	return s
}

// TestFastProdSendsWhatNetHTTPSends: prod receives byte for byte the
// request net/http's Transport would send: method, path and query as
// the client wrote them, header names, values and repeats, Host, no
// User-Agent or Content-Type of the proxy's own, bodies of known and of
// unknown length.
func TestFastProdSendsWhatNetHTTPSends(t *testing.T) {
	prod := newRawProd(t, nil)
	fs := fronts(t, prod.URL())
	type call struct {
		name, raw string // the request line's target and the rest, as the client writes them
	}
	calls := []call{
		{"/items/odd", "GET /items/odd/%2F..%2f/./a;b=c?x=1&x=2&&y=%zz&z=a+b%20c HTTP/1.1\r\nHost: example.com:8080\r\nX-Case: /items/odd\r\n" +
			"x-lower: 1\r\nX-Multi: a\r\nX-Multi: b\r\nAccept-Encoding: gzip\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n"},
		{"/items/noua", "GET /items/noua HTTP/1.1\r\nHost: h\r\nX-Case: /items/noua\r\n\r\n"},
		{"/items/ua", "GET /items/ua HTTP/1.1\r\nHost: h\r\nX-Case: /items/ua\r\nUser-Agent: curl/8\r\nConnection: keep-alive, X-Hop\r\nX-Hop: drop me\r\nKeep-Alive: 5\r\nTE: trailers\r\n\r\n"},
		{"/items", "POST /items HTTP/1.1\r\nHost: h\r\nX-Case: /items\r\nContent-Length: 7\r\n\r\n{\"a\":1}"},
		{"/items/chunked", "POST /items/chunked HTTP/1.1\r\nHost: h\r\nX-Case: /items/chunked\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"},
		{"/items/empty", "POST /items/empty HTTP/1.1\r\nHost: h\r\nX-Case: /items/empty\r\nContent-Length: 0\r\n\r\n"},
		{"/items/delete", "DELETE /items/delete HTTP/1.1\r\nHost: h\r\nX-Case: /items/delete\r\n\r\n"},
		{"/items/custom", "PURGE /items/custom HTTP/1.1\r\nHost: h\r\nX-Case: /items/custom\r\n\r\n"},
		{"/items/head", "HEAD /items/head HTTP/1.1\r\nHost: h\r\nX-Case: /items/head\r\n\r\n"},
		{"/items/http10", "GET /items/http10 HTTP/1.0\r\nHost: h\r\nX-Case: /items/http10\r\n\r\n"},
		{"/items/close", "GET /items/close HTTP/1.1\r\nHost: h\r\nX-Case: /items/close\r\nConnection: close\r\n\r\n"},
		{"/items/abs", "GET http://other.example/items/abs?q=1 HTTP/1.1\r\nHost: h\r\nX-Case: /items/abs\r\n\r\n"},
		{"/items/long", "GET /items/long?q=" + strings.Repeat("a%2F", 16<<10) + " HTTP/1.1\r\nHost: h\r\nX-Case: /items/long\r\n\r\n"},
		// Request smuggling framings: net/http's server refuses them or
		// settles the framing before the prod client sees the request.
		{"/items/cl-te", "POST /items/cl-te HTTP/1.1\r\nHost: h\r\nX-Case: /items/cl-te\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"/items/cl-cl", "POST /items/cl-cl HTTP/1.1\r\nHost: h\r\nX-Case: /items/cl-cl\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
		{"/items/te-te", "POST /items/te-te HTTP/1.1\r\nHost: h\r\nX-Case: /items/te-te\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"},
		{"/items/nul", "GET /items/nul HTTP/1.1\r\nHost: h\r\nX-Case: /items/nul\r\nX-Bad: a\x00b\r\n\r\n"},
		{"/items/fold", "GET /items/fold HTTP/1.1\r\nHost: h\r\nX-Case: /items/fold\r\nX-Fold: a\r\n b\r\n\r\n"},
		{"/items/hosts", "GET /items/hosts HTTP/1.1\r\nHost: h\r\nHost: evil\r\nX-Case: /items/hosts\r\n\r\n"},
		{"/items/space", "GET /items/sp ace HTTP/1.1\r\nHost: h\r\nX-Case: /items/space\r\n\r\n"},
	}
	// refused by net/http's server before any prod client sees them
	refused := map[string]bool{"/items/cl-cl": true, "/items/te-te": true, "/items/nul": true, "/items/hosts": true, "/items/space": true}
	for _, c := range calls {
		sent := map[string][]byte{}
		for name, front := range fs {
			conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(conn, c.raw)
			start := time.Now()
			method, _, _ := strings.Cut(c.raw, " ")
			resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
			if err != nil {
				t.Fatalf("%s through %s: %v", c.name, name, err)
			}
			if (resp.StatusCode != 200) != refused[c.name] || time.Since(start) > 5*time.Second {
				t.Errorf("%s through %s: %d after %v", c.name, name, resp.StatusCode, time.Since(start))
			}
			resp.Body.Close()
			conn.Close()
			path := c.name
			sent[name] = prod.request(path)
			prod.mu.Lock()
			delete(prod.requests, path)
			prod.mu.Unlock()
		}
		if !bytes.Equal(sent[ProdClientFast], sent[ProdClientNetHTTP]) {
			t.Errorf("%s: prod received\n fast:     %q\n net/http: %q", c.name, sent[ProdClientFast], sent[ProdClientNetHTTP])
		}
		if (len(sent[ProdClientFast]) == 0) != refused[c.name] {
			t.Errorf("%s: prod received nothing", c.name)
		}
	}
}

// TestFastProdStreams: an answer of unknown length reaches the client
// as prod writes it (server-sent events), and bodies of hundreds of MiB
// pass both ways with a flat heap.
func TestFastProdStreams(t *testing.T) {
	const big = 300 << 20
	next := make(chan struct{})
	var received atomic.Int64
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items/events":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 3 {
				fmt.Fprintf(w, "data: %d\n\n", i)
				w.(http.Flusher).Flush()
				select {
				case <-next:
				case <-time.After(10 * time.Second):
					return
				}
			}
		case "/items/big":
			w.Header().Set("Content-Length", fmt.Sprint(big))
			chunk := bytes.Repeat([]byte("z"), 64<<10)
			for range big / len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/items":
			n, _ := io.Copy(io.Discard, r.Body)
			received.Store(n)
		}
	}))
	defer prod.Close()
	_, front := session(t, testPlan(prod.URL, closedURL(t)), Options{})

	resp, err := http.Get(front.URL + "/items/events")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		// Each event arrives while prod waits to write the next one.
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q, %v", i, line, err)
		}
		br.ReadString('\n')
		next <- struct{}{}
	}
	resp.Body.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := heapPeak(stop)
	resp, err = http.Get(front.URL + "/items/big")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != big {
		t.Fatalf("a %d MiB answer: %d bytes, %v", big>>20, n, err)
	}
	// A request body of unknown length (chunked) and one of known length.
	for _, length := range []int64{-1, big} {
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte("y"), 64<<10)
			for range big / len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", front.URL+"/items", pr)
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || received.Load() != big {
			t.Fatalf("a %d MiB request body (length %d): status %d, prod read %d bytes", big>>20, length, resp.StatusCode, received.Load())
		}
	}
	close(stop)
	if grown := int64(peak()) - int64(before.HeapInuse); grown > 64<<20 {
		t.Errorf("heap grew by %d MiB while %d MiB passed each way", grown>>20, big>>20)
	}
}

// TestFastProdClientGoneClosesProd: when the client goes away, prod's
// request is cancelled within a second, before prod's headers and while
// its body streams, as with net/http.
func TestFastProdClientGoneClosesProd(t *testing.T) {
	for _, c := range ProdClients {
		t.Run(strings.ReplaceAll(c, "/", "-"), func(t *testing.T) {
			cancelled := make(chan string, 4)
			prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/items/stream" {
					w.Header().Set("Content-Type", "text/plain")
					for {
						if _, err := io.WriteString(w, "tick\n"); err != nil {
							cancelled <- r.URL.Path
							return
						}
						w.(http.Flusher).Flush()
						select {
						case <-r.Context().Done():
							cancelled <- r.URL.Path
							return
						case <-time.After(10 * time.Millisecond):
						}
					}
				}
				select {
				case <-r.Context().Done():
					cancelled <- r.URL.Path
				case <-time.After(30 * time.Second):
				}
			})
			_, front := session(t, testPlan(prod.URL, closedURL(t)), Options{ProdClient: c})
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/items/hang", nil)
			go func() {
				time.Sleep(100 * time.Millisecond)
				cancel()
			}()
			if _, err := http.DefaultClient.Do(req); err == nil {
				t.Fatal("the client got an answer from a prod that never answers")
			}
			gone := time.Now()
			select {
			case p := <-cancelled:
				t.Logf("before headers: prod's request cancelled %v after the client left (%s)", time.Since(gone).Round(time.Millisecond), p)
			case <-time.After(time.Second):
				t.Fatal("before headers: prod's request still running 1 s after the client left")
			}

			resp, err := http.Get(front.URL + "/items/stream")
			if err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if line != "tick\n" {
				t.Fatalf("stream: %q, %v", line, err)
			}
			resp.Body.Close() // the client leaves mid-body
			gone = time.Now()
			select {
			case p := <-cancelled:
				t.Logf("mid-body: prod's request cancelled %v after the client left (%s)", time.Since(gone).Round(time.Millisecond), p)
			case <-time.After(time.Second):
				t.Fatal("mid-body: prod's endless answer still streaming 1 s after the client left")
			}
		})
	}
}

// TestFastProdRetriesAnIdleConnectionProdClosed: prod closing a
// keep-alive connection while it is idle (its idle timeout), or as the
// next request arrives, does not give the client a 502 for a request
// net/http would send again.
func TestFastProdRetriesAnIdleConnectionProdClosed(t *testing.T) {
	closed := make(chan struct{}, 1)
	prod := newRawProd(t, map[string]func(net.Conn){
		// Answers, keeps the connection as if for keep-alive, and closes
		// it 10 ms later; the next request comes once it is closed (a
		// fixed wait failed under load: the close came after the next
		// request had left, which no client can send again).
		"/items/idle": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			time.Sleep(10 * time.Millisecond)
			c.Close()
			select {
			case closed <- struct{}{}:
			default:
			}
		},
		// Answers the first request of a connection and closes the
		// connection, without answering, on the second one.
	})
	// The race: the second request on a connection finds it closed
	// only after it is written (prod closes instead of answering).
	var seenConns sync.Map
	prod.answers["/items/race"] = func(c net.Conn) {
		if _, again := seenConns.LoadOrStore(c, true); again {
			c.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}
	for _, c := range ProdClients {
		_, front := session(t, testPlan(prod.URL(), closedURL(t)), Options{ProdClient: c})
		client := newClient()
		for i := range 3 {
			for _, method := range []string{"GET", "POST"} {
				var body io.Reader
				if method == "POST" {
					body = strings.NewReader("{}")
				}
				s := fetch(t, client, method, front.URL+"/items/idle", body, nil)
				if s.Status != 200 || s.Body != "ok" {
					t.Fatalf("%s: %s %d after prod closed the idle connection: %d %q", c, method, i, s.Status, s.Body)
				}
				select {
				case <-closed:
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: prod did not close its connection", c)
				}
				time.Sleep(50 * time.Millisecond) // the FIN is in
			}
		}
		for i := range 3 {
			if s := fetch(t, client, "GET", front.URL+"/items/race", nil, nil); s.Status != 200 || s.Body != "ok" {
				t.Fatalf("%s: GET %d on a connection prod closes as the request arrives: %d %q", c, i, s.Status, s.Body)
			}
		}
	}
}

// TestFastProdErrorsAsNetHTTP: a prod that refuses, resets, stalls or
// sends garbage gives the client what net/http's Transport gives it,
// and the error the same kind.
func TestFastProdErrorsAsNetHTTP(t *testing.T) {
	prod := newRawProd(t, map[string]func(net.Conn){
		"/reset":   func(c net.Conn) { c.(*net.TCPConn).SetLinger(0); c.Close() },
		"/eof":     func(c net.Conn) { c.Close() },
		"/garbage": sayAndClose("SSH-2.0-OpenSSH\r\n\r\n"),
		"/short":   sayAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
		"/stall": func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
			time.Sleep(3 * time.Second)
			c.Close()
		},
	})
	std := &http.Transport{DisableCompression: true}
	fast := newFastTransport(&countingTransport{}, &net.Dialer{Timeout: time.Second}, time.Minute)
	roundTrip := func(rt http.RoundTripper, url string) (kind string, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := rt.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			return "", nil
		}
		return mirror.Classify(err), err
	}
	urls := []string{closedURL(t) + "/refused", prod.URL() + "/reset", prod.URL() + "/eof", prod.URL() + "/garbage", prod.URL() + "/short", prod.URL() + "/stall"}
	for _, url := range urls {
		want, werr := roundTrip(std, url)
		got, gerr := roundTrip(fast, url)
		if got != want || want == "" {
			t.Errorf("%s: kind %q (%v), net/http's %q (%v)", url, got, gerr, want, werr)
		}
	}
}

// countingTransport counts the requests that fall back to it.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestFastProdFallsBack: what the fast client does not do goes to
// net/http's Transport: TLS to prod, Upgrade, Expect: 100-continue,
// request trailers; the rest stays on the fast path.
func TestFastProdFallsBack(t *testing.T) {
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer prod.Close()
	tlsProd := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsProd.Close()
	fallback := &countingTransport{}
	fast := newFastTransport(fallback, &net.Dialer{Timeout: time.Second}, time.Minute)
	cases := []struct {
		name     string
		req      func() *http.Request
		fallback bool
	}{
		{"GET", func() *http.Request { r, _ := http.NewRequest("GET", prod.URL, nil); return r }, false},
		{"POST", func() *http.Request { r, _ := http.NewRequest("POST", prod.URL, strings.NewReader("x")); return r }, false},
		{"https", func() *http.Request { r, _ := http.NewRequest("GET", tlsProd.URL, nil); return r }, true},
		{"upgrade", func() *http.Request {
			r, _ := http.NewRequest("GET", prod.URL, nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			return r
		}, true},
		{"expect", func() *http.Request {
			r, _ := http.NewRequest("POST", prod.URL, strings.NewReader("x"))
			r.Header.Set("Expect", "100-continue")
			return r
		}, true},
		{"trailer", func() *http.Request {
			r, _ := http.NewRequest("POST", prod.URL, strings.NewReader("x"))
			r.ContentLength = -1
			r.Trailer = http.Header{"X-Sum": nil}
			return r
		}, true},
	}
	for _, c := range cases {
		before := fallback.n.Load()
		resp, err := fast.RoundTrip(c.req())
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if fell := fallback.n.Load() > before; fell != c.fallback {
			t.Errorf("%s: went to net/http %v, want %v (%v)", c.name, fell, c.fallback, err)
		}
	}
}

// heapPeak samples the heap in use until stop is closed.
func heapPeak(stop chan struct{}) func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { <-done; return peak.Load() }
}

var _ = mirror.Classify

// TestFastProdUnderChurn: many clients at once, prod closing connections
// after some answers and cutting others, clients leaving mid-answer: no
// answer is another request's, and the pool's count of connections
// stays that of the connections open (a connection closed twice would
// free another one's slot).
func TestFastProdUnderChurn(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("do") {
		case "close":
			w.Header().Set("Connection", "close")
		case "cut":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
			return
		case "slow":
			time.Sleep(20 * time.Millisecond)
		}
		fmt.Fprintf(w, "answer to %s", r.URL.RequestURI())
	})
	fast := newFastTransport(http.DefaultTransport, &net.Dialer{Timeout: time.Second}, time.Minute)
	client := &http.Client{Transport: fast, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for w := range 32 {
		wg.Go(func() {
			for i := range 60 {
				do := []string{"", "", "close", "cut", "slow", "gone"}[(w+i)%6]
				uri := fmt.Sprintf("/items/%d-%d?do=%s", w, i, do)
				ctx, cancel := context.WithCancel(context.Background())
				if do == "gone" {
					time.AfterFunc(time.Duration(i%3)*time.Millisecond, cancel)
				}
				var body io.Reader
				method := "GET"
				if i%4 == 1 {
					method, body = "POST", strings.NewReader(strings.Repeat("b", 10000))
				}
				req, _ := http.NewRequestWithContext(ctx, method, prod.URL+uri, body)
				resp, err := client.Do(req)
				if err == nil {
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && string(b) != "answer to "+uri {
						wrong.Add(1)
						t.Errorf("%s %s: got %q", method, uri, b)
					}
				} else if do == "" || do == "slow" || do == "close" {
					t.Errorf("%s %s: %v", method, uri, err)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	hc := fast.host(&url.URL{Host: canonicalAddr("127.0.0.1", strings.Split(prod.URL, ":")[2])})
	if n, idle := hc.ConnsCount(), hc.IdleConnsCount(); n != idle || n > 32 {
		t.Errorf("the pool counts %d connections, %d of them idle, after every request ended", n, idle)
	}
}

// TestFastProdEarlyAnswer: prod answering before it has read the request
// body (a 413) gives the client that answer, not a 502, as with net/http:
// the body is written while the answer is read.
func TestFastProdEarlyAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
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
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				// Answers at once and reads nothing more for 3 s: a client
				// that wrote the whole body before reading would wait.
				io.WriteString(conn, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo big!")
				time.Sleep(3 * time.Second)
			}()
		}
	}()
	for name, front := range fronts(t, "http://"+l.Addr().String()) {
		req, _ := http.NewRequest("POST", front.URL+"/items", bytes.NewReader(make([]byte, 16<<20)))
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || string(body) != "too big!" {
			t.Errorf("%s: %d %q, want prod's 413", name, resp.StatusCode, body)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: prod's early answer took %v to reach the client", name, took)
		}
	}
}
