package main

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/live"
)

// rampInterval is how often a proxy session judges its mirror.ramp.
const rampInterval = time.Second

// proxyRamp wires mirror.ramp into a proxy session: its observer is given
// to live.New before the session exists, start begins the ramp once the
// kill switch self-test passed.
type proxyRamp struct {
	ramp atomic.Pointer[live.Ramp]
	stop context.CancelFunc
}

// observe returns next followed by the ramp's observer.
func (p *proxyRamp) observe(next func(*framework.Pair, []framework.Diff)) func(*framework.Pair, []framework.Diff) {
	return func(pair *framework.Pair, diffs []framework.Diff) {
		if next != nil {
			next(pair, diffs)
		}
		if r := p.ramp.Load(); r != nil {
			r.Observe(pair, diffs)
		}
	}
}

// start sets the first step's rate and judges the ramp every second until
// close; it does nothing when the spec has no ramp.
func (p *proxyRamp) start(plan *framework.Plan, shadow *live.Shadow, log io.Writer) error {
	if plan.Mirror.Ramp == nil {
		return nil
	}
	r, err := live.NewRamp(plan, live.ControlOf(shadow), time.Now, log)
	if err != nil {
		return err
	}
	p.ramp.Store(r)
	if err := shadow.AttachRamp(r); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	go r.Run(ctx, rampInterval)
	return nil
}

// reapply sets the current step's rate again after a spec reload, which
// would otherwise put the spec's own mode and rate in force, and has the
// ramp judge the reloaded endpoints.
func (p *proxyRamp) reapply(shadow *live.Shadow, plan *framework.Plan) error {
	r := p.ramp.Load()
	if r == nil {
		return nil
	}
	r.Reload(plan)
	return shadow.SetRate(r.Status().Rate)
}

func (p *proxyRamp) close() {
	if p.stop != nil {
		p.stop()
	}
}
