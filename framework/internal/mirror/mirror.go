package mirror

import (
	"context"
	"sync"

	"github.com/shadowtest/shadowtest/framework"
)

// Mirror sends each request to both targets concurrently.
type Mirror struct {
	Prod, Shadow *Client
	// Probe asks prod a second time for noise learning, from a pool of
	// its own: the shadow is always asked on other connections than prod,
	// so a probe must be too, or a value tied to the connection (the
	// client's port) would differ in prod only when the pool happens to
	// open a new one, and noise decisions would change from run to run.
	Probe *Client
	// rpc sends RPC exchanges; nil for a plan without gRPC endpoints.
	rpc *RPC
}

// New builds the clients of a plan, each with its own pool.
func New(plan *framework.Plan) *Mirror {
	m := &Mirror{
		Prod:   NewClient(plan.Prod, plan.Dir, plan.Mirror.Concurrency, plan.Mirror.MaxBodyBytes),
		Shadow: NewClient(plan.Shadow, plan.Dir, plan.Mirror.Concurrency, plan.Mirror.MaxBodyBytes),
		Probe:  NewClient(plan.Prod, plan.Dir, plan.Mirror.Concurrency, plan.Mirror.MaxBodyBytes),
	}
	m.Shadow.SetRetryPolicy(ShadowRetryPolicy)
	m.Shadow.HoldOffRefused(ShadowRefusedHold)
	return m
}

// Send sends req to prod and the shadow at the same time and waits for both.
// Each side is timed on its own, so prod's latency is what it would be
// without the shadow.
func (m *Mirror) Send(ctx context.Context, req *framework.Request) (prod, shadow framework.Response) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		shadow = m.Shadow.Do(ctx, req)
	}()
	prod = m.Prod.Do(ctx, req)
	wg.Wait()
	return prod, shadow
}

// Sender sends requests to both targets as Send does, but asks the shadow
// from one goroutine kept for the Sender's life instead of a new one per
// request: a new goroutine starts on a small stack, which the HTTP
// client's depth of calls makes grow, by copying, on every request. A
// runner's worker holds one Sender. It is not safe for concurrent use;
// Close it when done.
//
// A Sender also reads the bodies of both sides into the same memory,
// request after request: the bodies it returns are valid until its next
// Send or SendExchange, so copy what must outlive the pair. A run then
// allocates no body memory once every worker has met its largest bodies;
// reading each body into new memory left tens of MiB of garbage per large
// pair (a body of unknown length grows by doubling), the collector ran all
// the time near the soft memory limit and a loaded machine saw the heap
// pass it.
type Sender struct {
	m      *Mirror
	calls  chan shadowCall
	answer chan framework.Response
	// prodBuf and shadowBuf are the memory of the last bodies read.
	prodBuf, shadowBuf []byte
}

type shadowCall struct {
	ctx context.Context
	req *framework.Request
	buf []byte
}

// Sender returns a Sender over m's clients.
func (m *Mirror) Sender() *Sender {
	s := &Sender{m: m, calls: make(chan shadowCall), answer: make(chan framework.Response)}
	go func() {
		for c := range s.calls {
			s.answer <- m.Shadow.DoInto(c.ctx, c.req, c.buf)
		}
	}()
	return s
}

// Send is Mirror.Send.
func (s *Sender) Send(ctx context.Context, req *framework.Request) (prod, shadow framework.Response) {
	s.calls <- shadowCall{ctx, req, s.shadowBuf}
	prod = s.m.Prod.DoInto(ctx, req, s.prodBuf)
	shadow = <-s.answer
	keep(&s.prodBuf, prod.Body)
	keep(&s.shadowBuf, shadow.Body)
	return prod, shadow
}

// shadowDo asks the shadow alone (prod answers from the recording).
func (s *Sender) shadowDo(ctx context.Context, req *framework.Request) framework.Response {
	shadow := s.m.Shadow.DoInto(ctx, req, s.shadowBuf)
	keep(&s.shadowBuf, shadow.Body)
	return shadow
}

// keep makes body, when one was read, the memory the next body of that
// side is read into.
func keep(buf *[]byte, body []byte) {
	if cap(body) > 0 {
		*buf = body[:0]
	}
}

// SendExchange is Mirror.SendExchange.
func (s *Sender) SendExchange(ctx context.Context, ex *framework.Exchange) (prod, shadow framework.Response) {
	return s.m.sendExchange(ctx, ex, s.Send, s.shadowDo)
}

// Close ends the Sender's shadow goroutine.
func (s *Sender) Close() { close(s.calls) }
