package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/suite"
)

// noisyService answers GET /orders/{id} and GET /carts/{id} with a random
// token and the current time in every response (noise), and deterministic
// fields computed from the id. regression plants a bug in the deterministic
// total of every fourth order. Carts carry a "cache" field that prod
// changes when one cart in four is asked again, and that the shadow always
// changes (to a value of prod's shape): noisy in prod, but a real
// difference between prod and the shadow, which the Fisher test keeps.
func noisyService(shadow bool) http.Handler {
	var calls sync.Map // cart id → *atomic.Int64 calls
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := make([]byte, 8)
		rand.Read(token)
		kind, idText, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		id, _ := strconv.Atoi(idText)
		w.Header().Set("Content-Type", "application/json")
		switch kind {
		case "orders":
			total := 10 * id
			if shadow && id%4 == 0 {
				total++ // the planted regression
			}
			fmt.Fprintf(w, `{"id":%d,"token":%q,"at":%q,"total":%d,"items":[{"sku":"a","qty":%d}]}`,
				id, hex.EncodeToString(token), time.Now().Format(time.RFC3339Nano), total, id%3)
		case "carts":
			cache := "hit"
			if n, _ := calls.LoadOrStore(id, new(atomic.Int64)); n.(*atomic.Int64).Add(1) > 1 && id%4 == 0 {
				cache = "miss" // a repeated call for one cart in four
			}
			if shadow {
				cache = "miss" // prod's shape, far more often than prod
			}
			fmt.Fprintf(w, `{"id":%d,"token":%q,"cache":%q}`, id, hex.EncodeToString(token), cache)
		default:
			http.NotFound(w, r)
		}
	})
}

