package live

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shadowtest/shadowtest/framework"
)

// Label values with a meaning of their own.
const (
	// UnmatchedEndpoint is the endpoint label of requests no endpoint covers.
	UnmatchedEndpoint = "(unmatched)"
	// UpgradeEndpoint is the endpoint label of upgrade requests
	// (WebSocket), passed through to prod and never mirrored.
	UpgradeEndpoint = "(upgrade)"
	// OtherLabel stands for the label values past a metric's cardinality
	// cap.
	OtherLabel = "(other)"
)

// Cardinality caps: a hostile client or shadow cannot grow the metrics
// without bound.
const (
	maxUnmatchedRoutes       = 100
	maxRouteBytes            = 200
	maxCategoriesPerEndpoint = 50
)

// Reasons a copy of an admitted request is dropped to protect prod, as
// the reason label of shadowtest_live_dropped_requests_total shows them.
// Requests the spec's policy does not mirror are counted in
// shadowtest_live_skipped_requests_total with runner.Admit's reasons.
const (
	DropQueueFull   = "queue full"
	DropBodyTooBig  = "body over cap"
	DropBodyUnread  = "body not read by prod"
	DropKilled      = "kill switch"
	DropRateLimited = "rate limit"
	DropSessionEnd  = "session ended"
	// DropAnswerCut: the application behind the Middleware did not give
	// its client a whole answer (the client went away mid-answer, a write
	// failed, or fewer bytes than its Content-Length were written), so
	// there is no whole answer to compare or record.
	DropAnswerCut = "answer cut"
	// DropCapturesInFlight (budget.go) and the gRPC reasons
	// (grpcside.go) are the other values.
)

// metrics are the live side's Prometheus metrics, on a registry of their
// own (Shadow.Registry).
type metrics struct {
	registry *prometheus.Registry

	proxied, mirrored, compared, matched *prometheus.CounterVec
	skipped, dropped                     *prometheus.CounterVec
	unmatched                            *prometheus.CounterVec
	discrepancies                        *prometheus.CounterVec
	prodLatency, shadowLatency           *prometheus.HistogramVec
	shadowErrors                         *prometheus.CounterVec
	killed                               prometheus.Gauge
	trips                                *prometheus.CounterVec
	samplingRate                         prometheus.Gauge
	added                                prometheus.Histogram

	mu         sync.Mutex
	routes     map[string]bool
	categories map[string]*endpointCategories // discrepancy
}

// latencyBuckets cover 100 µs to 10 s.
var latencyBuckets = prometheus.ExponentialBucketsRange(0.0001, 10, 16)

