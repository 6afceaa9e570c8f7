package ci

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/shadowtest/shadowtest/fixtures/demo"
	"github.com/shadowtest/shadowtest/fixtures/testenv"
)

// The monitoring files under ci/monitoring.
const (
	rulesFile     = "monitoring/shadowtest-live.rules.yml"
	rulesTestFile = "monitoring/shadowtest-live.rules.test.yml"
	dashboardFile = "monitoring/shadowtest-live.dashboard.json"
	promtool      = "/usr/bin/promtool"
)

// requirePromtool installs Debian's prometheus package (it brings
// promtool), and skips only when apt says there is no such package.
func requirePromtool(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(promtool); err != nil {
		if out, err := exec.Command("apt-cache", "show", "prometheus").CombinedOutput(); err != nil || !strings.Contains(string(out), "Package: prometheus") {
			t.Skipf("promtool missing and apt has no prometheus package here (apt-cache show prometheus: %v %s): the rules are not checked", err, strings.TrimSpace(string(out)))
		}
	}
	testenv.Require(t, promtool, "prometheus")
}

// TestMonitoringRulesPassPromtool checks the alert rules with promtool and
// runs their unit tests (each alert fires on its scenario, and not on the
// healthy series), then checks that every dashboard expression is valid
// PromQL by handing them to promtool as recording rules.
func TestMonitoringRulesPassPromtool(t *testing.T) {
	requirePromtool(t)
	for _, args := range [][]string{{"check", "rules", filepath.Base(rulesFile)}, {"test", "rules", filepath.Base(rulesTestFile)}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "monitoring"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range dashboardExprs(t) {
		fmt.Fprintf(&b, "      - record: dashboard:expr_%d\n        expr: %q\n", i, grafanaVars.Replace(e.expr))
	}
	file := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("a dashboard expression is not valid PromQL: %v\n%s\n%s", err, out, b.String())
	}
}

// grafanaVars replaces Grafana's variables with values PromQL accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__range", "1h", "$instance", ".*", "$endpoint", ".*")

// expr is one PromQL expression of the monitoring files and where it is.
type expr struct{ where, expr string }

// dashboardExprs parses the dashboard and returns every query: panel
// targets and variable queries.
func dashboardExprs(t *testing.T) []expr {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name, Type string
				Query      json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s does not parse as JSON: %v", dashboardFile, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("%s: no title, uid or panels", dashboardFile)
	}
	var exprs []expr
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			exprs = append(exprs, expr{"panel " + p.Title, target.Expr})
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+), *[a-z_]+\)$`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Fatalf("variable %s: %q is not label_values(SELECTOR, LABEL)", v.Name, q.Query)
		}
		exprs = append(exprs, expr{"variable " + v.Name, m[1]})
	}
	return exprs
}

// ruleExprs parses the alert rules and returns every expression.
func ruleExprs(t *testing.T) []expr {
	t.Helper()
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var exprs []expr
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, expr{"alert " + r.Alert, r.Expr})
		}
	}
	return exprs
}

// TestMonitoringNamesRealMetrics runs two real `shadowtest proxy` sessions
// in front of the demo (one with a healthy shadow, one with a refused
// shadow), sends traffic that makes every metric appear (pairs, a
// discrepancy, a write, an unmatched path, a kill, a refused copy),
// scrapes /metrics with expfmt, and checks that every metric and label the
// dashboard and the alert rules name is one the proxy really exports.
func TestMonitoringNamesRealMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs shadowtest proxy")
	}
	bin := filepath.Join(t.TempDir(), "shadowtest")
	build := exec.Command("go", "build", "-o", bin, "../cmd/shadowtest")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building shadowtest: %v\n%s", err, out)
	}
	prod, err := demo.Start(demo.V1, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	shadow, err := demo.Start(demo.V2, demo.Options{Regression: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Close()
	refused := freeAddr(t)

	exported := map[string]map[string]bool{} // family -> its label names
	merge := func(families map[string]*dto.MetricFamily) {
		for name, f := range families {
			if exported[name] == nil {
				exported[name] = map[string]bool{}
			}
			for _, m := range f.Metric {
				for _, l := range m.Label {
					exported[name][l.GetName()] = true
				}
			}
			if f.GetType() == dto.MetricType_HISTOGRAM {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					exported[name+suffix] = exported[name]
				}
				exported[name+"_bucket"]["le"] = true
			}
		}
	}

	// Sampled at one half, so that some requests are skipped.
	healthy := startProxy(t, bin, prod.URL, shadow.URL, "--mode", "sampled", "--rate", "0.5")
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 40 {
		healthy.get(t, client, fmt.Sprintf("/users/%d", i%10+1))
		healthy.get(t, client, fmt.Sprintf("/orders/%d", i+1)) // a quarter lose their currency
	}
	healthy.get(t, client, "/no/such/endpoint")
	healthy.waitFor(t, "shadowtest_live_compared_pairs_total")
	healthy.waitFor(t, "shadowtest_live_discrepancies_total")
	healthy.waitFor(t, "shadowtest_live_skipped_requests_total")
	healthy.control(t, client, "/kill")
	for i := range 10 { // those sampled in are dropped
		healthy.get(t, client, fmt.Sprintf("/orders/%d", i+1))
	}
	healthy.waitFor(t, "shadowtest_live_dropped_requests_total")
	merge(healthy.scrape(t))

	dead := startProxy(t, bin, prod.URL, "http://"+refused)
	for range 5 {
		dead.get(t, client, "/users/2")
	}
	dead.waitFor(t, "shadowtest_live_shadow_errors_total")
	merge(dead.scrape(t))

	// The demo's spec with a ramp, recording: the ramp's and the
	// recorder's metrics.
	ramped := t.TempDir()
	demoSpecs, _ := filepath.Glob("../specs/demo/*.cue")
	for _, f := range demoSpecs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(ramped, filepath.Base(f)), data, 0o644)
	}
	os.WriteFile(filepath.Join(ramped, "ramp.cue"), []byte("package shadow\n\nmirror: ramp: {steps: [0.5, 1.0], minDuration: \"1h\"}\n"), 0o644)
	recording := startProxyOn(t, bin, ramped, prod.URL, shadow.URL, "--record", filepath.Join(t.TempDir(), "rec")+"/")
	recording.get(t, client, "/users/1")
	recording.waitFor(t, "shadowtest_ramp_step")
	merge(recording.scrape(t))

	var live []string
	for name := range exported {
		if strings.HasPrefix(name, "shadowtest_") && !strings.HasSuffix(name, "_bucket") && !strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") {
			live = append(live, name)
		}
	}
	sort.Strings(live)
	t.Logf("the proxy exports: %s", strings.Join(live, ", "))

	metricName := regexp.MustCompile(`\bshadowtest_[a-z_]+`)
	grouping := regexp.MustCompile(`\b(?:by|without) *\(([^)]*)\)`)
	matcher := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*) *(?:=~|!~|!=|=)`)
	named := map[string]bool{}
	exprs := append(ruleExprs(t), dashboardExprs(t)...)
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found in the monitoring files", len(exprs))
	}
	for _, e := range exprs {
		names := metricName.FindAllString(e.expr, -1)
		if len(names) == 0 {
			t.Errorf("%s names no shadowtest metric: %s", e.where, e.expr)
		}
		labels := map[string]bool{"job": true, "instance": true}
		for _, n := range names {
			if exported[n] == nil {
				t.Errorf("%s names %s, which the proxy does not export", e.where, n)
				continue
			}
			named[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")] = true
			for l := range exported[n] {
				labels[l] = true
			}
		}
		var used []string
		for _, m := range grouping.FindAllStringSubmatch(e.expr, -1) {
			for _, l := range strings.Split(m[1], ",") {
				used = append(used, strings.TrimSpace(l))
			}
		}
		for _, m := range matcher.FindAllStringSubmatch(e.expr, -1) {
			used = append(used, m[1])
		}
		for _, l := range used {
			if l != "" && !labels[l] {
				t.Errorf("%s uses label %q, which none of its metrics (%s) has", e.where, l, strings.Join(names, ", "))
			}
		}
	}
	for _, want := range []string{"shadowtest_live_matched_pairs_total", "shadowtest_live_compared_pairs_total", "shadowtest_live_shadow_errors_total", "shadowtest_live_kill_switch_tripped"} {
		if !named[want] {
			t.Errorf("the monitoring files never use %s", want)
		}
	}
	var unused []string
	for _, n := range live {
		if strings.HasPrefix(n, "shadowtest_live_") && !named[n] {
			unused = append(unused, n)
		}
	}
	if len(unused) > 0 {
		t.Logf("metrics on no dashboard panel or rule (consider adding them): %s", strings.Join(unused, ", "))
	}
}

