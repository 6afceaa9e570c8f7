package live

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
)

// copyApp is prod behind the proxy, or the application behind the
// middleware: it reads a POST's body, then answers size bytes with a
// Content-Length; a request with X-Hold sends half of it and waits for a
// token on hold before the rest, so that the test can look at the
// captures while the answer is under way.
func copyApp(answer []byte, hold <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		if r.Header.Get("X-Hold") == "" {
			w.Write(answer)
			return
		}
		half := len(answer) / 2
		w.Write(answer[:half])
		http.NewResponseController(w).Flush()
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
		w.Write(answer[half:])
	}
}

// copyFronts start a session's prod path in front of app: the proxy
// (app as prod) or the middleware (around app); bare is the same path
// without shadowtest: httputil.ReverseProxy alone, or app alone.
var copyFronts = []struct {
	name        string
	front, bare func(t *testing.T, s *Shadow, app http.HandlerFunc) string
}{
	{"proxy",
		func(t *testing.T, s *Shadow, app http.HandlerFunc) string {
			front := httptest.NewServer(NewProxy(s))
			t.Cleanup(front.Close)
			return front.URL
		},
		func(t *testing.T, s *Shadow, app http.HandlerFunc) string {
			u, _ := url.Parse(s.Plan().Prod.URL)
			bare := bareFront(u)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = &endedBody{ReadCloser: r.Body} // as the proxy: see endedBody
				bare.ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)
			return front.URL
		}},
	{"middleware",
		func(t *testing.T, s *Shadow, app http.HandlerFunc) string {
			front := httptest.NewServer(s.Middleware(app))
			t.Cleanup(front.Close)
			return front.URL
		},
		func(t *testing.T, s *Shadow, app http.HandlerFunc) string {
			front := httptest.NewServer(app)
			t.Cleanup(front.Close)
			return front.URL
		}},
}

