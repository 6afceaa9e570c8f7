package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
)

// Proxy is the prod path: an httputil.ReverseProxy to the prod target that
// streams prod's answer to the client unchanged (status, headers, body,
// trailers; a 502 when prod cannot be reached) and hands a copy of each
// request, with prod's answer, to the Shadow after the client has it.
// Upgrade requests (WebSocket) pass through to prod and are not mirrored.
// gRPC calls (HTTP/2, application/grpc) go to prod over HTTP/2 (see
// Protocols for the listener).
type Proxy struct {
	shadow  *Shadow
	reverse *httputil.ReverseProxy
	grpc    *grpcProxy
	maxBody int64
}

// NewProxy returns the proxy in front of the shadow session's prod target.
func NewProxy(s *Shadow) *Proxy {
	plan := s.Plan()
	prod := mirror.NewClient(plan.Prod, plan.Dir, 0, 0) // only its rewrites are used here
	prodTLS, _ := mirror.TLSConfig(plan.Prod, plan.Dir) // checked by spec.Load
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	const idle = 90 * time.Second
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           countedDial(dialer.DialContext), // for bound1xx
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       idle,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Prod's bytes go to the client as they are: the proxy never asks
		// for gzip on the client's behalf nor decodes it.
		DisableCompression: true,
		TLSClientConfig:    prodTLS, // an https:// prod with the spec's tls block
	}
	var prodClient http.RoundTripper = bounded1xx{transport}
	if s.opt.ProdClient != ProdClientNetHTTP && fastProdSupported {
		prodClient = newFastTransport(prodClient, dialer, idle)
	}
	p := &Proxy{shadow: s, maxBody: plan.Mirror.MaxBodyBytes}
	if p.maxBody <= 0 {
		p.maxBody = mirror.DefaultMaxBodyBytes
	}
	p.reverse = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"] // SetXForwarded appends to it
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host
			if err := prod.Rewrite(pr.Out); err != nil {
				pr.Out.URL.Host = "" // unreachable: the error handler answers 502
			}
		},
		Transport:      &timedTransport{next: prodClient},
		ModifyResponse: modifyProdAnswer,
		BufferPool:     bufferPool{},
		ErrorLog:       s.errorLog(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if st, ok := r.Context().Value(stateKey{}).(*exchangeState); ok {
				st.err = err
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.grpc = newGRPCProxy(s, prod)
	return p
}

// ServeHTTP forwards r to prod and mirrors it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isGRPC(r) {
		p.grpc.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	if r.Header.Get("Upgrade") != "" {
		p.shadow.metrics.proxied.WithLabelValues(UpgradeEndpoint).Inc()
		p.reverse.ServeHTTP(w, r)
		return
	}
	req := requestOf(r, true)
	t := p.shadow.begin(&req)
	if t == nil || !p.shadow.copies(t, &req) {
		// Nothing will be recorded or sent (an unmatched request, a
		// tripped kill switch, ...): no copy, as through a bare proxy.
		st := &exchangeState{answer: w.Header()}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		if r.Body != nil && r.Body != http.NoBody {
			st.body = &endedBody{ReadCloser: r.Body}
			r.Body = st.body
		}
		p.reverse.ServeHTTP(w, r)
		p.shadow.metrics.added.Observe(st.added(start).Seconds())
		if t != nil {
			p.shadow.pass(t, start, req)
		}
		st.endUnreadBody(w)
		return
	}
	x := &copied{state: exchangeState{answer: w.Header()}}
	st := &x.state
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	body := teeRequest(r, p.maxBody, &p.shadow.captures)
	if body != nil {
		st.body = &body.endedBody
	}
	x.rec = recorder{ResponseWriter: w, limit: p.maxBody, head: r.Method == http.MethodHead, proxied: true, body: capture{budget: &p.shadow.captures}}
	rec := &x.rec
	defer releaseCaptures(body, rec) // also when ReverseProxy aborts the handler (a client gone mid-answer)
	p.reverse.ServeHTTP(rec, r)
	total := st.added(start) // as without a recorder: not counting the write to the client
	// Prod's answer leaves for the client now, not when the handler
	// returns: handing the copy to the shadow side is not the client's
	// wait.
	rec.flush(r.Method)
	x.prod = rec.response(st.err, st.latency())
	p.shadow.finish(t, start, req, body, rec, &x.prod)
	p.shadow.metrics.added.Observe(total.Seconds())
	if st.closing {
		releaseCaptures(body, rec) // not held while the rest of the client's body comes
		st.endUnreadBody(w)
	}
}

