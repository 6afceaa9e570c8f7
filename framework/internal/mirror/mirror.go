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
		Prod:   NewClient(plan.Prod, plan.Mirror.Concurrency, plan.Mirror.MaxBodyBytes),
		Shadow: NewClient(plan.Shadow, plan.Mirror.Concurrency, plan.Mirror.MaxBodyBytes),
		Probe:  NewClient(plan.Prod, plan.Mirror.Concurrency, plan.Mirror.MaxBodyBytes),
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
type Sender struct {
	m      *Mirror
	calls  chan shadowCall
	answer chan framework.Response
}

type shadowCall struct {
	ctx context.Context
	req *framework.Request
}

// Sender returns a Sender over m's clients.
func (m *Mirror) Sender() *Sender {
	s := &Sender{m: m, calls: make(chan shadowCall), answer: make(chan framework.Response)}
	go func() {
		for c := range s.calls {
			s.answer <- m.Shadow.Do(c.ctx, c.req)
		}
	}()
	return s
}

// Send is Mirror.Send.
func (s *Sender) Send(ctx context.Context, req *framework.Request) (prod, shadow framework.Response) {
	s.calls <- shadowCall{ctx, req}
	prod = s.m.Prod.Do(ctx, req)
	return prod, <-s.answer
}

// SendExchange is Mirror.SendExchange.
func (s *Sender) SendExchange(ctx context.Context, ex *framework.Exchange) (prod, shadow framework.Response) {
	return s.m.sendExchange(ctx, ex, s.Send)
}

// Close ends the Sender's shadow goroutine.
func (s *Sender) Close() { close(s.calls) }
