package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/rpc"
)

// Reasons an RPC's copy is not sent, besides the HTTP ones (the reason
// label of shadowtest_live_dropped_requests_total).
const (
	// DropClientStream: client-streaming and bidirectional calls pass
	// through to prod and are recorded, but not mirrored: a live stream's
	// requests may depend on prod's answers, which a replay cannot.
	DropClientStream = "client or bidi stream"
	// DropUndecodable: the call's frames do not parse (malformed, or a
	// compression other than gzip), or its method or messages do not fit
	// the spec's descriptors (such a call is still recorded, its messages
	// as wire bytes).
	DropUndecodable = "rpc not decodable"
)

// grpcSide is the gRPC half of a live session's shadow side: the spec's
// descriptors, the shadow's gRPC client (its own connection, timeout and
// retry policy, from framework/rpc), and the bounded hand-off that decodes
// each selected call off the client's path.
type grpcSide struct {
	maxBody int64
	// slots bounds the calls being decoded at once; a call that finds
	// none free is dropped (DropQueueFull), as a full queue drops it.
	slots   chan struct{}
	pending sync.WaitGroup
	mu      sync.Mutex
	closed  bool // no call is handed off any more
	// prod and shadow are the session's targets: a reload keeps them.
	prod, shadow framework.Target
	// genMu guards gen, the descriptors and shadow client in force (nil
	// for a plan without a grpc block), which a reload replaces.
	genMu sync.RWMutex
	gen   *rpcGen
}

// rpcGen is one generation of descriptors and shadow client; calls counts
// the copies it is sending, so that a reload closes the client it replaced
// only once they are done.
type rpcGen struct {
	*mirror.RPC
	calls sync.WaitGroup
}

// reloadTimeout bounds a reload's server reflection on prod: a SIGHUP must
// not hang the session (a SIGTERM waits for the reload in progress).
const reloadTimeout = 5 * time.Second

func newGRPCSide(plan *framework.Plan, slots int) (*grpcSide, error) {
	g := &grpcSide{maxBody: plan.Mirror.MaxBodyBytes, slots: make(chan struct{}, max(slots, 1)), prod: plan.Prod, shadow: plan.Shadow}
	if g.maxBody <= 0 {
		g.maxBody = mirror.DefaultMaxBodyBytes
	}
	gen, err := g.load(context.Background(), plan)
	if err != nil {
		return nil, err
	}
	g.gen = gen
	return g, nil
}

// load builds the descriptors and shadow client of plan's grpc block
// (nil without one), for the session's targets: .proto files compiled,
// a descriptor set read, or server reflection asked of prod, which also
// checks the selectors.
func (g *grpcSide) load(ctx context.Context, plan *framework.Plan) (*rpcGen, error) {
	if plan.GRPC == nil {
		return nil, nil
	}
	p := *plan
	p.Prod, p.Shadow = g.prod, g.shadow
	r, err := mirror.NewRPC(ctx, &p)
	if err != nil {
		return nil, err
	}
	// The proxy reaches prod through its own HTTP/2 transport.
	r.Prod.Close()
	r.Probe.Close()
	return &rpcGen{RPC: r}, nil
}

// reload replaces the descriptors and shadow client with those of plan's
// grpc block, loaded first: on error the old ones stay. It returns how
// many methods the new descriptors have (0 without a grpc block).
func (g *grpcSide) reload(plan *framework.Plan) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	gen, err := g.load(ctx, plan)
	if err != nil {
		return 0, err
	}
	g.genMu.Lock()
	old := g.gen
	g.gen = gen
	g.genMu.Unlock()
	if old != nil {
		go func() {
			old.calls.Wait() // copies in flight finish with the client they started on
			old.Shadow.Close()
		}()
	}
	if gen == nil {
		return 0, nil
	}
	return len(gen.Descriptors.Methods()), nil
}

// current returns the generation in force, counting a call on it: the
// caller calls gen.calls.Done when its call is done. It is nil without a
// grpc block.
func (g *grpcSide) current() *rpcGen {
	g.genMu.RLock()
	defer g.genMu.RUnlock()
	if g.gen != nil {
		g.gen.calls.Add(1)
	}
	return g.gen
}

// descriptors returns the session's descriptors, nil without a grpc block.
func (g *grpcSide) descriptors() *rpc.Descriptors {
	g.genMu.RLock()
	defer g.genMu.RUnlock()
	if g.gen == nil {
		return nil
	}
	return g.gen.Descriptors
}

// enter registers a call being handed off; false once the session is
// closing (a stream that outlived the listener's shutdown).
func (g *grpcSide) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.pending.Add(1)
	return true
}