func newMetrics(queueLen func() float64, captures *captureBudget) *metrics {
	r := prometheus.NewRegistry()
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "shadowtest", Subsystem: "live", Name: name, Help: help}, labels)
		r.MustRegister(c)
		return c
	}
	m := &metrics{registry: r, routes: map[string]bool{}, categories: map[string]*endpointCategories{}}
	m.proxied = f("proxied_requests_total", "Requests forwarded to prod, by spec endpoint.", "endpoint")
	m.mirrored = f("mirrored_requests_total", "Copies queued for the shadow, by endpoint.", "endpoint")
	m.skipped = f("skipped_requests_total", "Requests of an endpoint not mirrored by the spec's policy (write policy, sampled out, not selected, record-only, upgrade), by endpoint and reason.", "endpoint", "reason")
	m.dropped = f("dropped_requests_total", "Copies dropped to protect prod (queue full, body over cap, captures in flight, kill switch, rate limit) or without a whole answer (body not read by prod, answer cut), by endpoint and reason.", "endpoint", "reason")
	m.unmatched = f("unmatched_requests_total", "Requests no spec endpoint covers, by method and path template (at most 100 routes, then (other)).", "route")
	m.compared = f("compared_pairs_total", "Prod and shadow answer pairs compared, by endpoint.", "endpoint")
	m.matched = f("matched_pairs_total", "Compared pairs that matched under the endpoint's rules, by endpoint.", "endpoint")
	m.discrepancies = f("discrepancies_total", "Differing pairs by endpoint and discrepancy category, folded as in reports (at most 50 categories per endpoint, then (other)).", "endpoint", "category")
	m.shadowErrors = f("shadow_errors_total", "Shadow requests that got no HTTP answer, by kind (refused, timeout, reset, tls, other).", "kind")
	m.trips = f("kill_switch_trips_total", "Kill switch trips by trigger (the start-up self-test counts as self-test).", "trigger")
	h := func(name, help string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "shadowtest", Subsystem: "live", Name: name, Help: help, Buckets: latencyBuckets}, []string{"endpoint"})
		r.MustRegister(v)
		return v
	}
	m.prodLatency = h("prod_latency_seconds", "Prod's latency for mirrored requests, request sent to body read, by endpoint.")
	m.shadowLatency = h("shadow_latency_seconds", "The shadow's latency, request sent to body read, by endpoint.")
	m.added = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "shadowtest", Subsystem: "live", Name: "proxy_added_latency_seconds", Help: "Time the proxy adds on the prod path: the handler's time minus prod's round trip.",
		Buckets: prometheus.ExponentialBucketsRange(0.00001, 1, 16)})
	m.killed = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "live", Name: "kill_switch_tripped", Help: "1 while the kill switch stops mirroring, else 0."})
	m.samplingRate = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "live", Name: "sampling_rate", Help: "Fraction of matched requests mirrored by the mirror mode (1 in full mode)."})
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "live", Name: "queue_length", Help: "Copies waiting for a shadow worker."}, queueLen)
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "live", Name: "capture_bytes_in_flight", Help: "Bytes held by the copies of requests and prod's answers not yet queued (HTTP and gRPC), at most capture_budget_bytes."},
		func() float64 { return float64(captures.used.Load()) })
	budget := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "live", Name: "capture_budget_bytes", Help: "The budget of captures in flight: a copy that does not fit is dropped (reason captures in flight)."},
		func() float64 { return float64(captures.limit) })
	r.MustRegister(m.added, m.killed, m.samplingRate, queue, inFlight, budget,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// endpointMetrics are one endpoint's labelled series, resolved once when a
// configuration is set instead of looked up by label value (a hash and a
// map under a lock) several times for every request.
type endpointMetrics struct {
	proxied, mirrored, compared, matched prometheus.Counter
	prodLatency, shadowLatency           prometheus.Observer
}

// forEndpoints resolves the series of each endpoint, in the plan's order.
// They start at zero, so that a rate over them exists from the start.
func (m *metrics) forEndpoints(endpoints []framework.Endpoint) []endpointMetrics {
	out := make([]endpointMetrics, len(endpoints))
	for i, e := range endpoints {
		out[i] = endpointMetrics{
			proxied:       m.proxied.WithLabelValues(e.Name),
			mirrored:      m.mirrored.WithLabelValues(e.Name),
			compared:      m.compared.WithLabelValues(e.Name),
			matched:       m.matched.WithLabelValues(e.Name),
			prodLatency:   m.prodLatency.WithLabelValues(e.Name),
			shadowLatency: m.shadowLatency.WithLabelValues(e.Name),
		}
	}
	return out
}

// route bounds the unmatched routes' label values: at most
// maxUnmatchedRoutes of them, each valid UTF-8 (the Prometheus client
// panics on anything else, and HTTP/2 lets a client send any byte above
// 0x7f in a method or a gRPC path) and at most maxRouteBytes long.
func (m *metrics) route(label string) string {
	label = strings.ToValidUTF8(label, "\uFFFD")
	if len(label) > maxRouteBytes {
		cut := maxRouteBytes
		for cut > 0 && !utf8.RuneStart(label[cut]) {
			cut--
		}
		label = label[:cut] + "…"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.routes[label] {
		return label
	}
	if len(m.routes) >= maxUnmatchedRoutes {
		return OtherLabel
	}
	m.routes[label] = true
	return label
}

// discrepancy is the series that counts an endpoint's discrepancies of a
// category, its label value bounded (valid UTF-8, as route: a panic in a
// shadow worker would end the process; at most maxCategoriesPerEndpoint
// values, then OtherLabel). The series is kept with the category, so
// that a pair's categories cost a map lookup, not a label lookup each.
func (m *metrics) discrepancy(endpoint, category string) prometheus.Counter {
	category = strings.ToValidUTF8(category, "\uFFFD")
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := m.categories[endpoint]
	if seen == nil {
		seen = &endpointCategories{series: map[string]prometheus.Counter{}}
		m.categories[endpoint] = seen
	}
	if c := seen.series[category]; c != nil {
		return c
	}
	if len(seen.series) >= maxCategoriesPerEndpoint {
		if seen.other == nil {
			seen.other = m.discrepancies.WithLabelValues(endpoint, OtherLabel)
		}
		return seen.other
	}
	c := m.discrepancies.WithLabelValues(endpoint, category)
	seen.series[category] = c
	return c
}

// endpointCategories are the discrepancy series of one endpoint: by
// category, and the one of the categories past the cap.
type endpointCategories struct {
	series map[string]prometheus.Counter
	other  prometheus.Counter
}