// proxySession is a running `shadowtest proxy`.
type proxySession struct {
	front, admin string
	cmd          *exec.Cmd
	log          string // its output
}

func (p *proxySession) output() string {
	data, _ := os.ReadFile(p.log)
	return tail(data)
}

const adminToken = "monitoring-test-token"

func startProxy(t *testing.T, bin, prodURL, shadowURL string, extra ...string) *proxySession {
	t.Helper()
	specs, err := filepath.Abs("../specs/demo")
	if err != nil {
		t.Fatal(err)
	}
	return startProxyOn(t, bin, specs, prodURL, shadowURL, extra...)
}

// startProxyOn is startProxy on another spec directory.
func startProxyOn(t *testing.T, bin, specs, prodURL, shadowURL string, extra ...string) *proxySession {
	t.Helper()
	dir := t.TempDir()
	p := &proxySession{front: freeAddr(t), admin: freeAddr(t), log: filepath.Join(dir, "proxy.log")}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	args := append([]string{"proxy", specs, "-t", "prod=" + prodURL, "-t", "shadow=" + shadowURL,
		"--listen", p.front, "--admin", p.admin, "--quiet", "--junit", filepath.Join(dir, "junit.xml")}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1", "SHADOWTEST_ADMIN_TOKEN="+adminToken)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.front, p.admin = "http://"+p.front, "http://"+p.admin
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.admin + "/status")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", strings.TrimPrefix(p.front, "http://")); err == nil {
				c.Close()
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("shadowtest proxy does not listen after 60s:\n%s", p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proxySession) get(t *testing.T, client *http.Client, path string) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.front+path, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s through the proxy: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func (p *proxySession) control(t *testing.T, client *http.Client, path string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.admin+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

func (p *proxySession) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := testenv.ScrapeMetrics(p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// waitFor waits until the proxy exports the metric (copies are compared
// asynchronously).
func (p *proxySession) waitFor(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if f := p.scrape(t)[name]; f != nil && len(f.Metric) > 0 {
			return
		}
		if time.Now().After(deadline) {
			var have []string
			for n := range p.scrape(t) {
				have = append(have, n)
			}
			slices.Sort(have)
			t.Fatalf("the proxy never exported %s; it has %s\n%s", name, strings.Join(have, ", "), p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
