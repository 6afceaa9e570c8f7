package live

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
	"github.com/shadowtest/shadowtest/framework/spec"
)

// grpcSpec writes a spec directory for the Items service between prod and
// shadow (host:port each), with extra CUE appended, and loads it.
func grpcSpec(t testing.TB, prod, shadow, extra string) *framework.Plan {
	t.Helper()
	return grpcSpecIn(t, t.TempDir(), "grpc://"+prod, "grpc://"+shadow, extra)
}

// grpcSpecIn writes the spec in dir with the targets' URLs.
func grpcSpecIn(t testing.TB, dir, prod, shadow, extra string) *framework.Plan {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "items.proto"), []byte(itemsProto), 0o644)
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(fmt.Sprintf(`package shadow

targets: prod: url: %q
targets: shadow: {url: %q, timeout: "1s"}
grpc: protos: ["items.proto"]
mirror: concurrency: 4
endpoints: {
	get: {grpc: "shadowtest.live.v1.Items/Get", thresholds: minSamples: 1}
	list: {grpc: "shadowtest.live.v1.Items/List", thresholds: minSamples: 1}
	collect: {grpc: "shadowtest.live.v1.Items/Collect", safe: true}
	chat: {grpc: "shadowtest.live.v1.Items/Chat", safe: true}
}
%s
`, prod, shadow, extra)), 0o644)
	plan, err := spec.Load(dir, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// endpointResults copies an endpoint's aggregates so far (the maps
// too: the workers keep adding to them).
func endpointResults(s *Shadow, name string) (e observe.Endpoint) {
	s.results.Snapshot(func(r *observe.Results) {
		for _, x := range r.Endpoints {
			if x.Name == name {
				e = *x
				e.ShadowErrors, e.Filtered = maps.Clone(x.ShadowErrors), maps.Clone(x.Filtered)
				e.Categories = map[string]*observe.Category{}
				for k, c := range x.Categories {
					copied := *c
					e.Categories[k] = &copied
				}
			}
		}
	})
	return e
}

// TestGRPCMirrorsAndCompares: selected unary and server-streaming calls
// are sent to the shadow with their metadata and compared under the spec's
// rules (the shadow's price differs); client and bidirectional streams
// reach prod only and are counted as not mirrored.
func TestGRPCMirrorsAndCompares(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	shadow := serveItems(t, svc, "v2", 13.5)
	s, front := grpcSession(t, grpcSpec(t, prod.addr, shadow.addr, ""), Options{})
	conn := dial(t, strings.TrimPrefix(front.URL, "http://"))
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-tenant", "acme"), 10*time.Second)
	defer cancel()
	for _, id := range []string{"1", "2", "3"} {
		if got := invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": id})); got.status.Code() != 0 || field(got.messages[0], "price").Float() != 12.5 {
			t.Fatalf("Get %s through the proxy: %v %v", id, got.status, got.messages)
		}
	}
	invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": "8", "fail": "NOT_FOUND"}))
	if got := invoke(ctx, conn, svc, "List", svc.newQuery(map[string]any{"id": "s", "count": int32(3)})); len(got.messages) != 3 {
		t.Fatalf("List: %d messages", len(got.messages))
	}
	invoke(ctx, conn, svc, "Collect", svc.newQuery(map[string]any{"id": "a"}), svc.newQuery(map[string]any{"id": "b"}))
	invoke(ctx, conn, svc, "Chat", svc.newQuery(map[string]any{"id": "a"}))

	eventually(t, "5 pairs compared", func() bool { return endpointResults(s, "get").Pairs+endpointResults(s, "list").Pairs == 5 })
	get, list := endpointResults(s, "get"), endpointResults(s, "list")
	if get.Matches != 1 || get.Categories["value $.price"] == nil || get.Categories["value $.price"].Count != 3 {
		t.Errorf("get: %d matches, categories %v; want the NOT_FOUND pair to match and 3 pairs to differ on $.price", get.Matches, keys(get.Categories))
	}
	if list.Matches != 0 || list.Categories["value $[*].price"] == nil {
		t.Errorf("list: %d matches, categories %v; want the stream to differ on $[*].price", list.Matches, keys(list.Categories))
	}
	if n := shadow.calls.Load(); n != 5 {
		t.Errorf("the shadow got %d calls, want 5 (4 Get, 1 List; no client or bidi stream)", n)
	}
	shadow.mu.Lock()
	for _, md := range shadow.metadata {
		if strings.Join(md.Get("x-tenant"), ",") != "acme" {
			t.Errorf("the shadow got metadata %v, want x-tenant: acme", md)
		}
	}
	shadow.mu.Unlock()
	for _, name := range []string{"collect", "chat"} {
		// Calls are decoded off the client's path: the drop is counted
		// after the client has its answer.
		dropped := func() float64 {
			return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": name, "reason": DropClientStream})
		}
		eventually(t, name+"'s copy counted as dropped", func() bool { return dropped() >= 1 })
		if n := dropped(); n != 1 {
			t.Errorf("%s: %v copies dropped as %q, want 1", name, n, DropClientStream)
		}
	}
	if n := prod.calls.Load(); n != 7 {
		t.Errorf("prod got %d calls, want 7", n)
	}
}

