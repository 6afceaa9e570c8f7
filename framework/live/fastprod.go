package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http/httpguts"
)

// The prod clients the proxy can use (Options.ProdClient, the CLI's
// --prod-client).
const (
	// ProdClientFast sends plain-HTTP/1.1 requests to prod on the
	// calling goroutine, over fasthttp's connection pool, and falls back
	// to net/http for what it does not do (the default). On systems
	// that are not unix it is net/http's Transport (fastProdSupported).
	ProdClientFast = "fast"
	// ProdClientNetHTTP sends every request through net/http's Transport.
	ProdClientNetHTTP = "net/http"
)

// ProdClients lists the values of Options.ProdClient.
var ProdClients = []string{ProdClientFast, ProdClientNetHTTP}

// maxResponseHeaderBytes bounds prod's answer headers, 1xx included, as
// net/http's Transport does by default (its MaxResponseHeaderBytes).
const maxResponseHeaderBytes = 10 << 20

// maxWriteWait is how long a connection waits for the rest of a request
// body once prod has answered before it is closed rather than reused
// (net/http's maxWriteWaitBeforeConnReuse).
const maxWriteWait = 50 * time.Millisecond

// fastTransport is the prod path's default http.RoundTripper. net/http's
// Transport gives each connection a read goroutine and a write goroutine
// and hands every request and answer between them and the caller: two
// scheduler wake-ups per request that cost more than the rest of the
// proxy's work. fastTransport writes the request and reads the answer on
// the caller's goroutine over connections kept by fasthttp's HostClient
// pool (idle connections, their idle timeout; the dial is its own, with
// the request's context, as net/http's), and it frames
// the bytes with net/http's own functions (Request.Write, ReadResponse),
// the ones the Transport uses: what prod receives and what the client
// gets are those of net/http, byte for byte, trailers and 1xx answers
// included. Requests it does not do go to the fallback, net/http's
// Transport: another scheme than http (TLS to prod), Upgrade, CONNECT,
// Expect: 100-continue and request trailers.
type fastTransport struct {
	fallback  http.RoundTripper
	dialer    *net.Dialer
	writeWait time.Duration // maxWriteWait (longer in tests)
	idle      time.Duration
	mu        sync.Mutex
	hosts     map[string]*fasthttp.HostClient
}

func newFastTransport(fallback http.RoundTripper, dialer *net.Dialer, idle time.Duration) *fastTransport {
	return &fastTransport{fallback: fallback, dialer: dialer, idle: idle, writeWait: maxWriteWait, hosts: map[string]*fasthttp.HostClient{}}
}

// fastPath reports whether r is one fastTransport sends itself.
func fastPath(r *http.Request) bool {
	if r.URL == nil || r.URL.Scheme != "http" || r.Method == http.MethodConnect || len(r.Trailer) > 0 {
		return false
	}
	if _, ok := r.Header["Upgrade"]; ok {
		return false
	}
	if _, ok := r.Header["Expect"]; ok {
		return false
	}
	return !httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade")
}

// RoundTrip sends r to prod and returns prod's answer, with the same
// results and errors as net/http's Transport.
func (t *fastTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !fastPath(r) {
		return t.fallback.RoundTrip(r)
	}
	if msg := invalidHeader(r.Header); msg != "" {
		closeRequestBody(r)
		return nil, fmt.Errorf("net/http: invalid header %s", msg)
	}
	if r.URL.Host == "" {
		closeRequestBody(r)
		return nil, errors.New("http: no Host in request URL")
	}
	hc := t.host(r.URL)
	ctx := r.Context()
	for {
		if ctx.Err() != nil {
			closeRequestBody(r)
			return nil, context.Cause(ctx)
		}
		fc, err := t.acquire(ctx, hc)
		if err != nil {
			closeRequestBody(r)
			if ctx.Err() != nil {
				return nil, context.Cause(ctx) // as net/http: the cancellation, not the dial's error
			}
			return nil, err
		}
		if ctx.Err() != nil {
			// The client left as the connection was made: nothing goes
			// to prod, as with net/http. The connection stays in the pool.
			fc.put(true)
			closeRequestBody(r)
			return nil, context.Cause(ctx)
		}
		resp, retry, err := fc.exchange(ctx, r)
		if err == nil || !retry {
			return resp, err
		}
	}
}

// host is the connection pool of u's address, found by u.Host as it is:
// the address (port 80 when u has none) is built once, with the pool,
// not for every request.
func (t *fastTransport) host(u *url.URL) *fasthttp.HostClient {
	t.mu.Lock()
	defer t.mu.Unlock()
	hc := t.hosts[u.Host]
	if hc == nil {
		hc = &fasthttp.HostClient{
			Addr: canonicalAddr(u.Hostname(), u.Port()),
			// HostClient's dial has no context: a client gone while prod
			// is slow to accept would hold its handler for the dialer's
			// whole timeout. The pool gets a connection not made yet,
			// which acquire dials with the request's context.
			Dial:                func(addr string) (net.Conn, error) { return newFastConn(addr, t.writeWait), nil },
			MaxConns:            math.MaxInt32, // as net/http: no bound
			MaxIdleConnDuration: t.idle,
			ConnPoolStrategy:    fasthttp.LIFO, // the warmest connection first, as net/http
		}
		t.hosts[u.Host] = hc
	}
	return hc
}

