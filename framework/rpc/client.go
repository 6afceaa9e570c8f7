package rpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the codec used for answers
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/envref"
)

// DefaultMaxMessageBytes caps the response messages of one call when no
// cap is given (the mirror's body cap applies otherwise).
const DefaultMaxMessageBytes = 10 << 20

// Client sends calls to one target over one gRPC connection (HTTP/2
// multiplexes the calls in flight). Each target has its own client, so a
// failing shadow cannot delay or alter prod's calls.
type Client struct {
	target  framework.Target
	conn    *grpc.ClientConn
	desc    *Descriptors
	maxBody int64
	// retryRefused is false for the shadow: a shadow that refused a
	// connection is not retried (see mirror.ShadowRetryPolicy).
	retryRefused bool
}

// Scheme says whether a target URL is one the gRPC client dials, and
// with TLS: grpc:// and http:// are plaintext HTTP/2 (h2c), grpcs:// and
// https:// use TLS.
func Scheme(rawURL string) (ok, useTLS bool) {
	scheme, _, _ := strings.Cut(rawURL, "://")
	switch strings.ToLower(scheme) {
	case "grpc", "http":
		return true, false
	case "grpcs", "https":
		return true, true
	}
	return false, false
}

// NewClient builds the client of a target. dir resolves a relative CA
// file. The connection is made lazily, at the first call; desc may be
// set later with SetDescriptors (server reflection).
func NewClient(target framework.Target, dir string, desc *Descriptors, maxBody int64) (*Client, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxMessageBytes
	}
	u, err := url.Parse(target.URL)
	ok, useTLS := Scheme(target.URL)
	if err != nil || !ok || u.Host == "" {
		return nil, fmt.Errorf("%s target: %q is not a gRPC URL (want grpc://host:port or grpcs://host:port)", target.Name, target.URL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[bool]string{false: "80", true: "443"}[useTLS])
	}
	creds := insecure.NewCredentials()
	if useTLS {
		cfg, err := tlsConfig(target.TLS, dir)
		if err != nil {
			return nil, fmt.Errorf("%s target: %w", target.Name, err)
		}
		creds = credentials.NewTLS(cfg)
	} else if target.TLS != (framework.TLS{}) {
		return nil, fmt.Errorf("%s target: tls is set but %s is plaintext: use grpcs://", target.Name, u.Scheme)
	}
	conn, err := grpc.NewClient("passthrough:///"+host,
		grpc.WithTransportCredentials(creds),
		// Attempts are this client's to count: gRPC's own retries (and
		// its transparent retries) would hide some from the results.
		grpc.WithDisableRetry(),
		grpc.WithDisableServiceConfig(),
		// As the HTTP clients (Transport.Proxy nil): traffic goes to the
		// targets, never through a proxy from HTTPS_PROXY, which saw
		// every call of a grpc:// target (metadata and messages in clear
		// inside its CONNECT tunnel) while HTTP went direct.
		grpc.WithNoProxy(),
		grpc.WithStatsHandler(answered{}),
		grpc.WithUserAgent("shadowtest"),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(int(min(maxBody, 1<<31-1))), grpc.MaxCallSendMsgSize(1<<31-1),
			grpc.ForceCodecV2(codec{})),
		// A hostile target's metadata (grpc-status-details-bin becomes
		// the status body) is bounded by the body cap.
		grpc.WithMaxHeaderListSize(uint32(HeaderLimit(maxBody))),
	)
	if err != nil {
		return nil, fmt.Errorf("%s target: %w", target.Name, err)
	}
	return &Client{target: target, conn: conn, desc: desc, maxBody: maxBody, retryRefused: true}, nil
}

// HeaderLimit bounds the header (and trailer) bytes of one answer, for
// HTTP and gRPC alike: twice the body cap (binary metadata travels in
// base64), at least 64 KiB so that ordinary headers pass under a small
// cap, at most 1 MiB (what a Go server accepts from its clients).
func HeaderLimit(maxBody int64) int64 {
	return min(max(2*maxBody, 64<<10), 1<<20)
}