// copied is the prod path's state of a request whose copy is kept, in one
// allocation instead of three: its timings, the recorder of prod's
// answer, and that answer as the shadow side sees it (the queued copy's
// Recorded).
type copied struct {
	state exchangeState
	rec   recorder
	prod  framework.Response
}

// teeRequest makes r's body keep a copy of what is read, up to limit and
// within budget; nil when r has no body.
func teeRequest(r *http.Request, limit int64, budget *captureBudget) *teeBody {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body := &teeBody{endedBody: endedBody{ReadCloser: r.Body}, limit: limit, length: r.ContentLength, buf: capture{budget: budget}}
	if body.length > 0 && body.length <= limit {
		body.buf.reserve(body.length) // one allocation, not a doubling per read
	}
	r.Body = body
	return body
}

// releaseCaptures gives an exchange's copies back to the budget of
// captures in flight: handed off to the queue, or dropped.
func releaseCaptures(body *teeBody, rec *recorder) {
	if body != nil {
		body.release()
	}
	rec.body.release()
}

// finish hands the exchange, with the body read and prod's answer, to
// the shadow side.
func (s *Shadow) finish(t *ticket, start time.Time, req framework.Request, body *teeBody, rec *recorder, prod *framework.Response) {
	dropReason := ""
	if body != nil {
		req.Body, dropReason = body.copy()
	}
	if dropReason == "" && prod.Err == nil && rec.body.refused {
		dropReason = DropCapturesInFlight
	}
	if dropReason == "" && prod.Err == nil && rec.cut() {
		dropReason = DropAnswerCut
	}
	s.offer(t, framework.Exchange{Time: start, Request: req, Recorded: prod}, dropReason)
}

// stateKey carries an exchange's timings and prod error through the
// reverse proxy.
type stateKey struct{}

type exchangeState struct {
	mu            sync.Mutex
	sent, done    time.Time
	err           error
	roundTripDone bool
	answer        http.Header // the client's answer header (noSniff)
	body          *endedBody  // the request body prod's transport reads, nil without one
	closing       bool        // closeOnUnreadBody told the client Connection: close
}

// modifyProdAnswer is the reverse proxy's ModifyResponse. The request's
// exchangeState is looked up once, for both of its steps.
func modifyProdAnswer(resp *http.Response) error {
	if err := unsolicitedSwitch(resp); err != nil {
		return err
	}
	if resp.Request == nil {
		return nil
	}
	if st, ok := resp.Request.Context().Value(stateKey{}).(*exchangeState); ok {
		st.closeOnUnreadBody(resp)
		st.noSniff(resp)
	}
	return nil
}

// closeOnUnreadBody: prod answered before its transport had read the
// whole request body. net/http's server, when the answer's header is
// written, reads what is left of the request body itself (up to 256 KiB,
// to keep the client's connection) while the transport is still reading
// it: the bytes it takes never reach prod, and the transport, finding the
// body short or closed, closes prod's connection and cuts the answer the
// client is receiving (1 to 4 answers in 300 with either prod client;
// golang/go#40747). An answer that says Connection: close is left alone
// by the server (it closes the connection after it instead, as it does
// past 256 KiB): the body is the transport's alone, prod gets every byte
// it reads, and the client learns that its connection will close.
func (st *exchangeState) closeOnUnreadBody(resp *http.Response) {
	if resp.StatusCode == http.StatusSwitchingProtocols || st.body == nil || st.body.ended.Load() || st.answer == nil || resp.Request.ProtoMajor != 1 {
		return
	}
	st.answer.Set("Connection", "close")
	st.closing = true
}

// endUnreadBody ends a request body closeOnUnreadBody left to the
// transport, once prod's answer is with the client: closed here, net/http's
// server reads up to 256 KiB more of it, or notes that it stopped early,
// and then lingers before closing the client's connection, so that a
// client still sending its body reads the answer instead of a broken
// pipe. Left to the server, the body is closed after it has aborted the
// transport's read in progress (a read error, not an early close): the
// connection closed at once.
func (st *exchangeState) endUnreadBody(w http.ResponseWriter) {
	if !st.closing {
		return
	}
	http.NewResponseController(w).Flush()
	st.body.ReadCloser.Close()
}

