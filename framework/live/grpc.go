package live

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc/codes"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/rpc"
)

// gRPC on the prod path. A gRPC call is an HTTP/2 POST whose
// Content-Type is application/grpc (gRPC's PROTOCOL-HTTP2.md):
// its messages are length-prefixed frames in the request and response
// bodies, and its status travels in the trailers (grpc-status,
// grpc-message, grpc-status-details-bin), or in the headers of a
// "trailers-only" answer. The proxy passes it to prod over HTTP/2 with its
// own reverse proxy: bodies streamed both ways as they come (so client,
// server and bidirectional streams work), trailers copied as sent,
// cancellation propagated through the request's context, and the call's
// grpc-timeout enforced as a deadline.

// Protocols is what the proxy's listener must accept: HTTP/1.1 and HTTP/2
// over cleartext with prior knowledge (h2c), which is how gRPC clients
// speak to a plaintext server. Set it as the http.Server's Protocols.
func Protocols() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

// grpcLabelPrefix starts the label an unmatched gRPC call is counted
// under: "gRPC package.Service/Method".
const grpcLabelPrefix = "gRPC "

// isGRPC reports whether r is a gRPC call: HTTP/2, POST, Content-Type
// application/grpc or application/grpc+codec (not grpc-web).
func isGRPC(r *http.Request) bool {
	if r.ProtoMajor != 2 || r.Method != http.MethodPost {
		return false
	}
	ct := r.Header.Get("Content-Type")
	const grpcType = "application/grpc"
	if len(ct) < len(grpcType) || !strings.EqualFold(ct[:len(grpcType)], grpcType) {
		return false
	}
	return len(ct) == len(grpcType) || ct[len(grpcType)] == '+' || ct[len(grpcType)] == ';'
}

// grpcProxy forwards gRPC calls to prod over HTTP/2.
type grpcProxy struct {
	shadow  *Shadow
	reverse *httputil.ReverseProxy
	maxBody int64
}

// newGRPCProxy returns the gRPC half of the prod path; prod gives the
// target's rewrites (URL, per-target metadata, removed metadata).
func newGRPCProxy(s *Shadow, prod *mirror.Client) *grpcProxy {
	target := s.Plan().Prod
	g := &grpcProxy{shadow: s, maxBody: s.grpc.maxBody}
	g.reverse = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host
			if err := prod.Rewrite(pr.Out); err != nil {
				pr.Out.URL.Host = "" // unreachable: the error handler answers UNAVAILABLE
			}
			pr.Out.URL.Scheme = httpScheme(pr.Out.URL.Scheme)
		},
		Transport: &timedTransport{next: bounded1xx{grpcTransport(target, s.Plan().Dir)}},
		ModifyResponse: func(res *http.Response) error {
			res.Body = &streamEnd{ReadCloser: res.Body, res: res}
			return captureResponse(res)
		},
		BufferPool: bufferPool{},
		ErrorLog:   s.errorLog(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if st, ok := r.Context().Value(stateKey{}).(*exchangeState); ok {
				st.err = err
			}
			if gw, ok := w.(*grpcWriter); ok {
				if code, reset := peerReset(err); reset && code == http2.ErrCodeInternal {
					gw.reset = true // ServeHTTP resets the client's stream the same way
					return
				}
			}
			writeGRPCError(w, r.Context(), err)
		},
	}
	return g
}

// httpScheme is the HTTP scheme of a target URL's scheme: grpc is
// cleartext HTTP/2, grpcs HTTP/2 over TLS.
func httpScheme(scheme string) string {
	switch strings.ToLower(scheme) {
	case "grpc":
		return "http"
	case "grpcs":
		return "https"
	}
	return scheme
}

// grpcTransport is the HTTP/2 transport to a gRPC target: h2c with prior
// knowledge for grpc:// and http:// URLs, HTTP/2 over TLS (ALPN h2) for
// grpcs:// and https:// ones, verified as the spec's tls block says (the
// gRPC client's own rules). It has its own connections, apart from the
// HTTP path's, and pings an idle connection to notice a dead prod.
func grpcTransport(target framework.Target, dir string) *http.Transport {
	var protocols http.Protocols
	var tlsConfig *tls.Config
	if _, useTLS := rpc.Scheme(target.URL); useTLS {
		protocols.SetHTTP2(true)
		// A CA file that cannot be read failed the session's start
		// already (the gRPC clients load it too).
		tlsConfig, _ = rpc.TLSConfig(target.TLS, dir)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Transport{
		TLSClientConfig:     tlsConfig,
		Proxy:               nil,
		Protocols:           &protocols,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		// gRPC compresses messages itself (grpc-encoding); the transport
		// must neither ask for nor decode a Content-Encoding.
		DisableCompression: true,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     10 * time.Second,
		},
	}
}

