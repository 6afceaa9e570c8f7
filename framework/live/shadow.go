// Package live is shadowtest's live side: a mirroring reverse proxy (and a
// Go middleware) that returns prod's answer to the client untouched, sends
// a copy of the request to the shadow asynchronously, compares the two
// answers under the spec's rules, and exports Prometheus metrics.
//
// It reuses the replay's stages: the spec's selectors, modes and write
// policies decide what is mirrored (runner.Admit), the shadow target's own
// client, timeout and retries send the copy, the same comparator judges the
// pair and the same aggregates (observe.Results) gather the outcomes, so a
// live session ends with the same JUnit, results and reports as a run.
// Only the source differs: prod's answer is the proxied response instead of
// a second request.
//
// The prod path never waits on the shadow: copies go through a bounded
// queue to a fixed pool of workers, and a copy that does not fit is dropped
// and counted. A kill switch stops mirroring within milliseconds.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/selector"
)

// DefaultQueuePerWorker sizes the copy queue when Options.QueueSize is 0:
// this many waiting copies per shadow worker.
const DefaultQueuePerWorker = 4

// Options tune a live session beyond what the plan says.
type Options struct {
	// QueueSize bounds the copies waiting for a shadow worker; 0 means
	// DefaultQueuePerWorker per worker (mirror.concurrency workers).
	QueueSize int
	// CaptureBytes bounds the bytes held by the copies of requests and of
	// prod's answers while prod answers, before they are queued; a copy
	// that does not fit is dropped (DropCapturesInFlight) and prod's
	// answer passes untouched. 0 means DefaultCaptureBytes: what the
	// queue holds at its bound.
	CaptureBytes int64
	// ProbeProd lets endpoints with noise.probe send that fraction of
	// their safe requests (GET, HEAD, OPTIONS) to prod a second time to
	// learn noise. Off by default: it adds load to a live prod.
	ProbeProd bool
	// Observe, when set, is called with every compared pair (for the
	// discrepancy log). It must be safe for concurrent use.
	Observe runner.Observer
	// Seen, when set, is called with every exchange before its copy is
	// sent, so that the outputs' scrubber knows its secrets.
	Seen func(*framework.Exchange)
	// Record, when set, is called with every proxied exchange of a
	// matched endpoint, with prod's answer, whether or not it is mirrored
	// (the recorder). It must not block.
	Record func(*framework.Exchange)
	// Log receives kill switch events and record-only lines; nil discards
	// them.
	Log io.Writer
	// ProdClient is the Proxy's client to prod: ProdClientFast (the
	// default, also when empty) or ProdClientNetHTTP.
	ProdClient string
}

// Shadow is the asynchronous half of the live side: it decides which
// proxied exchanges are mirrored, queues their copies, sends them to the
// shadow, compares and aggregates. Proxy and Middleware feed it.
type Shadow struct {
	opt     Options
	results *observe.Results
	config  atomic.Pointer[config]
	prod    *mirror.Client
	shadow  *mirror.Client
	queue   chan job
	kill    *Switch
	ramp    atomic.Pointer[Ramp] // AttachRamp
	// reloadMu serialises the changes of the config: reloads (a SIGHUP
	// storm) and rate changes, which copy the config in force (else a
	// rate change undid a reload stored in between); reloads counts the
	// reloads.
	reloadMu sync.Mutex
	reloads  atomic.Int64
	metrics  *metrics
	grpc     *grpcSide     // descriptors and the shadow's gRPC client (grpcside.go)
	captures captureBudget // bytes copied by requests in flight (budget.go)
	count    atomic.Int64  // exchanges seen, for their Origin
	stop     context.CancelFunc
	ctx      context.Context
	workers  sync.WaitGroup
	closed   sync.Once
	// gate keeps offers from sending on the queue once Close closed it.
	gate    sync.RWMutex
	closing bool
	// start is the plan the session started with: its targets, workers
	// and body cap stay for the session (see Reload).
	start *framework.Plan
}

// config is what a spec reload replaces.
type config struct {
	plan        *framework.Plan
	sel         *selector.Selector
	comparators []*compare.Comparator
	// window is the kill switch's window, replaced by a fresh one when
	// the switch is resumed while workers read it; a rate change's copy
	// of the config shares it.
	window  *atomic.Pointer[runner.Window]
	limiter *rate.Limiter
	// series are the endpoints' metrics, in the plan's order.
	series []endpointMetrics
}