// wait stops the hand-offs and waits for the calls being decoded, which
// are offered (and recorded) before the session's queue and recorder
// close.
func (g *grpcSide) wait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.pending.Wait()
}

func (g *grpcSide) close() {
	g.genMu.Lock()
	defer g.genMu.Unlock()
	if g.gen != nil {
		g.gen.calls.Wait()
		g.gen.Shadow.Close()
	}
}

// send sends a copy to the shadow: an RPC with the gRPC client, a request
// with the HTTP one.
func (s *Shadow) send(ctx context.Context, req *framework.Request) framework.Response {
	if req.RPC == nil {
		return s.shadow.Do(ctx, req)
	}
	gen := s.grpc.current()
	if gen == nil {
		return framework.Response{Err: fmt.Errorf("%s: the spec has no grpc block", req.RPC.Method), ErrKind: "request"}
	}
	defer gen.calls.Done()
	return gen.Shadow.Do(ctx, req)
}

// captureKey carries a selected call's grpcCapture to ModifyResponse.
type captureKey struct{}

// grpcCapture keeps prod's response to a selected call: its headers and
// trailers (the *http.Response), and its frames up to limit bytes.
type grpcCapture struct {
	res   *http.Response
	limit int64
	body  capture
	over  bool
}

// captureResponse is the gRPC reverse proxy's ModifyResponse: for a
// selected call it keeps prod's response and copies its body as the
// client receives it.
func captureResponse(res *http.Response) error {
	if c, ok := res.Request.Context().Value(captureKey{}).(*grpcCapture); ok {
		c.res = res
		res.Body = &captureBody{ReadCloser: res.Body, c: c}
	}
	return nil
}

type captureBody struct {
	io.ReadCloser
	c *grpcCapture
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if c := b.c; n > 0 && !c.over {
		room := c.limit - int64(len(c.body.buf))
		if int64(n) > room {
			c.body.add(p[:max(room, 0)], c.limit)
			c.over = true
		} else {
			c.body.add(p[:n], c.limit)
		}
	}
	return n, err
}

// grpcTee keeps a copy of a call's request frames, up to limit bytes, as
// prod's transport reads them. The HTTP/2 transport reads the body in a
// goroutine of its own that may still be at it when prod's answer has
// ended, hence the lock.
type grpcTee struct {
	io.ReadCloser
	mu    sync.Mutex
	buf   capture
	limit int64
	over  bool
}

func teeFrames(r *http.Request, limit int64, budget *captureBudget) *grpcTee {
	t := &grpcTee{ReadCloser: r.Body, limit: limit, buf: capture{budget: budget}}
	if r.Body == nil {
		t.ReadCloser = http.NoBody
	}
	r.Body = t
	return t
}

func (t *grpcTee) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.mu.Lock()
		if !t.over {
			if int64(len(t.buf.buf)+n) > t.limit {
				t.over = true
				t.buf.reset()
			} else {
				t.buf.add(p[:n], t.limit)
			}
		}
		t.mu.Unlock()
	}
	return n, err
}

// frames returns a copy of the request frames read, or why the call
// cannot be mirrored. A call is whole when its frames are: prod's answer
// has ended, and the end of the client's stream may not have been read
// yet.
func (t *grpcTee) frames() ([]byte, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.over:
		return nil, DropBodyTooBig
	case t.buf.refused:
		return nil, DropCapturesInFlight
	case len(completeFrames(t.buf.buf)) != len(t.buf.buf):
		return nil, DropBodyUnread
	}
	return bytes.Clone(t.buf.buf), ""
}

// releaseRPCCaptures gives a call's copies back to the budget of captures
// in flight once handed off (the decoding slots bound them from then on)
// or dropped. The transport may still be reading the request: the tee
// copies nothing more.
func releaseRPCCaptures(t *grpcTee, c *grpcCapture) {
	t.mu.Lock()
	t.buf.release()
	t.mu.Unlock()
	c.body.release()
}

// passRPC counts a call that copies did not copy, as handOffRPC counts
// it: dropped by the kill switch (its descriptors are not consulted), or
// skipped by the spec's filters.
func (s *Shadow) passRPC(t *ticket, start time.Time, call framework.Request) {
	if s.kill.Killed() {
		s.metrics.dropped.WithLabelValues(t.name, DropKilled).Inc()
		return
	}
	s.pass(t, start, call)
}