// acquire returns a connection to prod: an idle one that prod has not
// closed and has sent nothing on since its last answer, or a new one,
// dialled with ctx: the client gone ends the dial, as it ends net/http's
// wait for its dial. net/http's read goroutine notices a closed or
// talking idle connection; here one non-blocking peek does, before the
// request is written.
func (t *fastTransport) acquire(ctx context.Context, hc *fasthttp.HostClient) (*fastConn, error) {
	for {
		cc, err := hc.AcquireConn(0, false)
		if err != nil {
			return nil, err
		}
		fc := cc.Conn().(*fastConn)
		if fc.put == nil {
			fc.put = func(keep bool) {
				if keep {
					hc.ReleaseConn(cc)
				} else {
					hc.CloseConn(cc)
				}
			}
		}
		if fc.Conn == nil {
			c, err := t.dialer.DialContext(ctx, "tcp", fc.addr)
			if err != nil {
				fc.put(false)
				return nil, err
			}
			fc.Conn = c
			return fc, nil
		}
		// Made before: it was idle in the pool (used, or made for a
		// client that left before sending anything).
		if fc.br.Buffered() > 0 || !idleConnAlive(fc.Conn) {
			fc.put(false)
			continue
		}
		return fc, nil
	}
}

// fastConn is a connection to prod with its buffers and the counts
// net/http's persistConn keeps.
type fastConn struct {
	net.Conn  // nil until acquire dials it
	addr      string
	writeWait time.Duration // maxWriteWait
	br        *bufio.Reader
	bw        *bufio.Writer
	limit     int64 // bytes that may still be read: the header bound while headers are read
	nread     int64
	nwrite    int64
	werr      error // the connection's last write error
	sawEOF    bool
	used      bool
	put       func(keep bool) // back to the pool, or closed
}

func newFastConn(addr string, writeWait time.Duration) *fastConn {
	fc := &fastConn{addr: addr, writeWait: writeWait, limit: math.MaxInt64}
	fc.br = bufio.NewReaderSize(fc, 4<<10)
	fc.bw = bufio.NewWriterSize(writeCounter{fc}, 4<<10)
	return fc
}

// Close closes the connection, if it was made (the pool closes the ones
// whose dial failed).
func (c *fastConn) Close() error {
	if c.Conn == nil {
		return nil
	}
	return c.Conn.Close()
}

func (c *fastConn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, fmt.Errorf("read limit of %d bytes exhausted", maxResponseHeaderBytes)
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.sawEOF = true
	}
	c.nread += int64(n)
	c.limit -= int64(n)
	return n, err
}

// writeCounter counts the bytes written to the connection, apart from
// the reads' counts (the request body may be written by another
// goroutine while the answer is read).
type writeCounter struct{ c *fastConn }

func (w writeCounter) Write(p []byte) (int, error) {
	n, err := w.c.Conn.Write(p)
	w.c.nwrite += int64(n)
	if err != nil {
		w.c.werr = err
	}
	return n, err
}