// noisePlan replays n orders and n carts against prod and shadow with no
// ignore rule at all, probing noise at the given rate.
func noisePlan(t *testing.T, prod, shadow string, n int, probe float64) *framework.Plan {
	t.Helper()
	dir := t.TempDir()
	var traffic strings.Builder
	for i := range n {
		fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/orders/%d"}}`+"\n", i)
		fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/carts/%d"}}`+"\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(traffic.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	endpoint := func(name, path string) framework.Endpoint {
		return framework.Endpoint{Name: name, Method: "GET", Path: path, Noise: framework.Noise{Probe: probe},
			Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 10}}
	}
	return &framework.Plan{
		Dir:       dir,
		Prod:      framework.Target{Name: "prod", URL: prod, Timeout: 10 * time.Second},
		Shadow:    framework.Target{Name: "shadow", URL: shadow, Timeout: 10 * time.Second},
		Traffic:   []framework.TrafficSource{{Format: "jsonl", Path: "traffic.jsonl"}},
		Mirror:    framework.Mirror{Mode: "full", Concurrency: 4, Writes: "skip", MaxBodyBytes: 1 << 20},
		Endpoints: []framework.Endpoint{endpoint("get-order", "/orders/{id}"), endpoint("get-cart", "/carts/{id}")},
	}
}

func runNoise(t *testing.T, probe float64) *observe.Results {
	t.Helper()
	prod := httptest.NewServer(noisyService(false))
	defer prod.Close()
	shadow := httptest.NewServer(noisyService(true))
	defer shadow.Close()
	plan := noisePlan(t, prod.URL, shadow.URL, 160, probe)
	results := observe.NewResults(plan.Endpoints)
	if err := Run(context.Background(), plan, results, Options{}); err != nil {
		t.Fatal(err)
	}
	return results
}

// TestNoiseLearning is the end-to-end noise test: prod is
// non-deterministic, there is no ignore rule, and noise learning must
// remove the false mismatches while the planted regression in a
// deterministic field still fails the match rate, and a field that is
// noisy in prod but differs far more often from the shadow is reported.
func TestNoiseLearning(t *testing.T) {
	without := runNoise(t, 0).Endpoint("get-order")
	if without.MatchRate() != 0 {
		t.Fatalf("without noise learning every order should differ (token, at), match rate %.3f", without.MatchRate())
	}

	results := runNoise(t, 0.25)
	orders, carts := results.Endpoint("get-order"), results.Endpoint("get-cart")
	if orders.Probes == 0 || carts.Probes == 0 {
		t.Fatalf("no probes sent: orders %d, carts %d", orders.Probes, carts.Probes)
	}
	// Orders: token and at are noise, total is the regression (1 in 4).
	for _, path := range []string{"$.token", "$.at"} {
		n := orders.Noise[path]
		if n == nil || n.Reported || n.Count != orders.Probes {
			t.Errorf("orders: %s should be hidden noise that changed in every probe, got %+v (probes %d)", path, n, orders.Probes)
		}
		if c := orders.Categories["value "+path]; c != nil {
			t.Errorf("orders: noise path %s still counted: %+v", path, c)
		}
	}
	if n := orders.Noise["$.total"]; n != nil {
		t.Errorf("a deterministic field must never be noise, got %+v", n)
	}
	regression := orders.Categories["value $.total"]
	if regression == nil || regression.Count != orders.Pairs/4 {
		t.Fatalf("the planted regression must be reported in 1 of 4 pairs: %+v over %d pairs", regression, orders.Pairs)
	}
	if want := float64(orders.Pairs-orders.Pairs/4) / float64(orders.Pairs); orders.MatchRate() != want {
		t.Errorf("orders match rate %.3f, want %.3f: only the regression may count", orders.MatchRate(), want)
	}
	if ok, _ := suite.HoldMatchRate(orders.Spec.Thresholds).Match(orders); ok {
		t.Errorf("the match-rate threshold 0.9 must fail on the regression (rate %.3f)", orders.MatchRate())
	}
	if len(orders.Categories) != 1 {
		t.Errorf("orders: only the regression should be left, got %v", orders.TopCategories(0))
	}

	// Carts: cache changes in ~1/4 of prod probes but in every shadow pair.
	cache := carts.Noise["$.cache"]
	if cache == nil || !cache.Reported || cache.Decision != observe.NoiseCounted {
		t.Fatalf("carts: $.cache is noisy in prod but differs from the shadow far more often: must stay reported, got %+v", cache)
	}
	if c := carts.Categories["value $.cache"]; c == nil || c.Count != carts.Pairs {
		t.Errorf("carts: value $.cache must still count in every pair, got %+v of %d", c, carts.Pairs)
	}
	if carts.Categories["value $.token"] != nil {
		t.Errorf("carts: the token is noise")
	}
}

// TestNoiseOfTheConnection: a service that echoes the client's address
// (its port changes with the connection) is compared with an identical
// shadow. The shadow is always asked on another connection, so the port
// always differs between prod and the shadow; the probe must ask prod on a
// connection of its own too, or prod would differ from itself only when
// the pool happened to open a new one, and the Fisher test would count the
// path in some runs and not in others (with one connection: every run).
func TestNoiseOfTheConnection(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"origin":%q,"path":%q}`, r.RemoteAddr, r.URL.Path)
	})
	prod := httptest.NewServer(echo)
	defer prod.Close()
	shadow := httptest.NewServer(echo)
	defer shadow.Close()
	for _, concurrency := range []int{1, 4} {
		plan := noisePlan(t, prod.URL, shadow.URL, 20, 1)
		plan.Mirror.Concurrency = concurrency
		results := observe.NewResults(plan.Endpoints)
		if err := Run(context.Background(), plan, results, Options{}); err != nil {
			t.Fatal(err)
		}
		orders := results.Endpoint("get-order")
		n := orders.Noise["$.origin"]
		if n == nil || n.Reported || n.Count != orders.Probes || orders.MatchRate() != 1 {
			t.Errorf("concurrency %d: $.origin changes with the connection, in prod as between prod and the shadow: want hidden noise in every probe and match rate 1, got %+v (probes %d), match rate %.3f",
				concurrency, n, orders.Probes, orders.MatchRate())
		}
	}
}

// TestProbedWherever: which requests are probed must not depend on the
// path the traffic file was reached by (the record's origin): the same
// spec run from another working directory, or in a CI workspace with
// another path, probed other requests and decided noise otherwise.
func TestProbedWherever(t *testing.T) {
	differ := 0
	for i := range 1000 {
		at := time.Unix(1700000000, int64(i)*1e6)
		req := framework.Request{Method: "GET", URL: fmt.Sprintf("/orders/%d", i%50)}
		here := framework.Exchange{Origin: fmt.Sprintf("specs/t.jsonl: line %d", i+1), Time: at, Request: req}
		there := framework.Exchange{Origin: fmt.Sprintf("/builds/ci/job-7/specs/t.jsonl: line %d", i+1), Time: at, Request: req}
		if probed(&here, 0.25) != probed(&there, 0.25) {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("%d of 1000 requests probed or not depending on the traffic file's path", differ)
	}
}