type job struct {
	config   *config
	endpoint int
	exchange framework.Exchange
}

// New starts a live session's shadow side for plan, adding outcomes to
// results. Call Close to stop it. The plan's targets are fixed for the
// session; Reload replaces the rest.
func New(plan *framework.Plan, results *observe.Results, opt Options) (*Shadow, error) {
	if plan.Prod.Recorded {
		return nil, fmt.Errorf("targets.prod.recorded: a live session takes prod's answers from the proxied traffic; remove it")
	}
	if opt.ProdClient != "" && !slices.Contains(ProdClients, opt.ProdClient) {
		return nil, fmt.Errorf("prod client %q: want one of %s", opt.ProdClient, strings.Join(ProdClients, ", "))
	}
	cfg, err := newConfig(plan)
	if err != nil {
		return nil, err
	}
	workers := max(plan.Mirror.Concurrency, 1)
	size := opt.QueueSize
	if size <= 0 {
		size = DefaultQueuePerWorker * workers
	}
	side, err := newGRPCSide(plan, size+workers)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Shadow{
		opt:     opt,
		results: results,
		grpc:    side,
		prod:    mirror.NewClient(plan.Prod, plan.Dir, workers, plan.Mirror.MaxBodyBytes),
		shadow:  mirror.NewClient(plan.Shadow, plan.Dir, workers, plan.Mirror.MaxBodyBytes),
		queue:   make(chan job, size),
		kill:    newSwitch(ctx),
		ctx:     ctx,
		stop:    stop,
		start:   plan,
	}
	s.captures.limit = opt.CaptureBytes
	if s.captures.limit <= 0 {
		s.captures.limit = DefaultCaptureBytes(plan, size)
	}
	s.shadow.SetRetryPolicy(mirror.ShadowRetryPolicy)
	s.shadow.HoldOffRefused(mirror.ShadowRefusedHold) // a refused dial costs as much as an answered copy: do not dial a down shadow for every request
	s.metrics = newMetrics(func() float64 { return float64(len(s.queue)) }, &s.captures)
	s.kill.onTrip = func(trigger string) {
		s.metrics.killed.Set(1)
		s.metrics.trips.WithLabelValues(trigger).Inc()
	}
	s.kill.onResume = func() {
		s.metrics.killed.Set(0)
		if c := s.config.Load(); c != nil {
			c.window.Store(runner.NewWindow(c.plan.Mirror.KillSwitch)) // a fresh start: old failures do not trip again
		}
	}
	s.setConfig(cfg)
	if f := plan.Mirror.KillSwitch.File; f != "" {
		// Checked once now: a session started while the kill file exists
		// mirrors nothing from its first request, whatever the goroutine's
		// scheduling (the self-test found it tripped, or not, by chance).
		s.kill.checkFile(f)
		go s.kill.watchFile(ctx, f)
	}
	for range workers {
		s.workers.Go(s.work)
	}
	return s, nil
}

func newConfig(plan *framework.Plan) (*config, error) {
	comparators, err := runner.Comparators(plan)
	if err != nil {
		return nil, err
	}
	c := &config{plan: plan, sel: selector.New(plan.Endpoints), comparators: comparators, window: new(atomic.Pointer[runner.Window])}
	c.window.Store(runner.NewWindow(plan.Mirror.KillSwitch))
	if plan.Mirror.RPS > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(plan.Mirror.RPS), max(1, int(plan.Mirror.RPS/10)))
	}
	return c, nil
}

func (s *Shadow) setConfig(c *config) {
	c.series = s.metrics.forEndpoints(c.plan.Endpoints)
	s.config.Store(c)
	s.metrics.samplingRate.Set(samplingRate(c.plan))
}

func samplingRate(plan *framework.Plan) float64 {
	switch m := plan.Mirror; {
	case m.Mode == "sampled":
		return m.Rate
	case m.Mode == "selective" && m.SelectiveRate > 0 && m.SelectiveRate < 1:
		return m.SelectiveRate // of the selected endpoints' requests
	}
	return 1
}

