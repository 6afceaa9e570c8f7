// Package mirror sends one request to prod and to the shadow at the same
// time, each through its own HTTP client, and returns both responses.
//
// Each target has its own transport, connection pool, timeout, retry policy
// and header rewrites, so a slow or failing shadow can neither delay nor alter
// prod's side. Response bodies are read up to a cap. The package does not
// compare responses, select traffic or keep statistics.
package mirror

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/envref"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/rpc"
)

// DefaultMaxBodyBytes is the response body cap when none is configured.
const DefaultMaxBodyBytes = 10 << 20

// drainLimit is how much of a body past the cap is read so that the
// connection can be reused; beyond it the connection is closed.
const drainLimit = 64 << 10

// Client sends requests to one target.
type Client struct {
	target  framework.Target
	http    *retryablehttp.Client
	maxBody int64
	// refusedHold, when set, is how long after a refused connection the
	// client fails requests as refused without dialling (see
	// ShadowRefusedHold); refusedUntil is that deadline in Unix
	// nanoseconds.
	refusedHold  time.Duration
	refusedUntil atomic.Int64
	refusedErr   error // the failure of a request not dialled, built once
	// base is the target's URL parsed once, when Rewrite can point a
	// request at it by copying the request's path and query (plainBase);
	// nil otherwise.
	base *url.URL
	// tlsErr is why the target's tls block could not be applied (its CA
	// file unreadable or holding no certificate): every request fails
	// with it. spec.Load reports the same error with its position first.
	tlsErr error
}

// ShadowRefusedHold is how long the shadow's client, after the shadow
// refused a connection, fails requests as refused without dialling again.
// A refused dial costs the runner as much as a whole answered request (a
// socket, a connect, a close), and more time than a request on a kept-alive
// connection: dialling a shadow that is down for every request made prod's
// side of a run slower. A shadow that comes back is dialled again at most
// this long after.
const ShadowRefusedHold = 100 * time.Millisecond

// errRefusedRecently is the failure of a request not sent because the
// target refused a connection less than refusedHold ago.
var errRefusedRecently = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

// sendKey holds, in a request's context, its *sending: one context
// value for what RetryPolicy and attempts need to know.
type sendKey struct{}

// sending is what a request's context says of it to the retry policy
// and to attempts.
type sending struct {
	idempotent bool // it may be retried
	attempts   int  // the attempts sent so far
}

// attempts is the transport of a target's client: it counts each attempt,
// and stops net/http's Transport from resending a request on its own.
// That Transport sends an idempotent request again, without telling its
// caller, when a reused keep-alive connection fails before the answer; a
// target that resets every connection would then see more attempts than
// Target.Retries allows, and the retries would go uncounted. A request it
// must not replay is one whose body it cannot rewind: requests without a
// body get an empty one, and GetBody is dropped. The empty body is marked
// with the "identity" transfer encoding, so that nothing changes on the
// wire (no Content-Length, no chunked encoding: these methods carry no
// body) and net/http does not probe it first, which would cost a goroutine
// and a timer per request. Only a request that was never written is still
// sent again by net/http, which the target cannot notice.
//
// It also applies the target's timeout to each attempt, from sending it to
// the end of its body, as http.Client.Timeout would: net/http enforces
// Client.Timeout through a RoundTripper it does not know, like this one,
// with a goroutine and a timer per request, while a context deadline costs
// neither.
type attempts struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	if s, ok := req.Context().Value(sendKey{}).(*sending); ok {
		s.attempts++
	}
	ctx, cancel := req.Context(), context.CancelFunc(nil)
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	once := req.WithContext(ctx) // a copy: a RoundTripper must not change the caller's request
	once.GetBody = nil
	if (once.Body == nil || once.Body == http.NoBody) && bodiless(once.Method) {
		once.Body, once.ContentLength, once.TransferEncoding = io.NopCloser(strings.NewReader("")), 0, identity
	}
	resp, err := t.base.RoundTrip(once)
	if cancel == nil {
		return resp, err
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &deadlineBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// deadlineBody is a response body read under its attempt's deadline, which
// ends when the body is closed.
type deadlineBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *deadlineBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// identity is the transfer encoding of the empty body attempts gives a
// request without one (net/http only reads it).
var identity = []string{"identity"}

// bodiless reports whether net/http sends a request of this method with an
// empty body exactly as one without a body: no Content-Length and no
// chunked encoding (net/http's requestMethodUsuallyLacksBody).
func bodiless(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions, "PROPFIND", "SEARCH":
		return true
	}
	return false
}