// tlsConfig verifies the target's certificate against the spec's CA file
// (or the system's), for its server name; it skips verification only
// when the spec says insecureSkipVerify.
func tlsConfig(t framework.TLS, dir string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := readRegular(resolve(dir, t.CA), maxCABytes)
		if err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca: %s holds no PEM certificate", t.CA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the client's connection (for server reflection).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// SetDescriptors sets the descriptors, once known (server reflection).
func (c *Client) SetDescriptors(d *Descriptors) { c.desc = d }

// Shadow makes the client the shadow's: a refused connection is not
// retried.
func (c *Client) Shadow() { c.retryRefused = false }

// Backoff is the wait before retry n (1-based): linear with jitter, as
// the HTTP client's.
var Backoff = func(n int) time.Duration {
	base := time.Duration(n) * 20 * time.Millisecond
	return min(base+rand.N(base/2+1), 200*time.Millisecond)
}

// Do sends the call in req to the target and returns the response, never
// nil: a transport failure (refused, reset, timeout, TLS, a target that
// does not speak gRPC) in Response.Err, else the status, metadata and
// messages (see framework.RPCStatus). A call is sent again only when it
// failed with UNAVAILABLE (transport failures included, timeouts not) and
// the call is idempotent (framework.RPCCall.Idempotent), at most
// Target.Retries times.
func (c *Client) Do(ctx context.Context, req *framework.Request) framework.Response {
	start := time.Now()
	call := req.RPC
	if call == nil {
		return framework.Response{Err: errors.New("not an RPC"), ErrKind: "request"}
	}
	if c.desc == nil {
		return framework.Response{Err: errors.New("no descriptors for " + call.Method), ErrKind: "request"}
	}
	md, err := c.desc.Method(call.Method)
	if err != nil {
		return framework.Response{Err: err, ErrKind: "request"}
	}
	messages, err := c.desc.wireMessages(md.Input(), call)
	if err != nil {
		return framework.Response{Err: fmt.Errorf("request %w", err), ErrKind: "request"}
	}
	outgoing := c.metadata(req.Header)
	retries := 0
	for {
		resp := c.once(ctx, md, outgoing, messages)
		if retries >= c.target.Retries || !call.Idempotent || !c.retryable(&resp) || ctx.Err() != nil {
			resp.Retries = retries
			resp.Latency = time.Since(start)
			return resp
		}
		retries++
		t := time.NewTimer(Backoff(retries))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// retryable: UNAVAILABLE from the server, or a transport failure other
// than a timeout (a refused connection too, except for the shadow).
func (c *Client) retryable(r *framework.Response) bool {
	switch {
	case r.Err != nil:
		return r.ErrKind == "reset" || r.ErrKind == "refused" && c.retryRefused
	case r.RPC != nil:
		return r.RPC.Code == int(codes.Unavailable)
	}
	return false
}

// reserved are request metadata names gRPC sets itself or that describe
// the recorded connection, not the call.
var reserved = map[string]bool{
	"content-type": true, "te": true, "user-agent": true, "host": true, ":authority": true,
	"connection": true, "content-length": true, "transfer-encoding": true, "accept-encoding": true,
	"grpc-timeout": true, "grpc-encoding": true, "grpc-accept-encoding": true,
}

// metadata builds the outgoing metadata: the recorded one without
// reserved names and the target's removeHeaders, then the target's
// headers with ${ENV} expanded (never written anywhere). Binary (-bin)
// values are recorded in base64, as on the wire.
func (c *Client) metadata(recorded http.Header) metadata.MD {
	md := metadata.MD{}
	removed := func(name string) bool {
		for _, r := range c.target.RemoveHeaders {
			if strings.EqualFold(r, name) {
				return true
			}
		}
		return false
	}
	add := func(name, value string) {
		if strings.HasSuffix(name, "-bin") {
			if raw, err := decodeBinaryHeader(value); err == nil {
				value = string(raw)
			}
		}
		md[name] = append(md[name], value)
	}
	for name, values := range recorded {
		key := strings.ToLower(name)
		if reserved[key] || strings.HasPrefix(key, "grpc-") || strings.HasPrefix(key, ":") || removed(key) {
			continue
		}
		for _, v := range values {
			add(key, v)
		}
	}
	for name, value := range c.target.Headers {
		key := strings.ToLower(name)
		if reserved[key] {
			continue
		}
		delete(md, key)
		add(key, envref.Expand(value)) // only the variables a spec may read
	}
	return md
}

func decodeBinaryHeader(v string) ([]byte, error) {
	if len(v)%4 == 0 {
		return base64.StdEncoding.DecodeString(v)
	}
	return base64.RawStdEncoding.DecodeString(v)
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, md protoreflect.MethodDescriptor, outgoing metadata.MD, messages []rawMessage) framework.Response {
	// One context per attempt, always cancelled: a second one made and
	// dropped would stay registered with ctx until the run ends.
	var attemptCtx context.Context
	var cancel context.CancelFunc
	if c.target.Timeout > 0 {
		attemptCtx, cancel = context.WithTimeout(ctx, c.target.Timeout)
	} else {
		attemptCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	seen := new(progress)
	attemptCtx = context.WithValue(metadata.NewOutgoingContext(attemptCtx, outgoing), answeredKey{}, seen)
	desc := &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}
	fullMethod := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())

	var body answer
	var header, trailer metadata.MD
	var err error
	if !desc.ServerStreams && !desc.ClientStreams && len(messages) == 1 {
		err = c.unary(attemptCtx, fullMethod, md.Output(), messages[0], &body, &header, &trailer)
	} else {
		var stream grpc.ClientStream
		stream, err = c.conn.NewStream(attemptCtx, desc, fullMethod)
		if err == nil {
			err = c.exchange(stream, desc, md.Output(), messages, &body)
		}
		if body.truncated {
			cancel() // the rest of the stream is not read
		}
		if stream != nil {
			header, _ = stream.Header()
			trailer = stream.Trailer()
		}
	}
	truncated := body.truncated
	if ferr := c.failure(ctx, attemptCtx, err, seen); ferr != nil {
		return *ferr
	}
	resp := framework.Response{Status: http.StatusOK, Header: jsonHeader(toHeader(header)), Truncated: truncated, RPC: &framework.RPCStatus{Trailer: toHeader(trailer)}}
	if err != nil {
		st := status.Convert(err)
		resp.RPC.Code, resp.RPC.Message = int(st.Code()), st.Message()
		resp.Body = c.desc.StatusBody(int(st.Code()), st.Message(), st.Proto().GetDetails())
		if int64(len(resp.Body)) > c.maxBody { // cut like an HTTP body over the cap
			resp.Body, resp.Truncated = resp.Body[:c.maxBody], true
		}
		return resp
	}
	if !desc.ServerStreams && body.count != 1 {
		return framework.Response{Err: fmt.Errorf("%s answered OK with %d messages to a unary call", c.target.Name, body.count), ErrKind: "protocol"}
	}
	if desc.ServerStreams {
		if body.count == 0 {
			body.json = append(body.json, '[')
		}
		body.json = append(body.json, ']')
	}
	resp.Body = body.json
	return resp
}

// answer gathers the response messages as the body: a unary answer's
// canonical protojson, or a stream's JSON array, built as the messages
// arrive so that only the body is kept, not the messages.
type answer struct {
	json      []byte
	count     int
	size      int64 // wire bytes received, prefixes included
	truncated bool
}

// unary makes a unary call with Invoke, which does what exchange does for
// one message each way (the same checks of the answer's count, the same
// body cap) without the goroutine NewStream starts for every stream to
// watch its context.
func (c *Client) unary(ctx context.Context, method string, output protoreflect.MessageDescriptor, request rawMessage, body *answer, header, trailer *metadata.MD) error {
	var raw rawMessage
	if err := c.conn.Invoke(ctx, method, &request, &raw, grpc.Header(header), grpc.Trailer(trailer)); err != nil {
		return err
	}
	body.size = int64(len(raw)) + 5 // its prefix counts, as in exchange
	if body.size > c.maxBody {
		body.truncated = true
		return nil
	}
	if err := c.desc.appendAnswer(&body.json, 0, output, raw); err != nil {
		return err
	}
	body.count = 1
	return nil
}

// exchange sends the messages, closes the sending side and reads the
// answers until the end of the stream (io.EOF: err is nil) or a status,
// at most maxBody bytes of them (truncated is then set).
func (c *Client) exchange(stream grpc.ClientStream, desc *grpc.StreamDesc, output protoreflect.MessageDescriptor, messages []rawMessage, body *answer) error {
	for i := range messages {
		if err := stream.SendMsg(&messages[i]); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server ended the call: RecvMsg gives its status
			}
			return err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	var raw rawMessage // each answer's wire bytes, in one buffer reused
	for {
		err := stream.RecvMsg(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// Each message counts its 5-byte prefix too, so that an endless
		// stream of empty messages reaches the cap as well.
		body.size += int64(len(raw)) + 5
		if body.size > c.maxBody {
			body.truncated = true
			return nil
		}
		mark := len(body.json)
		switch {
		case !desc.ServerStreams:
		case body.count == 0:
			body.json = append(body.json, '[')
		default:
			body.json = append(body.json, ',')
		}
		if err := c.desc.appendAnswer(&body.json, mark, output, raw); err != nil {
			return err
		}
		body.count++
		if !desc.ServerStreams {
			// A unary answer is one message; gRPC has checked the end
			// of the stream already.
			return nil
		}
	}
}

// appendAnswer appends an answer's canonical protojson to *buf, straight
// from its wire bytes when appendWireJSON can, else through a dynamic
// message and protojson. On error *buf is cut back to mark.
func (d *Descriptors) appendAnswer(buf *[]byte, mark int, output protoreflect.MessageDescriptor, raw []byte) error {
	var ok bool
	if *buf, ok = d.appendWireJSON(*buf, output, raw); ok {
		return nil
	}
	m, err := d.FromWire(output, raw)
	if err != nil {
		*buf = (*buf)[:mark]
		return status.Errorf(codes.Internal, "grpc: failed to unmarshal the received message: %v", err)
	}
	if *buf, err = d.appendCanonical(*buf, m); err != nil {
		*buf = (*buf)[:mark]
		return status.Errorf(codes.Internal, "grpc: failed to unmarshal the received message as protojson: %v", err)
	}
	return nil
}

// failure turns an attempt's error into a transport failure when the
// target did not end the call with a status of its own (trailers): the
// connection was refused or reset, the attempt timed out, TLS failed, the
// target is not a gRPC server or sent malformed messages, or a message
// exceeded the body cap. It returns nil for a status the server sent (or
// no error).
func (c *Client) failure(parent, attempt context.Context, err error, seen *progress) *framework.Response {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	msg := st.Message()
	kind := ""
	switch {
	case parent.Err() != nil:
		kind = "canceled"
	case errors.Is(attempt.Err(), context.DeadlineExceeded):
		kind = "timeout"
	case st.Code() == codes.ResourceExhausted && strings.Contains(msg, "larger than max"):
		return &framework.Response{Err: fmt.Errorf("a response message is over the body cap of %d bytes (mirror.maxBodyBytes): %s", c.maxBody, msg), ErrKind: "too large"}
	case clientSide(st):
		kind = "protocol" // the target's frames or messages do not parse
	case seen.trailer.Load():
		return nil // the server's own status
	case st.Code() == codes.DeadlineExceeded:
		// The target ended the stream when the deadline it was sent
		// (grpc-timeout) passed, a moment before this side's timer.
		kind = "timeout"
	case strings.Contains(msg, "connection refused"):
		kind = "refused"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509") || strings.Contains(msg, "authentication handshake failed"):
		kind = "tls"
	case st.Code() == codes.Unavailable && !seen.header.Load(), strings.Contains(msg, "reset"), strings.Contains(msg, "RST_STREAM"), strings.Contains(msg, "EOF"):
		kind = "reset"
	default:
		kind = "protocol" // the target answered, but not as a gRPC server
	}
	return &framework.Response{Err: fmt.Errorf("%s: %s", st.Code(), msg), ErrKind: kind}
}

// clientSide reports a status that gRPC's client made up because the
// answer did not parse, not one the server sent.
func clientSide(st *status.Status) bool {
	if st.Code() != codes.Internal && st.Code() != codes.Unknown {
		return false
	}
	for _, prefix := range []string{"grpc: failed to unmarshal", "grpc: received message", "grpc: failed to decompress", "grpc: Decompressor", "grpc: compressed flag", "unexpected EOF", "server closed the stream without sending trailers", "malformed header", "transport: malformed"} {
		if strings.HasPrefix(st.Message(), prefix) {
			return true
		}
	}
	return false
}

// toHeader turns metadata into a header map: canonical names, binary
// values in base64 as on the wire. Content-Type is left out: the
// representation sets its own.
func toHeader(md metadata.MD) http.Header {
	if len(md) == 0 {
		return nil
	}
	h := make(http.Header, len(md))
	for name, values := range md {
		if name == "content-type" {
			continue
		}
		key := http.CanonicalHeaderKey(name)
		for _, v := range values {
			if strings.HasSuffix(name, "-bin") {
				v = base64.RawStdEncoding.EncodeToString([]byte(v))
			}
			h[key] = append(h[key], v)
		}
	}
	return h
}

// answered is a stats handler that marks, in a call's context, that the
// target sent HTTP/2 headers or trailers for it: a call whose error came
// with the target's trailers ends with the server's status; one without
// failed in transport.
type answered struct{}

type answeredKey struct{}

// progress is what a call received, set by answered.
type progress struct{ header, trailer atomic.Bool }

func (answered) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (answered) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (answered) HandleConn(context.Context, stats.ConnStats)                       {}
func (answered) HandleRPC(ctx context.Context, s stats.RPCStats) {
	seen, ok := ctx.Value(answeredKey{}).(*progress)
	if !ok {
		return
	}
	switch s.(type) {
	case *stats.InHeader:
		seen.header.Store(true)
	case *stats.InTrailer:
		seen.trailer.Store(true)
	}
}

// rawMessage is a request message already in wire bytes: the codec sends
// it as it is (Prepare encoded it once for both targets).
type rawMessage []byte

// codec sends rawMessage as it is and receives answers into a rawMessage
// as they are (the client decodes each once, for its canonical protojson);
// other values go through the default protobuf codec (server reflection).
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	if raw, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(*raw)}, nil
	}
	return protoCodec.Marshal(v)
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	if raw, ok := v.(*rawMessage); ok {
		buf := (*raw)[:0]
		for _, b := range data {
			buf = append(buf, b.ReadOnlyData()...)
		}
		*raw = buf
		return nil
	}
	return protoCodec.Unmarshal(data, v)
}

var protoCodec = encoding.GetCodecV2("proto")