// TestGRPCKillSwitchAndSampling: a tripped kill switch sends no copy; the
// sampled mode mirrors a deterministic part of the calls.
func TestGRPCKillSwitchAndSampling(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	shadow := serveItems(t, svc, "v1", 12.5)
	s, front := grpcSession(t, grpcSpec(t, prod.addr, shadow.addr, `mirror: {mode: "sampled", rate: 0.5}`), Options{})
	conn := dial(t, strings.TrimPrefix(front.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s.Switch().Trip(TriggerAdmin, "test")
	for i := range 10 {
		invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": fmt.Sprint(i)}))
	}
	time.Sleep(100 * time.Millisecond)
	if n := shadow.calls.Load(); n != 0 {
		t.Fatalf("killed: the shadow got %d calls", n)
	}
	if n := counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "get", "reason": DropKilled}); n != 10 {
		t.Errorf("killed: %v calls counted as dropped by the kill switch, want 10", n)
	}
	s.Switch().Resume()
	for i := range 100 {
		invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": fmt.Sprint(i)}))
	}
	sampledOut := func() int64 { return endpointResults(s, "get").Filtered["sampled out"] }
	eventually(t, "100 calls mirrored or sampled out", func() bool { return int64(endpointResults(s, "get").Pairs)+sampledOut() >= 100 })
	if n := shadow.calls.Load(); n < 20 || n > 80 {
		t.Errorf("rate 0.5: the shadow got %d of 100 calls", n)
	}
	if get := endpointResults(s, "get"); get.Matches != get.Pairs {
		t.Errorf("same service on both sides: %d of %d pairs match", get.Matches, get.Pairs)
	}
}