// NewClient builds the client of one target with its own transport and a
// pool sized for the given concurrency. dir is the spec directory, which a
// relative tls.ca is read from (Plan.Dir).
func NewClient(target framework.Target, dir string, concurrency int, maxBody int64) *Client {
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	tlsConfig, tlsErr := TLSConfig(target, dir)
	transport := &http.Transport{
		Proxy:                 nil, // shadow traffic never goes through a proxy from the environment
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		MaxConnsPerHost:       concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Bodies are compared as sent: the client must not ask for gzip
		// and silently decode it.
		DisableCompression: true,
		// A hostile shadow's headers are bounded as its body is, not by
		// net/http's 10 MiB.
		MaxResponseHeaderBytes: rpc.HeaderLimit(maxBody),
		TLSClientConfig:        tlsConfig,
	}
	client := retryablehttp.NewClient()
	client.HTTPClient = &http.Client{
		// The timeout is each attempt's, applied by attempts (not
		// http.Client.Timeout, which costs a goroutine per request).
		Transport: attempts{base: transport, timeout: target.Timeout},
		// A redirect is part of the response being compared; it is never
		// followed (so a redirect loop cannot stall a run either).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	client.Logger = nil
	client.RetryMax = max(target.Retries, 0)
	client.RetryWaitMin = 20 * time.Millisecond
	client.RetryWaitMax = 200 * time.Millisecond
	client.Backoff = retryablehttp.LinearJitterBackoff
	client.CheckRetry = RetryPolicy
	client.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &Client{target: target, http: client, maxBody: maxBody, base: plainBase(target), tlsErr: tlsErr}
}

// TLSConfig is the TLS configuration of an https:// target's transport:
// the spec's tls block (rpc.TLSConfig: its CA file read from dir, its
// server name, insecureSkipVerify), or nil (Go's defaults: the system's
// roots) for a target without one. The live proxy's prod transport uses it
// too.
func TLSConfig(target framework.Target, dir string) (*tls.Config, error) {
	if target.TLS == (framework.TLS{}) {
		return nil, nil
	}
	return rpc.TLSConfig(target.TLS, dir)
}

// RetryPolicy retries only idempotent requests, and only on transport errors
// and 429 Too Many Requests: any other status is an answer to compare, and
// a retried POST could write twice.
func RetryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if s, _ := ctx.Value(sendKey{}).(*sending); s == nil || !s.idempotent {
		return false, nil
	}
	if err != nil {
		var urlErr interface{ Timeout() bool }
		if errors.As(err, &urlErr) && urlErr.Timeout() {
			return false, nil // the timeout is the target's answer; do not multiply it
		}
		return true, nil
	}
	return resp.StatusCode == http.StatusTooManyRequests, nil
}

// ShadowRetryPolicy is RetryPolicy without retries on a refused connection:
// a shadow that is down stays down for the next few milliseconds, and
// waiting to retry it would hold a worker that prod's side of the run needs.
// It is the shadow client's policy; prod keeps RetryPolicy, since a prod
// answer is what every comparison needs.
func ShadowRetryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
		return false, nil
	}
	return RetryPolicy(ctx, resp, err)
}

// HoldOffRefused makes the client, after a refused connection, fail
// requests as refused without dialling for d (ShadowRefusedHold for a
// shadow); 0 dials every time.
func (c *Client) HoldOffRefused(d time.Duration) {
	c.refusedHold = d
	c.refusedErr = fmt.Errorf("%w (refused less than %s ago: not dialled again yet)", errRefusedRecently, d)
}

// SetRetryPolicy replaces the client's retry policy.
func (c *Client) SetRetryPolicy(policy retryablehttp.CheckRetry) { c.http.CheckRetry = policy }

// Idempotent reports whether a method may be retried safely.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// Do sends req to the target and returns its response, or the transport
// failure in Response.Err. It never returns a nil response.
func (c *Client) Do(ctx context.Context, req *framework.Request) framework.Response {
	return c.DoInto(ctx, req, nil)
}