// exchange writes r on c and reads prod's answer. retry says that the
// request may go again on another connection: c was idle and prod closed
// it before answering, as net/http's Transport retries.
func (c *fastConn) exchange(ctx context.Context, r *http.Request) (*http.Response, bool, error) {
	reused := c.used
	c.used = true
	// The client gone (the server cancels the request's context) closes
	// prod's connection at once, before or after prod's headers, as
	// net/http does: prod sees its request cancelled.
	stop := context.AfterFunc(ctx, func() { c.Conn.Close() })
	bodyless := r.Body == nil || r.Body == http.NoBody
	fail := func(err error, retry bool) (*http.Response, bool, error) {
		stop()
		c.put(false)
		if ctx.Err() != nil {
			return nil, false, context.Cause(ctx)
		}
		return nil, retry && reused, err
	}
	var written chan error
	if bodyless {
		before := c.nwrite
		err := r.Write(c.bw)
		if err == nil {
			err = c.bw.Flush()
		}
		if err != nil {
			// Nothing written: safe to send again (net/http's nothingWrittenError).
			return fail(err, c.nwrite == before)
		}
	} else {
		// The body is written while the answer is read, as net/http does:
		// prod may answer before it has read the whole body (a 413), or
		// stream its answer while it reads.
		written = make(chan error, 1)
		go func() {
			err := r.Write(c.bw)
			if err == nil {
				err = c.bw.Flush()
			}
			// The request body broke off (a client's bad chunked
			// framing), not the connection: prod waits for the rest,
			// which never comes. net/http closes the connection, and so
			// the answer is this error, not a wait for prod's timeout.
			broke := err != nil && c.werr == nil
			written <- err
			if broke {
				c.Conn.Close()
			}
		}()
	}
	c.limit = maxResponseHeaderBytes
	before := c.nread
	trace := httptrace.ContextClientTrace(ctx)
	var resp *http.Response
	var err error
	for interims := 1; ; interims++ {
		resp, err = http.ReadResponse(c.br, r)
		if err != nil {
			break
		}
		code := resp.StatusCode
		if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
			break
		}
		// 103 Early Hints and the like go to the client as they come
		// (ReverseProxy's trace), the final answer follows. Each has its
		// own header limit, and all of them together, status lines
		// included, the bounds of max1xx (bytes read since the request,
		// less those read ahead).
		if trace != nil && trace.Got1xxResponse != nil {
			if over1xx(interims, c.nread-before-int64(c.br.Buffered())) {
				err = errTooMany1xx
				break
			}
			if err = trace.Got1xxResponse(code, textproto.MIMEHeader(resp.Header)); err != nil {
				break
			}
			c.limit = maxResponseHeaderBytes
		}
	}
	if err != nil {
		if c.limit <= 0 && err != errTooMany1xx {
			err = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxResponseHeaderBytes)
		}
		if written != nil {
			select {
			case werr := <-written:
				if werr != nil && c.nread == before {
					err = werr // the write failed first: prod went away
				}
			default:
			}
		}
		// Prod closed the idle connection as the request left: net/http
		// sends a replayable request again on a new connection.
		return fail(err, bodyless && c.nread == before && replayable(r))
	}
	c.limit = math.MaxInt64
	alive := !resp.Close && !r.Close && resp.StatusCode > 199
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// Prod switched protocols on a request that asked for no
		// Upgrade: the connection is the caller's, as with net/http.
		resp.Body = &switchedBody{c: c, stop: stop}
		return resp, false, nil
	}
	if r.Method == http.MethodHead || resp.ContentLength == 0 {
		c.release(stop, alive, written)
		return resp, false, nil
	}
	resp.Body = &fastBody{body: resp.Body, c: c, ctx: ctx, stop: stop, alive: alive, written: written}
	return resp, false, nil
}

// release gives c back to the pool when it can carry another request
// (keep-alive, the request written in full, nothing unread, the client's
// context not done), and closes it otherwise. A request body still being
// written (prod answered before reading it all) is waited for up to
// maxWriteWait on a goroutine of its own, as net/http's read goroutine
// waits: the answer's end reaches the client at once.
func (c *fastConn) release(stop func() bool, alive bool, written chan error) {
	keep := stop() && alive && !c.sawEOF && c.br.Buffered() == 0
	if !keep || written == nil {
		c.put(keep)
		return
	}
	select {
	case err := <-written:
		c.put(err == nil)
	default:
		go func() {
			timer := time.NewTimer(c.writeWait)
			defer timer.Stop()
			select {
			case err := <-written:
				c.put(err == nil)
			case <-timer.C:
				c.put(false) // the writer's next write fails, and it ends
			}
		}()
	}
}

// fastBody is prod's answer body: the connection goes back to the pool
// once it is read to its end, and is closed if the body is closed before.
type fastBody struct {
	body     io.ReadCloser // net/http's body, from ReadResponse
	c        *fastConn
	ctx      context.Context
	stop     func() bool
	alive    bool
	written  chan error
	finished bool
}

func (b *fastBody) Read(p []byte) (int, error) {
	if b.finished {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.finished = true
		b.c.release(b.stop, b.alive, b.written)
	case err != nil:
		b.finished = true
		b.stop()
		b.c.put(false)
		if b.ctx.Err() != nil {
			return n, context.Cause(b.ctx) // as net/http: the cancellation, not the closed connection's error
		}
	}
	return n, err
}

// Close closes prod's connection if the body was not read to its end;
// net/http's body would read what is left instead, prod's endless
// stream included.
func (b *fastBody) Close() error {
	if !b.finished {
		b.finished = true
		b.stop()
		b.c.put(false)
	}
	return nil
}

// switchedBody is the connection after a 101 Switching Protocols answer,
// readable and writable, as net/http hands it to ReverseProxy.
type switchedBody struct {
	c    *fastConn
	stop func() bool
	once sync.Once
}

func (b *switchedBody) Read(p []byte) (int, error)  { return b.c.br.Read(p) }
func (b *switchedBody) Write(p []byte) (int, error) { return b.c.Conn.Write(p) }
func (b *switchedBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.c.put(false)
	})
	return nil
}

// replayable is net/http's Request.isReplayable for a request without
// body: safe methods, or an idempotency key.
func replayable(r *http.Request) bool {
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := r.Header["Idempotency-Key"]
	_, xkey := r.Header["X-Idempotency-Key"]
	return key || xkey
}

// invalidHeader is net/http's Transport check of the outgoing headers:
// a name or value it would not send.
func invalidHeader(h http.Header) string {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Sprintf("field name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Sprintf("field value for %q", k) // not the value: it may be a secret
			}
		}
	}
	return ""
}

// canonicalAddr is host:port, port 80 when the URL has none.
func canonicalAddr(host, port string) string {
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

func closeRequestBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}