// TestNoCopiesWhileMirroringIsStopped: with the kill switch tripped, a
// sampling rate of 0, or a write the policy does not send, and no
// recorder, neither the proxy nor the middleware copies a request's or an
// answer's body: no capture budget is taken while a large answer is under
// way, and a request allocates no more than through the bare path (a copy
// would be twice the body size). Clients get the app's bytes; the
// requests are counted as before (dropped by the kill switch, or skipped
// with the spec's reason), and nothing reaches the shadow. With a
// recorder on, the recorder still gets whole copies while the switch is
// tripped.
func TestNoCopiesWhileMirroringIsStopped(t *testing.T) {
	const size = 256 << 10
	answer := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	sum := sha256.Sum256(answer)
	body := bytes.Repeat([]byte("request-"), size/8)
	stopped := []struct {
		name   string
		set    func(p *framework.Plan)
		kill   bool
		metric string
		reason string
	}{
		{name: "kill switch", set: func(p *framework.Plan) { p.Mirror.Writes = "isolated" }, kill: true,
			metric: "shadowtest_live_dropped_requests_total", reason: DropKilled},
		{name: "rate 0", set: func(p *framework.Plan) { p.Mirror.Writes, p.Mirror.Mode, p.Mirror.Rate = "isolated", "sampled", 0 },
			metric: "shadowtest_live_skipped_requests_total", reason: runner.SampledOut},
		{name: "writes skipped", set: func(p *framework.Plan) { p.Mirror.Writes = "skip" },
			metric: "shadowtest_live_skipped_requests_total", reason: runner.WriteSkipped},
	}
	for _, fr := range copyFronts {
		for _, st := range stopped {
			t.Run(fr.name+"/"+st.name, func(t *testing.T) {
				hold := make(chan struct{})
				app := copyApp(answer, hold)
				prod := httptest.NewServer(app)
				defer prod.Close()
				shadow := serve(t, item("1"))
				plan := testPlan(prod.URL, shadow.URL)
				st.set(plan)
				s, err := New(plan, observe.NewResults(plan.Endpoints), Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if st.kill {
					s.Switch().Trip(TriggerAdmin, "test")
				}
				base := fr.front(t, s, app)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				post := func(base string, held bool) {
					t.Helper()
					req, _ := http.NewRequest("POST", base+"/items", bytes.NewReader(body))
					if held {
						req.Header.Set("X-Hold", "1")
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					h := sha256.New()
					n, err := io.CopyN(h, resp.Body, size/2)
					if held {
						if used := s.captures.used.Load(); used != 0 {
							t.Errorf("%d bytes of captures held while mirroring is stopped", used)
						}
						hold <- struct{}{}
					}
					m, err2 := io.Copy(h, resp.Body)
					if err != nil || err2 != nil || n+m != size || !bytes.Equal(h.Sum(nil), sum[:]) {
						t.Fatalf("%s: client got %d bytes (%v, %v), not the app's answer", base, n+m, err, err2)
					}
				}
				post(base, true)

				// Bytes allocated per request, against the bare path.
				bare := fr.bare(t, s, app)
				const n = 20
				perRequest := func(base string) int64 {
					post(base, false) // warm: connections, pools
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					for range n {
						post(base, false)
					}
					runtime.ReadMemStats(&after)
					return int64(after.TotalAlloc-before.TotalAlloc) / n
				}
				var got, floor int64
				for range 3 { // the least of three: a busy runtime only adds
					g, f := perRequest(base), perRequest(bare)
					if got == 0 || g < got {
						got = g
					}
					if floor == 0 || f < floor {
						floor = f
					}
				}
				t.Logf("%d bytes allocated per request, %d through the bare path", got, floor)
				if got > floor+size/4 {
					t.Errorf("%d bytes allocated per request while mirroring is stopped, %d through the bare path: the bodies (%d bytes each) are copied", got, floor, size)
				}
				want := float64(1 + 3*(n+1))
				// The front counts once the app has answered.
				eventually(t, st.metric, func() bool {
					return counter(t, s, st.metric, map[string]string{"endpoint": "create", "reason": st.reason}) >= want
				})
				if c := counter(t, s, st.metric, map[string]string{"endpoint": "create", "reason": st.reason}); c != want {
					t.Errorf("%s{reason=%q} = %v, want %v", st.metric, st.reason, c, want)
				}
				if shadow.n.Load() != 0 {
					t.Errorf("%d copies reached the shadow", shadow.n.Load())
				}
			})
		}
	}

	// A recorder still gets its copies while the switch is tripped.
	for _, fr := range copyFronts {
		t.Run(fr.name+"/kill switch with a recorder", func(t *testing.T) {
			app := copyApp(answer, nil)
			prod := httptest.NewServer(app)
			defer prod.Close()
			shadow := serve(t, item("1"))
			plan := testPlan(prod.URL, shadow.URL)
			plan.Mirror.Writes = "isolated"
			var mu sync.Mutex
			var recorded []framework.Exchange
			s, err := New(plan, observe.NewResults(plan.Endpoints), Options{Record: func(ex *framework.Exchange) {
				mu.Lock()
				recorded = append(recorded, *ex)
				mu.Unlock()
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Switch().Trip(TriggerAdmin, "test")
			base := fr.front(t, s, app)
			for range 3 {
				resp, err := http.Post(base+"/items", "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !bytes.Equal(got, answer) {
					t.Fatal("not the app's answer")
				}
			}
			// The front records and counts once the app has
			// answered: the client may read the answer first.
			eventually(t, "3 exchanges recorded and dropped", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(recorded) >= 3 && counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "create", "reason": DropKilled}) >= 3
			})
			mu.Lock()
			defer mu.Unlock()
			if len(recorded) != 3 {
				t.Fatalf("the recorder got %d exchanges, want 3", len(recorded))
			}
			for _, ex := range recorded {
				if !bytes.Equal(ex.Request.Body, body) || !bytes.Equal(ex.Recorded.Body, answer) {
					t.Fatalf("recorded %d request and %d answer bytes, want %d and %d", len(ex.Request.Body), len(ex.Recorded.Body), len(body), len(answer))
				}
			}
			if c := counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "create", "reason": DropKilled}); c != 3 {
				t.Errorf("dropped{kill switch} = %v, want 3", c)
			}
			if shadow.n.Load() != 0 {
				t.Errorf("%d copies reached the shadow", shadow.n.Load())
			}
		})
	}
}