// handOffRPC hands a selected call, once prod has answered, to a decoding
// goroutine (bounded by the slots), so that turning frames into messages
// is not the client's wait: the client gets prod's trailers when the
// handler returns.
func (s *Shadow) handOffRPC(t *ticket, start time.Time, method string, in *http.Request, body *grpcTee, c *grpcCapture, st *exchangeState) {
	wire := rpc.Wire{Method: method, RequestHeader: in.Header.Clone()}
	var dropReason string
	wire.RequestBody, dropReason = body.frames()
	prodErr, latency := st.err, st.latency()
	truncated := false
	if prodErr == nil && c.res != nil {
		wire.ResponseHeader, wire.ResponseTrailer = c.res.Header, c.res.Trailer
		wire.ResponseBody, truncated = c.body.buf, c.over
		if truncated {
			wire.ResponseBody = completeFrames(wire.ResponseBody)
		}
		if c.body.refused && dropReason == "" {
			dropReason = DropCapturesInFlight
		}
	} else if prodErr == nil {
		prodErr = fmt.Errorf("prod gave no response")
	}
	if dropReason == DropCapturesInFlight {
		s.metrics.dropped.WithLabelValues(t.name, dropReason).Inc() // nothing whole to record or send: no decoding
		return
	}
	if s.opt.Record == nil && s.kill.Killed() {
		// Nothing to record and nothing to send: a tripped switch costs
		// no decoding.
		s.metrics.dropped.WithLabelValues(t.name, DropKilled).Inc()
		return
	}
	if !s.grpc.enter() {
		s.metrics.dropped.WithLabelValues(t.name, DropSessionEnd).Inc()
		return
	}
	select {
	case s.grpc.slots <- struct{}{}:
	default:
		s.grpc.pending.Done()
		s.metrics.dropped.WithLabelValues(t.name, DropQueueFull).Inc()
		return
	}
	host := in.Host // the request is not touched once the handler has returned
	go func() {
		defer func() { <-s.grpc.slots; s.grpc.pending.Done() }()
		s.finishRPC(t, start, host, wire, dropReason, prodErr, latency, truncated)
	}()
}

// finishRPC decodes a call into the representation the comparator and
// the recorder use (framework.RPCCall, framework.RPCStatus; canonical
// protojson bodies) and offers it to the shadow side, as finish does for
// HTTP. Client and bidirectional streams are recorded but not mirrored.
func (s *Shadow) finishRPC(t *ticket, start time.Time, host string, wire rpc.Wire, dropReason string, prodErr error, latency time.Duration, truncated bool) {
	req, resp, _ := (*rpc.Descriptors)(nil).FromFrames(wire, s.grpc.maxBody) // frames only; the descriptors come next
	framed := req.RPC != nil && resp.RPC != nil                              // the frames split into messages
	req.Host = host
	if prodErr != nil {
		resp = framework.Response{Err: prodErr, ErrKind: mirror.Classify(prodErr)}
	}
	resp.Latency = latency
	resp.Truncated = resp.Truncated || truncated
	if req.RPC == nil { // frames that do not split: the call is still counted as its method's
		req.RPC = &framework.RPCCall{Method: wire.Method}
	}
	ex := framework.Exchange{Time: start, Request: req, Recorded: &resp}
	d := s.grpc.descriptors()
	var md protoreflect.MethodDescriptor
	if d != nil {
		md, _ = d.Method(wire.Method)
	}
	if md != nil {
		// The write policy reads the method's options even when its
		// messages do not decode.
		ex.Request.RPC.NoSideEffects, ex.Request.RPC.Idempotent = rpc.Idempotency(md)
	}
	// The call as its frames hold it (messages as wire bytes), recorded
	// so when its messages do not decode (messagesBase64).
	undecoded := ex
	if framed {
		call, status := *req.RPC, *resp.RPC
		undecoded.Request.RPC, undecoded.Recorded = &call, &framework.Response{Status: resp.Status, Header: resp.Header, Truncated: resp.Truncated, Latency: resp.Latency, RPC: &status}
	}
	clientStream := false
	switch {
	case dropReason != "":
	case md == nil || ex.Request.RPC.Messages == nil && len(wire.RequestBody) > 0 || prodErr == nil && resp.RPC == nil:
		dropReason = DropUndecodable
	case d.Prepare(&ex) != nil:
		dropReason = DropUndecodable
	case md.IsStreamingClient():
		clientStream = true
	}
	if clientStream {
		if s.opt.Record != nil {
			s.opt.Record(&ex)
		}
		dropReason = DropClientStream
	}
	if dropReason == DropUndecodable && framed && prodErr == nil && s.opt.Record != nil {
		s.opt.Record(&undecoded) // the recorder writes its messages in base64
	}
	s.offer(t, ex, dropReason)
}

// completeFrames is the longest prefix of b made of whole gRPC frames:
// what the comparator can read of a response cut at the body cap.
func completeFrames(b []byte) []byte {
	end := 0
	for end+5 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[end+1 : end+5]))
		if n > len(b)-end-5 {
			break
		}
		end += 5 + n
	}
	return b[:end]
}