// unsolicitedSwitch refuses a 101 Switching Protocols to another protocol
// than the request asked for (none, most often), with ReverseProxy's own
// error, before ReverseProxy does: refused here, the answer's body is
// closed (ReverseProxy closes it when ModifyResponse fails), and with it
// prod's connection, which ReverseProxy's refusal leaves open until a
// garbage collection.
func unsolicitedSwitch(resp *http.Response) error {
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Request == nil {
		return nil
	}
	want, got := upgradeType(resp.Request.Header), upgradeType(resp.Header)
	if strings.EqualFold(want, got) && got != "" {
		return nil
	}
	return fmt.Errorf("backend tried to switch protocol %q when %q was requested", got, want)
}

// upgradeType is the protocol a message's Upgrade header names, when its
// Connection header lists upgrade (ReverseProxy's upgradeType).
func upgradeType(h http.Header) string {
	if !httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}

// noSniff: an answer of prod's without a Content-Type reaches the client
// without one. net/http's server would otherwise sniff one from the first
// bytes written (or not, when ReverseProxy's first flush of a streamed
// answer comes first). Set here, after any 1xx answer has cleared the
// header, not before.
func (st *exchangeState) noSniff(resp *http.Response) {
	if _, ok := resp.Header["Content-Type"]; ok || st.answer == nil {
		return
	}
	st.answer["Content-Type"] = nil
}

// added is the handler's time so far minus prod's round trip: what the
// proxy adds on the prod path.
func (st *exchangeState) added(start time.Time) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	total := time.Since(start)
	if st.sent.IsZero() {
		return total
	}
	done := st.done
	if done.IsZero() {
		done = time.Now()
	}
	return max(total-done.Sub(st.sent), 0)
}

func (st *exchangeState) latency() time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sent.IsZero() || st.done.IsZero() {
		return 0
	}
	return st.done.Sub(st.sent)
}

// The bounds of prod's informational (1xx) answers to one request.
// net/http's Transport bounds neither their number nor their size once
// they are delivered (it starts its header limit again with each, and
// ReverseProxy passes each to the client): prod could send 103s for
// ever, or 103s with reason phrases of megabytes. Past either bound the
// request fails (a 502) with errTooMany1xx, with either prod client. The
// bytes are those of all the 1xx answers on the wire, status lines
// included: exactly with the fast client (fastConn.exchange), within
// net/http's read-ahead (transportReadAhead) with net/http (interimBound).
const (
	max1xx      = 100
	max1xxBytes = maxResponseHeaderBytes // all of them together, as net/http bounds undelivered ones with the final header
)

var errTooMany1xx = fmt.Errorf("prod sent more than %d informational (1xx) answers or %d bytes of them", max1xx, max1xxBytes)

// over1xx reports whether count 1xx answers of size bytes together pass
// max1xx or max1xxBytes: the bound of both prod clients.
func over1xx(count int, size int64) bool { return count > max1xx || size > max1xxBytes }

// transportReadAhead is what net/http's Transport may have read from a
// connection past the answer it parses: its read buffer (ReadBufferSize
// left at 0).
const transportReadAhead = 4 << 10

// countedConn is a connection of net/http's Transport to prod that counts
// the bytes read from it, for interimBound.
type countedConn struct {
	net.Conn
	read atomic.Int64 // the Transport's reading goroutine adds, the request's goroutine reads
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// ReadFrom keeps the connection's own ReadFrom (a TCP connection's
// splice or sendfile) for request bodies.
func (c *countedConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// CloseWrite half-closes the connection once an upgraded one's client
// is done writing, as ReverseProxy does on the connection itself.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("CloseWrite: %w", http.ErrNotSupported)
}

// countedDial makes dial's connections countedConns.
func countedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countedConn{Conn: conn}, nil
	}
}

// bounded1xx bounds prod's 1xx answers to each request it sends with
// net/http's Transport (bound1xx). The fast client bounds them itself,
// at no cost to requests answered without one.
type bounded1xx struct{ next http.RoundTripper }

func (t bounded1xx) RoundTrip(r *http.Request) (*http.Response, error) {
	bound1xx(r)
	return t.next.RoundTrip(r)
}

// bound1xx makes the request's trace (ReverseProxy's, made for this
// request, which passes 1xx answers to the client) refuse prod's
// informational answers past max1xx and max1xxBytes.
func bound1xx(r *http.Request) {
	trace := httptrace.ContextClientTrace(r.Context())
	if trace == nil || trace.Got1xxResponse == nil {
		return // not delivered: the transport bounds them with the final header
	}
	b := &interimBound{deliver: trace.Got1xxResponse, gotConn: trace.GotConn}
	trace.GotConn = b.connected
	trace.Got1xxResponse = b.got1xx
}

