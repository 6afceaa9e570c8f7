package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// This file exports the pieces of a run that the live side
// (framework/live) shares with it, so that a proxied request is selected,
// admitted, compared and judged by exactly the same code as a replayed one.

// Reasons Admit gives for not sending a request.
const (
	NotSelected  = "not selected"
	SampledOut   = "sampled out"
	RecordedOnly = "record-only"
	WriteSkipped = "write skipped"
	NoRecording  = "no recording"
)

// Admit applies the plan's mirror mode, write policy and recorded prod
// check to a request of endpoint i, as a run does. It returns "" when the
// request is sent, else the reason it is not (NotSelected, SampledOut,
// RecordedOnly, WriteSkipped, NoRecording), which it also counts in
// results. It may add the dry-run header to ex. log receives the
// record-only lines; nil discards them.
func Admit(plan *framework.Plan, i int, ex *framework.Exchange, results *observe.Results, log io.Writer) string {
	endpoint := plan.Endpoints[i].Name
	m := &plan.Mirror
	switch m.Mode {
	case "selective":
		if !slices.Contains(m.Endpoints, endpoint) {
			results.AddFiltered(endpoint, NotSelected)
			return NotSelected
		}
		if m.SelectiveRate > 0 && m.SelectiveRate < 1 && !Sampled(&ex.Request, m.SelectiveRate, m.Seed) {
			results.AddFiltered(endpoint, SampledOut)
			return SampledOut
		}
	case "sampled":
		if !Sampled(&ex.Request, m.Rate, m.Seed) {
			results.AddFiltered(endpoint, SampledOut)
			return SampledOut
		}
	}
	if call := ex.Request.RPC; call != nil {
		// The endpoint's own marks add to the method's options.
		call.Idempotent = call.Idempotent || plan.Endpoints[i].Idempotent
		call.NoSideEffects = call.NoSideEffects || plan.Endpoints[i].Safe
	}
	if unsafeRequest(&ex.Request) {
		switch m.Writes {
		case "isolated":
		case "dry-run":
			ex.Request.Header = ex.Request.Header.Clone()
			if ex.Request.Header == nil {
				ex.Request.Header = http.Header{}
			}
			ex.Request.Header.Set(m.DryRunHeader[0], m.DryRunHeader[1])
		case "record-only":
			results.AddRecordedOnly(endpoint)
			logf(log, "record-only: %s %s (endpoint %s, %s) not sent\n", ex.Request.Method, redactQuery(ex.Request.URL), endpoint, ex.Origin)
			return RecordedOnly
		default: // "skip"
			results.AddSkipped(endpoint)
			return WriteSkipped
		}
	}
	if plan.Prod.Recorded && ex.Recorded == nil {
		results.AddNoRecording(endpoint)
		return NoRecording
	}
	return ""
}

// RefusedWhateverTheBody reports whether Admit refuses a request of
// endpoint i before looking at its body: the selective mode leaves the
// endpoint out, the sampling rate is 0, or the request writes and the
// write policy does not send writes. The live side copies no body of
// such a request when nothing else needs it. It counts nothing.
func RefusedWhateverTheBody(plan *framework.Plan, i int, req *framework.Request) bool {
	m := &plan.Mirror
	switch m.Mode {
	case "selective":
		if !slices.Contains(m.Endpoints, plan.Endpoints[i].Name) {
			return true
		}
	case "sampled":
		if !(m.Rate > 0) { // Sampled takes nothing at rate 0
			return true
		}
	}
	if req.RPC != nil {
		return false // an RPC's marks come from its descriptors and endpoint: Admit decides
	}
	return unsafeRequest(req) && m.Writes != "isolated" && m.Writes != "dry-run" // as Admit's switch
}

// Comparators compiles every endpoint's rules, in plan order, as a run
// does (a gzip bomb decodes no further than the body cap).
func Comparators(plan *framework.Plan) ([]*compare.Comparator, error) {
	comparators := make([]*compare.Comparator, len(plan.Endpoints))
	for i, e := range plan.Endpoints {
		rules := e.Rules
		rules.TextTokens = rules.TextTokens || e.Noise.Probe > 0 // noise learns text bodies token by token
		if rules.MaxDecodedBytes == 0 {
			rules.MaxDecodedBytes = plan.Mirror.MaxBodyBytes
		}
		c, err := compare.Compile(rules)
		if err != nil {
			return nil, fmt.Errorf("%s: endpoint %q: %w", e.Pos, e.Name, err)
		}
		comparators[i] = c
	}
	return comparators, nil
}

// Window watches the shadow's last N outcomes for errors and slow answers
// against the plan's kill switch bounds, as a run's kill switch does.
type Window struct{ w *window }

// NewWindow returns an empty window for the kill switch settings.
func NewWindow(cfg framework.KillSwitch) *Window { return &Window{w: newWindow(cfg)} }

// Enabled reports whether any in-band trigger (error rate, latency) is set.
func (w *Window) Enabled() bool { return w.w.enabled() }

// Add records the shadow's response and returns a non-empty trigger and
// detail once a bound is crossed.
func (w *Window) Add(shadow *framework.Response) (trigger, detail string) { return w.w.add(shadow) }

// ProbeNoise sends a safe request of the endpoint to prod a second time,
// at the endpoint's noise.probe rate, and records what differs between
// the two prod answers as noise, as a run does. prod is the client of the
// prod target.
func ProbeNoise(ctx context.Context, prod *mirror.Client, plan *framework.Plan, endpoint *framework.Endpoint, c *compare.Comparator, ex *framework.Exchange, first *framework.Response, results *observe.Results) {
	probeNoise(ctx, prod.Do, plan, endpoint, c, ex, first, results)
}
