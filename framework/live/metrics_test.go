package live

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
)

// scrape reads the session's /metrics through the admin handler and parses
// it as Prometheus scrapes it.
func scrape(t testing.TB, s *Shadow) map[string]*dto.MetricFamily {
	t.Helper()
	admin := httptest.NewServer(Admin(s, ""))
	defer admin.Close()
	families, err := testenv.ScrapeMetrics(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// counter returns the value of the named counter or gauge with the given
// labels, 0 when absent.
func counter(t testing.TB, s *Shadow, name string, labels map[string]string) float64 {
	t.Helper()
	f := scrape(t, s)[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func TestMetricsCoverTheSession(t *testing.T) {
	prod := serve(t, item("12.5"))
	shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/items/down" {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // a reset: no answer
			return
		}
		price := "12.5"
		if r.URL.Path == "/items/2" {
			price = "99"
		}
		item(price)(w, r)
	})
	plan := testPlan(prod.URL, shadow.URL)
	s, front := session(t, plan, Options{})
	for _, path := range []string{"/items/1", "/items/2", "/items/down", "/nowhere/7"} {
		get(t, front.URL+path)
	}
	resp, err := http.Post(front.URL+"/items", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, "3 pairs", func() bool {
		return counter(t, s, "shadowtest_live_compared_pairs_total", map[string]string{"endpoint": "items"}) == 3
	})

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"shadowtest_live_proxied_requests_total", map[string]string{"endpoint": "items"}, 3},
		{"shadowtest_live_proxied_requests_total", map[string]string{"endpoint": UnmatchedEndpoint}, 1},
		{"shadowtest_live_unmatched_requests_total", map[string]string{"route": "GET /nowhere/{id}"}, 1},
		{"shadowtest_live_mirrored_requests_total", map[string]string{"endpoint": "items"}, 3},
		{"shadowtest_live_skipped_requests_total", map[string]string{"endpoint": "create", "reason": "write skipped"}, 1},
		{"shadowtest_live_compared_pairs_total", map[string]string{"endpoint": "items"}, 3},
		{"shadowtest_live_matched_pairs_total", map[string]string{"endpoint": "items"}, 1},
		{"shadowtest_live_discrepancies_total", map[string]string{"endpoint": "items", "category": "value $.price"}, 1},
		{"shadowtest_live_shadow_errors_total", map[string]string{"kind": "reset"}, 1},
		{"shadowtest_live_prod_latency_seconds", map[string]string{"endpoint": "items"}, 3},
		{"shadowtest_live_shadow_latency_seconds", map[string]string{"endpoint": "items"}, 2},
		{"shadowtest_live_proxy_added_latency_seconds", nil, 5},
		{"shadowtest_live_kill_switch_tripped", nil, 0},
		{"shadowtest_live_sampling_rate", nil, 1},
	} {
		if got := counter(t, s, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// The exposition follows Prometheus' naming conventions.
	admin := httptest.NewServer(Admin(s, ""))
	defer admin.Close()
	resp, err = http.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	problems, err := promlint.New(resp.Body).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "shadowtest_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestMetricsCardinalityIsBounded(t *testing.T) {
	prod := serve(t, item("1"))
	shadow := serve(t, item("1"))
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	for i := range 3 * maxUnmatchedRoutes {
		get(t, front.URL+"/r"+strconv.Itoa(i)+"/x")
	}
	f := scrape(t, s)["shadowtest_live_unmatched_requests_total"]
	if len(f.Metric) != maxUnmatchedRoutes+1 {
		t.Fatalf("%d unmatched series, want at most %d plus %s", len(f.Metric), maxUnmatchedRoutes, OtherLabel)
	}
	if n := len(s.Results().Unmatched); n != maxUnmatchedRoutes+1 {
		t.Fatalf("the results keep %d unmatched routes, want at most %d plus %s", n, maxUnmatchedRoutes, OtherLabel)
	}
}

func TestSetRateChangesSamplingAtRuntime(t *testing.T) {
	prod := serve(t, item("1"))
	shadow := serve(t, item("1"))
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	admin := httptest.NewServer(Admin(s, "tok"))
	defer admin.Close()
	req, _ := http.NewRequest("POST", admin.URL+"/rate?value=0.1", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /rate: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := counter(t, s, "shadowtest_live_sampling_rate", nil); got != 0.1 {
		t.Fatalf("sampling_rate %v", got)
	}
	for i := range 400 {
		get(t, front.URL+"/items/"+strconv.Itoa(i))
	}
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	mirrored := shadow.n.Load()
	if mirrored < 15 || mirrored > 70 {
		t.Fatalf("%d of 400 mirrored at rate 0.1", mirrored)
	}
	if sampled := s.Results().Filtered["sampled out"]; sampled+mirrored != 400 {
		t.Fatalf("sampled out %d + mirrored %d != 400", sampled, mirrored)
	}
}

// sum adds up every series of the named counter.
func sum(t testing.TB, s *Shadow, name string) float64 {
	t.Helper()
	var total float64
	if f := scrape(t, s)[name]; f != nil {
		for _, m := range f.Metric {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}