// rawH2C serves handler over h2c (and HTTP/1.1) on loopback and returns
// its host:port: a hostile shadow that speaks HTTP/2 but not gRPC well.
func rawH2C(t testing.TB, handler http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.Protocols = Protocols()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestGRPCShadowFaultsNeverReachTheClient: whatever the shadow does, the
// client gets prod's answer exactly and without waiting for it, and the
// shadow's failure is counted.
func TestGRPCShadowFaultsNeverReachTheClient(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	release := make(chan struct{})
	defer close(release)
	grpcHeader := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
	}
	shadows := []struct{ name, addr string }{
		{"refused", strings.TrimPrefix(closedURL(t), "http://")},
		{"hang", rawH2C(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})},
		{"reset", rawH2C(t, func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })},
		{"huge message", rawH2C(t, func(w http.ResponseWriter, r *http.Request) {
			grpcHeader(w)
			w.Write([]byte{0, 0, 0x80, 0, 0}) // 8 MiB announced
			chunk := make([]byte, 64<<10)
			for range 128 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			w.Header().Set("Grpc-Status", "0")
		})},
		{"garbage frames", rawH2C(t, func(w http.ResponseWriter, r *http.Request) {
			grpcHeader(w)
			io.WriteString(w, "<html>this is not a gRPC frame</html>")
			w.Header().Set("Grpc-Status", "0")
		})},
		{"not gRPC", strings.TrimPrefix(serve(t, item("1")).URL, "http://")},
	}
	direct := dial(t, prod.addr)
	for _, sh := range shadows {
		t.Run(sh.name, func(t *testing.T) {
			s, front := grpcSession(t, grpcSpec(t, prod.addr, sh.addr, `mirror: maxBodyBytes: 1048576`), Options{})
			proxied := dial(t, strings.TrimPrefix(front.URL, "http://"))
			for _, id := range []string{"1", "2", "3"} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				q := svc.newQuery(map[string]any{"id": id})
				want := invoke(ctx, direct, svc, "Get", q)
				start := time.Now()
				got := invoke(ctx, proxied, svc, "Get", q)
				took := time.Since(start)
				cancel()
				sameCall(t, "shadow "+sh.name, want, got)
				if took > 900*time.Millisecond { // the shadow's timeout is 1 s
					t.Errorf("the call took %s: the client waited on the shadow", took)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				e := endpointResults(s, "get")
				var n int64
				for _, c := range e.ShadowErrors {
					n += c
				}
				if n == 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the shadow's failures: %v over %d pairs (%d matched), categories %v; dropped %v", e.ShadowErrors, e.Pairs, e.Matches, keys(e.Categories), scrape(t, s)["shadowtest_live_dropped_requests_total"])
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestGRPCPassesToATLSProd: a grpcs:// prod is reached over TLS, verified
// against the spec's CA for its server name; calls are mirrored as usual.
func TestGRPCPassesToATLSProd(t *testing.T) {
	svc := compileItems(t)
	dir := t.TempDir()
	creds, _ := rpctest.TLS(t, dir, "items.internal")
	prod := serveItems(t, svc, "v1", 12.5, creds)
	shadow := serveItems(t, svc, "v1", 12.5)
	plan := grpcSpecIn(t, dir, "grpcs://"+prod.addr, "grpc://"+shadow.addr,
		`targets: prod: tls: {ca: "ca.pem", serverName: "items.internal"}`)
	s, front := grpcSession(t, plan, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := invoke(ctx, dial(t, strings.TrimPrefix(front.URL, "http://")), svc, "Get", svc.newQuery(map[string]any{"id": "5"}))
	if got.status.Code() != 0 || len(got.messages) != 1 || field(got.messages[0], "id").String() != "5" {
		t.Fatalf("through the proxy to a TLS prod: %v %v", got.status, got.messages)
	}
	eventually(t, "the pair compared", func() bool { return endpointResults(s, "get").Pairs == 1 })
	if e := endpointResults(s, "get"); e.Matches != 1 {
		t.Errorf("same service on both sides, categories %v", keys(e.Categories))
	}

	// Without the spec's CA the certificate is not trusted: UNAVAILABLE.
	_, untrusting := grpcSession(t, grpcSpecIn(t, t.TempDir(), "grpcs://"+prod.addr, "grpc://"+shadow.addr, ""), Options{})
	got = invoke(ctx, dial(t, strings.TrimPrefix(untrusting.URL, "http://")), svc, "Get", svc.newQuery(map[string]any{"id": "5"}))
	if got.status.Code() != codes.Unavailable || !strings.Contains(got.status.Message(), "tls") {
		t.Errorf("an untrusted prod certificate: %v", got.status)
	}
}

// TestGRPCCallsThatCannotBeMirrored: a call with malformed frames reaches
// prod and its answer the client, but its copy is dropped as not
// decodable; a request over the body cap is dropped as such.
func TestGRPCCallsThatCannotBeMirrored(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	shadow := serveItems(t, svc, "v1", 12.5)
	s, front := grpcSession(t, grpcSpec(t, prod.addr, shadow.addr, `mirror: maxBodyBytes: 65536`), Options{})
	post := func(base string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/shadowtest.live.v1.Items/Get", strings.NewReader("\x00\x00\x00\x00\x09garbage!!"))
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		resp, err := h2cClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	want, got := post("http://"+prod.addr), post(front.URL)
	status := func(r *http.Response) string { return r.Header.Get("Grpc-Status") + r.Trailer.Get("Grpc-Status") }
	if status(got) != status(want) || status(got) == "0" || status(got) == "" {
		t.Errorf("garbage frames: grpc-status %q through the proxy, %q from prod", status(got), status(want))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := invoke(ctx, dial(t, strings.TrimPrefix(front.URL, "http://")), svc, "Get", svc.newQuery(map[string]any{"id": "big", "pad": make([]byte, 100<<10)}))
	if big.status.Code() != 0 || len(big.messages) != 1 {
		t.Fatalf("a request over the body cap: %v", big.status)
	}
	eventually(t, "both copies dropped", func() bool {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "get", "reason": DropUndecodable}) == 1 &&
			counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "get", "reason": DropBodyTooBig}) == 1
	})
	if n := shadow.calls.Load(); n != 0 {
		t.Errorf("the shadow got %d calls", n)
	}
}

// BenchmarkGRPCUnary: one unary call at a time, directly to prod, through
// the proxy as an unmatched call (the prod path alone), and through the
// proxy mirrored to a shadow (frames kept, decoded and compared off the
// client's path).
//
//	go test ./framework/live -run '^$' -bench GRPCUnary -benchtime 2000x -count 5
func BenchmarkGRPCUnary(b *testing.B) {
	svc := compileItems(b)
	prod := serveItems(b, svc, "v1", 12.5)
	shadow := serveItems(b, svc, "v1", 12.5)
	plain, unmatched := grpcSession(b, grpcPlan(prod.addr, shadow.addr), Options{})
	mirroring, mirrored := grpcSession(b, grpcSpec(b, prod.addr, shadow.addr, ""), Options{})
	for _, arm := range []struct {
		name, addr string
		session    *Shadow
	}{
		{"direct", prod.addr, nil},
		{"proxy", strings.TrimPrefix(unmatched.URL, "http://"), plain},
		{"proxy-mirrored", strings.TrimPrefix(mirrored.URL, "http://"), mirroring},
	} {
		b.Run(arm.name, func(b *testing.B) {
			conn := dial(b, arm.addr)
			q := svc.newQuery(map[string]any{"id": "7"})
			ctx := context.Background()
			for b.Loop() {
				if err := conn.Invoke(ctx, "/shadowtest.live.v1.Items/Get", q, dynamicpb.NewMessage(svc.item)); err != nil {
					b.Fatal(err)
				}
			}
			if arm.session != nil { // the proxy's own time per call (handler minus prod's round trip)
				h := scrape(b, arm.session)["shadowtest_live_proxy_added_latency_seconds"].Metric[0].Histogram
				b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount())*1e6, "added-µs/call")
			}
		})
	}
}