// Reload replaces the endpoints, rules, mirror settings and gRPC
// descriptors with plan's, for the requests that follow; the targets stay
// those of the session's start. It checks plan first and, on error, keeps the old one. Endpoints
// may be added, removed or renamed (a new name is a new endpoint): added
// ones get fresh aggregates, removed ones are no longer compared, and
// what they measured stays in the session's results under a name that
// says so (observe.Results.RetireEndpoint), to be judged at the end. An
// endpoint that keeps its name keeps its aggregates and is judged by its
// latest thresholds.
func (s *Shadow) Reload(plan *framework.Plan) (ReloadChanges, error) {
	if plan.Prod.Recorded {
		return ReloadChanges{}, fmt.Errorf("targets.prod.recorded: a live session takes prod's answers from the proxied traffic; remove it")
	}
	c, err := newConfig(plan)
	if err != nil {
		return ReloadChanges{}, err
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	// The gRPC descriptors (.proto files, a descriptor set, or prod's
	// server reflection) are loaded again; if they fail, nothing changes.
	methods, err := s.grpc.reload(plan)
	if err != nil {
		return ReloadChanges{}, err
	}
	n := s.reloads.Add(1)
	old := s.config.Load().plan
	changes := diffEndpoints(old.Endpoints, plan.Endpoints)
	changes.Methods = methods
	changes.Fixed = s.fixedChanges(plan)
	for _, e := range plan.Endpoints { // before the new selector sends them pairs
		s.results.AddEndpoint(e)
	}
	s.setConfig(c)
	for _, name := range changes.Removed {
		retired := fmt.Sprintf("%s (removed by reload %d)", name, n)
		if s.results.RetireEndpoint(name, retired) {
			changes.Kept = append(changes.Kept, retired)
		}
	}
	return changes, nil
}

// ReloadChanges says how a reload changed the session's endpoints.
type ReloadChanges struct {
	// Added and Removed name the endpoints the reload declared and
	// dropped (a renamed endpoint is in both).
	Added, Removed []string
	// Kept names the aggregates of removed endpoints kept for the
	// verdict, as the results now name them.
	Kept []string
	// Methods counts the methods of the reloaded gRPC descriptors (0
	// for a spec without a grpc block).
	Methods int
	// Fixed names the settings the reloaded spec changes that keep their
	// value from the session's start (targets, mirror.concurrency,
	// mirror.maxBodyBytes): a restart applies them.
	Fixed []string
}

// fixedChanges names the settings of plan that differ from the session's
// start but cannot change while it runs.
func (s *Shadow) fixedChanges(plan *framework.Plan) []string {
	var fixed []string
	start := s.start
	if plan.Prod.URL != start.Prod.URL {
		fixed = append(fixed, "targets.prod.url")
	}
	if plan.Shadow.URL != start.Shadow.URL {
		fixed = append(fixed, "targets.shadow.url")
	}
	if plan.Mirror.Concurrency != start.Mirror.Concurrency {
		fixed = append(fixed, "mirror.concurrency")
	}
	if plan.Mirror.MaxBodyBytes != start.Mirror.MaxBodyBytes {
		fixed = append(fixed, "mirror.maxBodyBytes")
	}
	return fixed
}

// String says what changed, e.g. "endpoints added: b; removed: a".
func (c ReloadChanges) String() string {
	var parts []string
	if len(c.Added) > 0 {
		parts = append(parts, "added: "+strings.Join(c.Added, ", "))
	}
	if len(c.Removed) > 0 {
		parts = append(parts, "removed: "+strings.Join(c.Removed, ", "))
	}
	if len(c.Kept) > 0 {
		parts = append(parts, "judged at the end with what they measured: "+strings.Join(c.Kept, ", "))
	}
	text := "same endpoints"
	if len(parts) > 0 {
		text = "endpoints " + strings.Join(parts, "; ")
	}
	if c.Methods > 0 {
		text += fmt.Sprintf("; gRPC descriptors reloaded (%d methods)", c.Methods)
	}
	if len(c.Fixed) > 0 {
		text += "; not applied until a restart: " + strings.Join(c.Fixed, ", ")
	}
	return text
}

func diffEndpoints(old, next []framework.Endpoint) ReloadChanges {
	var c ReloadChanges
	has := func(list []framework.Endpoint, name string) bool {
		return slices.ContainsFunc(list, func(e framework.Endpoint) bool { return e.Name == name })
	}
	for _, e := range next {
		if !has(old, e.Name) {
			c.Added = append(c.Added, e.Name)
		}
	}
	for _, e := range old {
		if !has(next, e.Name) {
			c.Removed = append(c.Removed, e.Name)
		}
	}
	return c
}

// SessionPlan is the plan to judge the session by: the plan in force,
// with every endpoint the results hold (those of the plan in force and
// those removed by a reload that measured something), as the results
// declare them.
func (s *Shadow) SessionPlan() *framework.Plan {
	plan := *s.Plan()
	plan.Endpoints = nil
	s.results.Snapshot(func(r *observe.Results) {
		for _, e := range r.Endpoints {
			if e.Spec != nil {
				plan.Endpoints = append(plan.Endpoints, *e.Spec)
			}
		}
	})
	return &plan
}

// SetRate changes the fraction of matched requests that are mirrored, at
// once: rate 1 mirrors every request (mode full), a smaller rate switches
// to the sampled mode with that rate. In the selective mode the rate
// applies to the selected endpoints' requests and the mode stays: a rate
// never widens what the selection leaves out.
func (s *Shadow) SetRate(rate float64) error {
	if !(rate > 0 && rate <= 1) {
		return fmt.Errorf("rate %v: want 0 < rate <= 1", rate)
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.config.Load()
	plan := *old.plan
	switch {
	case plan.Mirror.Mode == "selective":
		plan.Mirror.SelectiveRate = rate
	case rate == 1:
		plan.Mirror.Mode, plan.Mirror.Rate = "full", 1
	default:
		plan.Mirror.Mode, plan.Mirror.Rate = "sampled", rate
	}
	c := *old
	c.plan = &plan
	s.setConfig(&c)
	return nil
}

// Plan returns the plan in force.
func (s *Shadow) Plan() *framework.Plan { return s.config.Load().plan }

// Switch returns the session's kill switch.
func (s *Shadow) Switch() *Switch { return s.kill }

// Registry returns the registry of the session's metrics.
func (s *Shadow) Registry() *prometheus.Registry { return s.metrics.registry }

// Results returns the session's aggregates.
func (s *Shadow) Results() *observe.Results { return s.results }

// Close stops taking copies, lets the workers finish the queued ones for
// at most the shadow target's timeout (then cancels what is left), and
// applies the learned noise to the aggregates.
func (s *Shadow) Close() {
	s.closed.Do(func() {
		s.grpc.wait() // RPCs being decoded are offered first
		s.gate.Lock()
		s.closing = true
		close(s.queue)
		s.gate.Unlock()
		done := make(chan struct{})
		go func() { s.workers.Wait(); close(done) }()
		grace := s.Plan().Shadow.Timeout
		if grace <= 0 {
			grace = 5 * time.Second
		}
		select {
		case <-done:
		case <-time.After(grace):
			s.stop()
			<-done
		}
		s.stop()
		s.grpc.close()
		s.results.ApplyNoise()
	})
}

// ticket is a request's endpoint, chosen before prod is called, so that a
// request that will not be mirrored is not copied at all.
type ticket struct {
	config   *config
	endpoint int
	name     string
}

// begin selects the endpoint of a request (its body is not needed) and
// counts it as proxied; it returns nil, after counting why, when the
// request will not be mirrored whatever its body.
func (s *Shadow) begin(req *framework.Request) *ticket {
	t := s.match(req)
	if t.endpoint < 0 {
		return nil
	}
	// Small enough to be inlined: the ticket of a handler that does not
	// keep it stays on its stack.
	return &t
}

// match is begin's selection and counting: the request's endpoint in the
// config in force, -1 when no endpoint covers it.
func (s *Shadow) match(req *framework.Request) ticket {
	c := s.config.Load()
	i := c.sel.Match(req)
	if i < 0 {
		label := req.Method + " " + scrub.PathTokens(selector.Template(req.URL)) // a label never shows a token in the path
		if req.RPC != nil {
			label = grpcLabelPrefix + scrub.PathTokens(req.RPC.Method)
		}
		// Capped: live traffic may hold any number of distinct paths,
		// and neither the metrics nor the results may grow with them.
		label = s.metrics.route(label)
		s.results.AddUnmatched(label)
		s.metrics.proxied.WithLabelValues(UnmatchedEndpoint).Inc()
		s.metrics.unmatched.WithLabelValues(label).Inc()
		return ticket{config: c, endpoint: -1}
	}
	c.series[i].proxied.Inc()
	return ticket{config: c, endpoint: i, name: c.plan.Endpoints[i].Name}
}

// copies reports whether an exchange's bodies are copied while prod
// answers: for the recorder (whose sample depends on the body), or for a
// mirror that may send it. Without a recorder, a tripped kill switch, a
// sampling rate of 0, an endpoint the selective mode leaves out or a write
// the policy does not send needs no copy: the request passes as through a
// bare proxy (no capture budget taken, nothing allocated for its bodies),
// and pass counts it.
func (s *Shadow) copies(t *ticket, req *framework.Request) bool {
	if s.opt.Record != nil {
		return true
	}
	return !s.kill.Killed() && !runner.RefusedWhateverTheBody(t.config.plan, t.endpoint, req)
}

// pass counts an exchange that copies did not copy as offer counts it:
// skipped by the spec's filters, or dropped by the kill switch. Without
// its body it is never queued.
func (s *Shadow) pass(t *ticket, start time.Time, req framework.Request) {
	s.offer(t, framework.Exchange{Time: start, Request: req}, DropKilled)
}

// offer decides, with the whole request and prod's answer in hand, whether
// the copy goes to the shadow, and queues it without ever blocking.
// dropReason, when not empty, says why the copy cannot be sent (body over
// the cap, body not read).
func (s *Shadow) offer(t *ticket, ex framework.Exchange, dropReason string) {
	ex.Origin = "live request " + strconv.FormatInt(s.count.Add(1), 10)
	if s.opt.Record != nil && dropReason == "" {
		recorded := ex // Record keeps a copy; ex itself stays off the heap
		s.opt.Record(&recorded)
	}
	plan := t.config.plan
	if reason := runner.Admit(plan, t.endpoint, &ex, s.results, s.opt.Log); reason != "" {
		s.metrics.skipped.WithLabelValues(t.name, reason).Inc()
		return
	}
	switch {
	case dropReason != "":
	case s.kill.Killed():
		dropReason = DropKilled
	case t.config.limiter != nil && !t.config.limiter.Allow():
		dropReason = DropRateLimited
	}
	if dropReason == "" {
		s.gate.RLock()
		defer s.gate.RUnlock()
		if s.closing {
			return // the session is over
		}
		select {
		case s.queue <- job{config: t.config, endpoint: t.endpoint, exchange: ex}:
			t.config.series[t.endpoint].mirrored.Inc()
			return
		default:
			dropReason = DropQueueFull
		}
	}
	s.metrics.dropped.WithLabelValues(t.name, dropReason).Inc()
}

// work sends queued copies to the shadow until the queue is closed.
func (s *Shadow) work() {
	for j := range s.queue {
		if s.ctx.Err() != nil {
			s.metrics.dropped.WithLabelValues(j.config.plan.Endpoints[j.endpoint].Name, DropSessionEnd).Inc()
			continue // the session ended before this copy's turn
		}
		s.mirror(j)
	}
}

func (s *Shadow) mirror(j job) {
	endpoint := &j.config.plan.Endpoints[j.endpoint]
	series := &j.config.series[j.endpoint]
	if s.kill.Killed() {
		s.metrics.dropped.WithLabelValues(endpoint.Name, DropKilled).Inc()
		return
	}
	ctx := s.kill.context()
	// The pair holds the exchange from here on: one copy of it on the
	// heap (the observers keep the pair), not the job's as well.
	pair := &framework.Pair{Endpoint: endpoint.Name, Exchange: j.exchange}
	ex := &pair.Exchange
	if s.opt.Seen != nil {
		s.opt.Seen(ex)
	}
	pair.Prod = *ex.Recorded
	pair.Shadow = s.send(ctx, &ex.Request)
	if ctx.Err() != nil && pair.Shadow.ErrKind == "canceled" {
		s.metrics.dropped.WithLabelValues(endpoint.Name, DropKilled).Inc()
		return // cut by the kill switch or the end of the session: not the shadow's fault
	}
	if pair.Shadow.Failed() {
		s.metrics.shadowErrors.WithLabelValues(pair.Shadow.ErrKind).Inc()
	} else {
		series.shadowLatency.Observe(pair.Shadow.Latency.Seconds())
	}
	if !pair.Prod.Failed() {
		series.prodLatency.Observe(pair.Prod.Latency.Seconds())
	}
	if w := s.config.Load().window.Load(); w.Enabled() {
		if trigger, detail := w.Add(&pair.Shadow); trigger != "" && s.kill.Trip(trigger, detail) {
			s.logf("shadowtest: %s\n", s.kill.Status().LastTrip)
		}
	}
	c := j.config.comparators[j.endpoint]
	diffs, more := c.CompareCounting(&pair.Prod, &pair.Shadow)
	pair.MoreDiffs = more
	if s.opt.ProbeProd && ex.Request.RPC == nil {
		runner.ProbeNoise(ctx, s.prod, j.config.plan, endpoint, c, ex, &pair.Prod, s.results)
	}
	s.results.Add(pair, diffs)
	if !pair.Prod.Failed() { // without prod's answer there is nothing to compare (a prod error)
		series.compared.Inc()
		if len(diffs) == 0 {
			series.matched.Inc()
		}
	}
	for _, category := range pair.Categories {
		s.metrics.discrepancy(endpoint.Name, category).Inc()
	}
	if s.opt.Observe != nil {
		s.opt.Observe(pair, diffs)
	}
}

func (s *Shadow) logf(format string, args ...any) {
	if s.opt.Log != nil {
		fmt.Fprintf(s.opt.Log, format, args...)
	}
}

// ErrStartsStopped is SelfTest's error when the switch is already
// tripped (the kill file exists): the session starts with mirroring
// stopped, and prod's traffic passes as always.
var ErrStartsStopped = errors.New("the kill switch is already tripped: the self-test is skipped and mirroring starts stopped")

// SelfTest trips the kill switch and resumes it once, as the shadow
// pattern asks before any shadow traffic: it returns how long mirroring
// took to stop, measured from the trip to the moment a copy offered
// after it is refused and the shadow requests' context is cancelled.
// A switch already tripped is left as it is (ErrStartsStopped).
func (s *Shadow) SelfTest() (time.Duration, error) {
	if s.kill.Killed() {
		return 0, fmt.Errorf("%w (%s)", ErrStartsStopped, s.kill.Status().LastTrip)
	}
	ctx := s.kill.context()
	start := time.Now()
	s.kill.Trip(TriggerSelfTest, "start-up check")
	<-ctx.Done()
	refused := s.kill.Killed()
	took := time.Since(start)
	s.kill.Resume()
	if !refused {
		return took, fmt.Errorf("the kill switch did not stop mirroring")
	}
	return took, nil
}

// hopHeaders are the hop-by-hop headers (RFC 9110 §7.6.1) that are never
// part of a mirrored request.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// requestOf is the framework request of an incoming one, its body left
// out, its hop-by-hop headers removed. With share, it keeps r's header map
// when there is no hop-by-hop header to remove: the proxy never changes
// r.Header (ReverseProxy works on a clone), and the request is done with
// it when the copy is handed off. An application behind the middleware
// may change it, so the middleware does not share.
func requestOf(r *http.Request, share bool) framework.Request {
	h := r.Header
	if !share || hasHopHeaders(h) {
		h = withoutHopHeaders(h)
	}
	return framework.Request{Method: r.Method, URL: r.URL.RequestURI(), Host: r.Host, Header: h}
}

// hasHopHeaders reports whether h holds a hop-by-hop header.
func hasHopHeaders(h http.Header) bool {
	for _, name := range hopHeaders {
		if _, ok := h[name]; ok {
			return true
		}
	}
	return false
}

// withoutHopHeaders is a copy of h without its hop-by-hop headers, those
// Connection names included.
func withoutHopHeaders(header http.Header) http.Header {
	h := header.Clone()
	for _, f := range h.Values("Connection") {
		for _, name := range splitComma(f) {
			h.Del(name)
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
	return h
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if f := trimSpace(s[start:i]); f != "" {
				out = append(out, f)
			}
			start = i + 1
		}
	}
	return out
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