// jsonType is the Content-Type under which the recorder redacts RPC
// bodies (canonical protojson).
var jsonType = http.Header{"Content-Type": {"application/json"}}

// scrubbedRPC is an RPC exchange as it may be recorded: its messages as
// canonical protojson with secret members masked by name, its metadata
// and trailers without sensitive names. An RPC whose messages are not
// decoded (no descriptor for its method) is recorded as wireRPC says. The
// status details (grpc-status-details-bin, wire bytes that
// no scrubber reads) are kept only when the status, as protojson, holds
// nothing secret by name or by value. The status message (grpc-message,
// free text) is masked as text (redact's Message: token=…, Bearer …); the
// details, which hold it again, are left out when it was.
func (r *Recorder) scrubbedRPC(ex framework.Exchange) (framework.Exchange, bool) {
	r.redactor.Learn(&ex.Request, ex.Recorded)
	if ex.Recorded != nil && ex.Recorded.RPC != nil && ex.Recorded.RPC.Message != "" {
		if masked := r.redactor.Message(ex.Recorded.RPC.Message); masked != ex.Recorded.RPC.Message {
			recorded, status := *ex.Recorded, *ex.Recorded.RPC
			status.Message, status.Details = masked, nil
			recorded.RPC, ex.Recorded = &status, &recorded
		}
	}
	if len(ex.Request.Body) == 0 && ex.Recorded.RPC != nil && ex.Request.RPC.Wire && ex.Recorded.RPC.Wire {
		return r.wireRPC(ex)
	}
	if len(ex.Request.Body) == 0 || ex.Recorded.RPC == nil {
		r.withheld.Add(1)
		return ex, false
	}
	req := ex.Request
	body, ok := r.body(jsonType, req.Body)
	if !ok {
		return ex, false
	}
	messages, err := jsonMessages(body)
	if err != nil {
		r.withheld.Add(1)
		return ex, false
	}
	req.Header, req.Body = r.headers(req.Header), body
	req.RPC = &framework.RPCCall{Method: ex.Request.RPC.Method, Messages: messages}
	resp := *ex.Recorded
	status := resp.RPC
	respBody, ok := r.body(jsonType, resp.Body)
	if !ok {
		return ex, false
	}
	kept := &framework.RPCStatus{Code: status.Code, Message: status.Message, Trailer: nilIfNone(r.headers(status.Trailer))}
	if status.Code == 0 {
		if kept.Messages, err = jsonMessages(respBody); err != nil {
			r.withheld.Add(1)
			return ex, false
		}
	} else if bytes.Equal(respBody, resp.Body) && bytes.Equal(r.scrubber.Bytes(respBody), respBody) {
		kept.Details = status.Details // nothing in the status is secret, by name or by value
	}
	resp.Header, resp.Body, resp.RPC = r.headers(resp.Header), respBody, kept
	return framework.Exchange{Time: ex.Time, Request: req, Recorded: &resp}, true
}

// wireRPC is an RPC whose messages the descriptors do not decode (an
// unknown method, a descriptor that does not match), as it may be
// recorded: its messages as wire bytes (messagesBase64, replayable once
// the spec's descriptors know them), its metadata and trailers without
// sensitive names. Wire bytes carry no field names, so they cannot be
// masked by name: the call is withheld when a secret the recorder knows
// by value (a credential seen in metadata, a secret member of a decoded
// call) is in a message, and always unless RecordOptions.WireRPCs asks
// for such calls. The status details are left out.
func (r *Recorder) wireRPC(ex framework.Exchange) (framework.Exchange, bool) {
	if !r.wireRPCs {
		r.withheld.Add(1)
		return ex, false
	}
	status := ex.Recorded.RPC
	for _, m := range slices.Concat(ex.Request.RPC.Messages, status.Messages) {
		if !bytes.Equal(r.scrubber.Bytes(m), m) {
			r.withheld.Add(1)
			return ex, false
		}
	}
	req := ex.Request
	req.Header = r.headers(req.Header)
	req.RPC = &framework.RPCCall{Method: ex.Request.RPC.Method, Messages: ex.Request.RPC.Messages, Wire: true}
	resp := *ex.Recorded
	resp.Header = r.headers(resp.Header)
	resp.RPC = &framework.RPCStatus{Code: status.Code, Message: status.Message, Trailer: nilIfNone(r.headers(status.Trailer)), Messages: status.Messages, Wire: true}
	return framework.Exchange{Time: ex.Time, Request: req, Recorded: &resp}, true
}

// jsonMessages splits a canonical RPC body into its messages: the
// elements of an array (a stream), or the one object.
func jsonMessages(body []byte) ([][]byte, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		return [][]byte{body}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, err
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out, nil
}

func nilIfNone(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	return h
}