// interimBound counts prod's 1xx answers to one request sent by net/http's
// Transport. Their bytes are those read on the connection since the
// request (a countedConn) less what the Transport may have read ahead;
// on a connection that does not count them (the gRPC path's HTTP/2, where
// a status has no reason phrase), those of their header fields.
type interimBound struct {
	deliver func(int, textproto.MIMEHeader) error
	gotConn func(httptrace.GotConnInfo)
	conn    *countedConn
	start   int64
	count   int
	size    int
}

// connected notes the connection the request goes on (again on a new one
// when net/http retries it), before the request is written: the
// Transport's reading goroutine, which calls got1xx, receives the request
// after this.
func (b *interimBound) connected(info httptrace.GotConnInfo) {
	conn := info.Conn
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tc.NetConn() // an https prod: its TLS records are counted
	}
	b.conn, _ = conn.(*countedConn)
	if b.conn != nil {
		b.start = b.conn.read.Load()
	}
	if b.gotConn != nil {
		b.gotConn(info)
	}
}

// got1xx is called once by each 1xx, in order, by the goroutine reading
// the answer; an error ends the request.
func (b *interimBound) got1xx(code int, h textproto.MIMEHeader) error {
	b.count++
	b.size += len("HTTP/1.1 100 \r\n\r\n")
	for k, vv := range h {
		for _, v := range vv {
			b.size += len(k) + len(v) + len(": \r\n")
		}
	}
	size := int64(b.size)
	if b.conn != nil {
		size = max(size, b.conn.read.Load()-b.start-transportReadAhead)
	}
	if over1xx(b.count, size) {
		return errTooMany1xx
	}
	return b.deliver(code, h)
}

// timedTransport stamps when the request leaves for prod and when prod's
// body has been read.
type timedTransport struct{ next http.RoundTripper }

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	st, _ := r.Context().Value(stateKey{}).(*exchangeState)
	if st == nil {
		return t.next.RoundTrip(r)
	}
	st.mu.Lock()
	st.sent = time.Now()
	st.mu.Unlock()
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		st.stamp()
		return resp, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, st: st}
	return resp, nil
}

func (st *exchangeState) stamp() {
	st.mu.Lock()
	if st.done.IsZero() {
		st.done = time.Now()
	}
	st.mu.Unlock()
}

type timedBody struct {
	io.ReadCloser
	st *exchangeState
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.st.stamp()
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.st.stamp()
	return b.ReadCloser.Close()
}

// endedBody is a request body that, once it has returned io.EOF, returns
// io.EOF again without reading the server's body. net/http's transport
// reads a body once more after its Content-Length, to check that it is
// not longer; by then the server may have closed the body (it drains and
// closes what is left of a request body when prod's answer starts), and
// the "invalid Read on closed Body" that would return makes the transport
// close its connection to prod, cutting the answer the client is
// receiving (golang/go#40747).
type endedBody struct {
	io.ReadCloser
	ended atomic.Bool // set by the transport's writing goroutine (closeOnUnreadBody reads it)
}

func (b *endedBody) Read(p []byte) (int, error) {
	if b.ended.Load() {
		return 0, io.EOF
	}
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.ended.Store(true)
	}
	return n, err
}