// ServeHTTP forwards a gRPC call to prod and, when a spec endpoint selects
// its method, keeps a copy of its request and response frames (each up to
// the body cap) for the shadow side.
func (g *grpcProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	method := strings.TrimPrefix(r.URL.Path, "/")
	// The selector reads the method and, for header predicates, the
	// metadata (read only: no copy).
	call := framework.Request{Method: http.MethodPost, URL: "/" + method, Header: r.Header, RPC: &framework.RPCCall{Method: method}}
	t := g.shadow.begin(&call)
	if t != nil && !g.shadow.copies(t, &call) {
		// Nothing to record or send (a tripped kill switch, ...): no copy
		// of its frames.
		defer g.shadow.passRPC(t, start, call)
		t = nil
	}
	st := &exchangeState{}
	ctx := context.WithValue(r.Context(), stateKey{}, st)
	if timeout, ok := grpcTimeout(r.Header.Get("Grpc-Timeout")); ok {
		// prod gets the same grpc-timeout; the proxy also stops waiting
		// for a prod that does not enforce it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var answer *grpcCapture
	if t != nil {
		answer = &grpcCapture{limit: g.maxBody, body: capture{budget: &g.shadow.captures}}
		ctx = context.WithValue(ctx, captureKey{}, answer)
	}
	r = r.WithContext(ctx)
	var body *grpcTee
	if t != nil {
		body = teeFrames(r, g.maxBody, &g.shadow.captures)
		defer releaseRPCCaptures(body, answer) // also when ReverseProxy aborts the handler
	}
	gw := &grpcWriter{ResponseWriter: w}
	g.reverse.ServeHTTP(gw, r)
	added := st.added(start)
	if t != nil {
		g.shadow.handOffRPC(t, start, method, r, body, answer, st)
	}
	g.shadow.metrics.added.Observe(added.Seconds())
	if gw.reset {
		// prod reset the stream with INTERNAL_ERROR before its headers:
		// a handler's abort resets the client's stream with that very
		// code, so the client reads what a client of prod reads (the
		// status, and no metadata at all). Other codes are answered
		// trailers-only (writeGRPCError): a Go handler cannot choose an
		// RST_STREAM code.
		panic(http.ErrAbortHandler)
	}
}

// grpcWriter passes prod's answer on exactly: it keeps net/http from
// adding a Date, a Content-Length or a sniffed Content-Type that prod did
// not send (a gRPC client shows the headers of a trailers-only answer as
// trailer metadata), and
// sends the headers at once, so that a client waiting for a stream's
// header metadata gets it before the first message. A trailers-only
// answer (grpc-status in its headers) is never flushed early: its headers
// must go out with the end of the stream, or gRPC clients would not read
// its status.
type grpcWriter struct {
	http.ResponseWriter
	wrote, trailersOnly bool
	reset               bool // prod reset the stream before its headers with INTERNAL_ERROR
}

func (w *grpcWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.ResponseWriter.Header()
	for _, name := range []string{"Date", "Content-Type", "Content-Length"} {
		if _, ok := h[name]; !ok {
			h[name] = nil
		}
	}
	_, w.trailersOnly = h["Grpc-Status"]
	w.ResponseWriter.WriteHeader(code)
	w.FlushError()
}

func (w *grpcWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// FlushError flushes what was written, unless the answer is trailers-only
// (http.ResponseController, which ReverseProxy flushes with, calls it).
func (w *grpcWriter) FlushError() error {
	if w.trailersOnly {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *grpcWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// gRPC status codes the proxy answers with itself.
const (
	grpcCanceled         = 1
	grpcDeadlineExceeded = 4
	grpcUnavailable      = 14
)

// writeGRPCError answers a call prod did not answer, as a trailers-only
// gRPC response: DEADLINE_EXCEEDED when the call's deadline passed,
// CANCELLED when the client went away, UNAVAILABLE otherwise (prod
// refused, reset or unreachable), which gRPC clients may retry.
func writeGRPCError(w http.ResponseWriter, ctx context.Context, err error) {
	code, message := grpcUnavailable, "shadowtest proxy: prod unavailable ("+mirror.Classify(err)+")"
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		code, message = grpcDeadlineExceeded, "shadowtest proxy: deadline exceeded waiting for prod"
	case errors.Is(ctx.Err(), context.Canceled):
		code, message = grpcCanceled, "shadowtest proxy: call canceled by the client"
	}
	if c, m, ok := resetStatus(ctx, err); ok {
		code, message = c, m // prod reset the stream before its headers
	}
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(code))
	h.Set("Grpc-Message", message) // printable ASCII without '%': no percent-encoding needed
	w.WriteHeader(http.StatusOK)
}

// streamEnd is prod's response body as the reverse proxy copies it to the
// client. When prod breaks the stream after its headers (RST_STREAM, a
// lost connection) instead of ending it with a status, a Go handler cannot
// send an RST_STREAM of a chosen code, and the reverse proxy would reset the
// client's stream with INTERNAL_ERROR. streamEnd ends the body instead and
// sets the status trailers a gRPC client of prod would have read from the
// break (resetStatus), after the messages prod sent: the client sees what
// it sees talking to prod. The break stays prod's failure for the shadow
// side (exchangeState.err).
type streamEnd struct {
	io.ReadCloser
	res *http.Response
}

func (b *streamEnd) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	ctx := b.res.Request.Context()
	code, message, ok := resetStatus(ctx, err)
	if !ok {
		if errors.Is(ctx.Err(), context.Canceled) {
			return n, err // the client went away: nobody reads a status
		}
		code, message = grpcUnavailable, "shadowtest proxy: prod's stream broke ("+mirror.Classify(err)+")"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code, message = grpcDeadlineExceeded, "shadowtest proxy: deadline exceeded waiting for prod"
		}
	}
	if st, ok := ctx.Value(stateKey{}).(*exchangeState); ok {
		st.err = err
	}
	b.res.Trailer = http.Header{"Grpc-Status": {strconv.Itoa(code)}, "Grpc-Message": {grpcMessage(message)}}
	return n, io.EOF
}