// DoInto is Do reading the response body into buf's memory (grown when it
// is too small): the body may share buf, so nothing else may use buf while
// the response is in use. Reusing one buffer per request in flight saves a
// large body's allocations (a body of unknown length grows by doubling,
// some 16 MiB of garbage on the way to 10 MiB).
func (c *Client) DoInto(ctx context.Context, req *framework.Request, buf []byte) framework.Response {
	start := time.Now()
	if c.tlsErr != nil {
		return framework.Response{Err: fmt.Errorf("%s target: %w", c.target.Name, c.tlsErr), ErrKind: "tls", Latency: time.Since(start)}
	}
	if c.refusedHold > 0 && start.UnixNano() < c.refusedUntil.Load() {
		return framework.Response{Err: c.refusedErr, ErrKind: "refused", Latency: time.Since(start)}
	}
	sent := &sending{idempotent: Idempotent(req.Method)}
	httpReq, err := c.build(context.WithValue(ctx, sendKey{}, sent), req)
	if err != nil {
		return framework.Response{Err: err, ErrKind: "request", Latency: time.Since(start)}
	}
	resp, err := c.http.Do(httpReq)
	retries := max(sent.attempts-1, 0)
	if err != nil && c.refusedHold > 0 && errors.Is(err, syscall.ECONNREFUSED) {
		c.refusedUntil.Store(time.Now().Add(c.refusedHold).UnixNano())
	}
	if err != nil {
		return framework.Response{Err: redactErr(err), ErrKind: Classify(err), Latency: time.Since(start), Retries: retries}
	}
	defer resp.Body.Close()
	length := resp.ContentLength
	if resp.Body == http.NoBody || req.Method == http.MethodHead {
		// A HEAD answer (or a 204, a 304) has no body, whatever its
		// Content-Length says: no room is allocated for one.
		length = 0
	}
	body, truncated, err := readCapped(resp.Body, length, c.maxBody, buf)
	latency := time.Since(start)
	if err != nil {
		return framework.Response{Err: redactErr(err), ErrKind: Classify(err), Latency: latency, Status: 0, Retries: retries}
	}
	return framework.Response{
		Status:    resp.StatusCode,
		Header:    resp.Header,
		Body:      body,
		Truncated: truncated,
		Latency:   latency,
		Retries:   retries,
	}
}

func (c *Client) build(ctx context.Context, req *framework.Request) (*retryablehttp.Request, error) {
	var body any
	if req.Body != nil {
		body = req.Body
	}
	httpReq, err := retryablehttp.NewRequestWithContext(ctx, req.Method, joinURL(c.target.URL, c.rewritePath(req.URL)), body)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, values := range req.Header {
		n += len(values)
	}
	copied := make([]string, 0, n) // one array for every header's values, as Header.Clone
	for name, values := range req.Header {
		key := http.CanonicalHeaderKey(name)
		switch key {
		case "Host", "Content-Length", "Connection", "Transfer-Encoding", "Accept-Encoding":
			continue
		}
		if len(values) == 0 {
			httpReq.Header[key] = nil
			continue
		}
		copied = append(copied, values...)
		httpReq.Header[key] = copied[len(copied)-len(values) : len(copied) : len(copied)]
	}
	c.removeHeaders(httpReq.Header)
	httpReq.Host = c.host(req)
	// Ask for bodies as the recorded client did, but never let the transport
	// add its own gzip negotiation.
	if ae := req.Header.Get("Accept-Encoding"); ae != "" {
		httpReq.Header.Set("Accept-Encoding", ae)
	}
	for name, value := range c.target.Headers {
		expanded := envref.Expand(value)
		if strings.EqualFold(name, "Host") {
			httpReq.Host = expanded
			continue
		}
		httpReq.Header.Set(name, expanded)
	}
	return httpReq, nil
}

func joinURL(base, originForm string) string {
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(originForm, "/")
}

// readCapped reads at most limit bytes of body into buf's memory when it
// is large enough, and reports whether more followed; it drains a little of
// the rest so the connection can be reused. A body of known length
// (length >= 0) that does not fit buf is read into a buffer of its size, not
// one grown by doubling.
func readCapped(body io.Reader, length, limit int64, buf []byte) ([]byte, bool, error) {
	size := int64(32 << 10)
	if length >= 0 {
		size = min(length, limit) + 1 // one more byte reads the end; a huge Content-Length is cut first
	}
	size = min(size, limit)
	buf = buf[:0:min(int64(cap(buf)), limit)]
	if int64(cap(buf)) < size && (length >= 0 || cap(buf) == 0) {
		buf = make([]byte, 0, size)
	}
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			// Double, never past the cap: a body of unknown length costs
			// at most twice its size on the way, and never more than
			// the cap once read.
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	extra, _ := io.CopyN(io.Discard, body, drainLimit)
	return buf, extra > 0, nil
}

// Classify names the kind of a transport failure for counting: "refused",
// "timeout", "reset", "tls", "canceled" or "other".
func Classify(err error) string {
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &recordErr),
		strings.Contains(err.Error(), "tls:"):
		return "tls"
	}
	return "other"
}

// urls masks URL credentials and secret query parameters, by name.
var urls = redact.Default()

// redactErr masks the secrets in a transport error's URL (credentials, and
// query parameters named like api_key or token), keeping the rest of the
// query (?category=books) that says which request failed: errors end up
// in logs and reports.
func redactErr(err error) error {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		return err
	}
	return &url.Error{Op: urlErr.Op, URL: urls.URL(urlErr.URL), Err: urlErr.Err}
}