// teeBody keeps a copy of the request body, up to limit bytes and within
// the budget of captures in flight, as prod's transport reads it.
//
// The transport may go on reading after the reverse proxy has returned
// (prod answered before it read the whole body: net/http writes the
// request on a goroutine of its own), while finish hands the copy to the
// shadow side. copy freezes the tee under mu: later reads pass through
// uncopied, and a copy frozen before the body's end is dropped as unread.
type teeBody struct {
	endedBody
	mu     sync.Mutex
	buf    capture
	limit  int64
	length int64 // the request's Content-Length, -1 when unknown
	over   bool
	eof    bool
	frozen bool // copy was called: the copy is the shadow side's
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.endedBody.Read(p)
	if n == 0 && err == nil {
		return n, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.frozen {
		return n, err
	}
	if n > 0 && !b.over {
		if int64(len(b.buf.buf)+n) > b.limit {
			b.over = true
			b.buf.reset()
		} else {
			b.buf.add(p[:n], b.limit)
		}
	}
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

// release gives the copy's bytes back to the budget; later reads copy
// nothing.
func (b *teeBody) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.frozen = true
	b.buf.release()
}

// copy freezes the tee and returns the body read, or why it cannot be
// mirrored.
func (b *teeBody) copy() ([]byte, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.frozen = true
	switch {
	case b.over:
		return nil, DropBodyTooBig
	case b.buf.refused:
		return nil, DropCapturesInFlight
	case !b.eof && (b.length < 0 || int64(len(b.buf.buf)) != b.length):
		return nil, DropBodyUnread
	}
	return b.buf.buf, ""
}

// recorder passes prod's answer to the client and keeps its status,
// headers and up to limit bytes of its body, within the budget of
// captures in flight.
type recorder struct {
	http.ResponseWriter
	limit     int64
	head      bool // a HEAD request: the answer has no body, whatever its Content-Length
	proxied   bool // the Proxy's: a Connection header is its own (closeOnUnreadBody), not prod's
	status    int
	header    http.Header
	body      capture
	length    int64 // the answer's body length (Content-Length), -1 when unknown or without a body
	written   int64 // body bytes passed on
	truncated bool
	failed    bool // a write to the client failed
}

// cut reports whether the client did not get a whole answer: a write
// failed, or fewer body bytes than the Content-Length were written (the
// handler returned early, for one when its client went away).
func (r *recorder) cut() bool {
	return r.failed || r.status != 0 && r.written < r.length // length is -1 for an answer without a body (HEAD, 204, 304)
}

func (r *recorder) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		r.ResponseWriter.WriteHeader(code) // 100 Continue, 103 Early Hints: passed on, not the answer
		return
	}
	if r.status == 0 {
		r.status = code
		r.header = answerHeader(r.ResponseWriter.Header())
		if r.proxied {
			delete(r.header, "Connection")
		}
		r.length = -1
		if n, err := strconv.ParseInt(r.header.Get("Content-Length"), 10, 64); err == nil && n >= 0 && !r.head && code != http.StatusNoContent && code != http.StatusNotModified {
			r.length = n
			if n > 0 {
				r.body.reserve(min(n, r.limit)) // one allocation, not a doubling per write, if the budget grants it
			}
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

// flush sends what the client has not received yet of an answer whose
// framing is settled: with a Content-Length, without a body (HEAD, 1xx,
// 204, 304), or already streamed (ReverseProxy flushes each write of a
// body of unknown length; its last chunk and trailers still go when the
// handler returns). An empty answer of unknown length is left to
// net/http, which frames it when the handler returns, as without this.
func (r *recorder) flush(method string) {
	if r.status == 0 {
		return
	}
	settled := method == http.MethodHead || r.status < 200 || r.status == http.StatusNoContent || r.status == http.StatusNotModified ||
		r.header.Get("Content-Length") != "" || r.written > 0
	if !settled {
		return
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
		return
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	r.written += int64(len(p))
	if !r.truncated {
		if room := r.limit - int64(len(r.body.buf)); int64(len(p)) > room {
			r.body.add(p[:max(room, 0)], r.limit)
			r.truncated = true
		} else {
			r.body.add(p, r.limit)
		}
	}
	n, err := r.ResponseWriter.Write(p)
	if err != nil {
		r.failed = true
	}
	return n, err
}

// Unwrap lets http.ResponseController (which ReverseProxy flushes with)
// reach the server's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush sends what was written: an application behind the Middleware
// that streams finds its writer's http.Flusher, as without it.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

// answerHeader is a copy of the answer's header without the Proxy's
// guard against Content-Type sniffing (a nil Content-Type).
func answerHeader(h http.Header) http.Header {
	c := h.Clone()
	if v, ok := c["Content-Type"]; ok && v == nil {
		delete(c, "Content-Type")
	}
	return c
}

// response is prod's answer as the comparator sees it.
func (r *recorder) response(err error, latency time.Duration) framework.Response {
	if err != nil {
		return framework.Response{Err: err, ErrKind: mirror.Classify(err), Latency: latency}
	}
	status, header := r.status, r.header
	if status == 0 { // the handler wrote nothing: net/http answers 200
		status, header = http.StatusOK, answerHeader(r.ResponseWriter.Header())
	}
	return framework.Response{Status: status, Header: header, Body: r.body.buf, Truncated: r.truncated, Latency: latency}
}

// bufferPool recycles the reverse proxy's copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// errorLog is where net/http's own messages about the prod path (a body
// copy that failed midway) go: the session's log, which the CLI scrubs,
// never the process's raw standard error.
func (s *Shadow) errorLog() *log.Logger {
	if s.opt.Log == nil {
		return log.New(io.Discard, "", 0)
	}
	return log.New(s.opt.Log, "shadowtest: ", 0)
}