// rstCodes maps an HTTP/2 error code to the gRPC status a client reports
// for a stream reset with it: grpc-go's table (internal/transport
// http2ErrConvTab), which gRPC's PROTOCOL-HTTP2.md also gives.
var rstCodes = map[http2.ErrCode]codes.Code{
	http2.ErrCodeNo:                 codes.Internal,
	http2.ErrCodeProtocol:           codes.Internal,
	http2.ErrCodeInternal:           codes.Internal,
	http2.ErrCodeFlowControl:        codes.ResourceExhausted,
	http2.ErrCodeSettingsTimeout:    codes.Internal,
	http2.ErrCodeStreamClosed:       codes.Internal,
	http2.ErrCodeFrameSize:          codes.Internal,
	http2.ErrCodeRefusedStream:      codes.Unavailable,
	http2.ErrCodeCancel:             codes.Canceled,
	http2.ErrCodeCompression:        codes.Internal,
	http2.ErrCodeConnect:            codes.Internal,
	http2.ErrCodeEnhanceYourCalm:    codes.ResourceExhausted,
	http2.ErrCodeInadequateSecurity: codes.PermissionDenied,
	http2.ErrCodeHTTP11Required:     codes.Internal,
}

// peerReset returns the code of prod's reset of the stream, if err is
// one (received from prod, not the transport's own).
func peerReset(err error) (http2.ErrCode, bool) {
	var se http2.StreamError // net/http's own stream error converts to it (errors.As)
	if !errors.As(err, &se) || se.Cause == nil || se.Cause.Error() != "received from peer" {
		return 0, false
	}
	return se.Code, true
}

// resetStatus is the status a gRPC client reports when the server resets
// its stream, if err is such a reset received from prod: the code of
// rstCodes (UNKNOWN for another error code; CANCEL after the call's
// deadline is DEADLINE_EXCEEDED) and grpc-go's message, "stream terminated
// by RST_STREAM with error code: CANCEL".
func resetStatus(ctx context.Context, err error) (code int, message string, ok bool) {
	rst, ok := peerReset(err)
	if !ok {
		return 0, "", false
	}
	c, known := rstCodes[rst]
	if !known {
		c = codes.Unknown
	}
	code = int(c)
	if deadline, set := ctx.Deadline(); code == grpcCanceled && set && !deadline.After(time.Now()) {
		code = grpcDeadlineExceeded
	}
	return code, "stream terminated by RST_STREAM with error code: " + rst.String(), true
}

// grpcMessage percent-encodes a grpc-message value as gRPC's
// PROTOCOL-HTTP2.md says (bytes outside printable ASCII, and '%').
func grpcMessage(message string) string {
	var b strings.Builder
	for i := 0; i < len(message); i++ {
		if c := message[i]; c < ' ' || c > '~' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// grpcTimeout parses a grpc-timeout value: at most 8 digits and a unit
// (H, M, S, m, u, n); false for none, or one too long to be a deadline.
func grpcTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	var unit time.Duration
	switch v[len(v)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, false
	}
	if n > math.MaxInt64/int64(unit) {
		// More than a time.Duration holds (8 digits of hours): as good
		// as none, as grpc-go's server reads it; multiplied, it
		// overflowed to a deadline already past.
		return 0, false
	}
	return time.Duration(n) * unit, true
}
