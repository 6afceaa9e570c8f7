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
