package live

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Prod-path bounds under every shadow fault: the shadow hangs for 10 s or
// trickles for seconds, so a proxy that waited on it would blow them by
// an order of magnitude; the bounds leave room for a loaded CI machine.
const (
	faultMaxLatency    = 750 * time.Millisecond
	faultMedianLatency = 50 * time.Millisecond
)

func TestShadowFaultsNeverReachTheClient(t *testing.T) {
	bomb := func() []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.Repeat([]byte("0"), 64<<20))
		zw.Close()
		return buf.Bytes()
	}()
	faults := []struct {
		name   string
		shadow http.HandlerFunc
	}{
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
		}},
		{"reset", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `{"path":`)
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}},
		{"5xx", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}},
		{"huge body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			chunk := bytes.Repeat([]byte("0"), 64<<10)
			for range (100 << 20) / len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
		{"slow trickle", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for range 100 {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(50 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
		}},
		{"refused", nil},
	}
	for _, f := range faults {
		for _, prodClient := range ProdClients {
			name := f.name
			if prodClient != ProdClientFast {
				name += "/" + strings.ReplaceAll(prodClient, "/", "-")
			}
			t.Run(name, func(t *testing.T) { testShadowFault(t, f.shadow, prodClient) })
		}
	}
}

func testShadowFault(t *testing.T, fault http.HandlerFunc, prodClient string) {
	prod := serve(t, item("12.5"))
	shadowURL := closedURL(t)
	if fault != nil {
		shadowURL = serve(t, fault).URL
	}
	plan := testPlan(prod.URL, shadowURL)
	plan.Shadow.Timeout = 2 * time.Second
	s, front := session(t, plan, Options{ProdClient: prodClient})
	client := &http.Client{Timeout: 20 * time.Second}
	var latencies []time.Duration
	for i := range 60 {
		path := "/items/" + strconv.Itoa(i)
		start := time.Now()
		resp, err := client.Get(front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		latencies = append(latencies, time.Since(start))
		want := `{"path":"` + path + `","name":"widget","price":12.5}`
		if err != nil || resp.StatusCode != 200 || string(body) != want || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("client got %d %q (%v), want prod's bytes %q", resp.StatusCode, body, err, want)
		}
	}
	slices.Sort(latencies)
	median, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
	t.Logf("%s: prod path median %v, max %v", t.Name(), median.Round(time.Microsecond), worst.Round(time.Microsecond))
	if worst > faultMaxLatency || median > faultMedianLatency {
		t.Fatalf("prod path slowed by the shadow: median %v (bound %v), max %v (bound %v)", median, faultMedianLatency, worst, faultMaxLatency)
	}
	s.Switch().Trip(TriggerAdmin, "end of test") // cut what hangs
}
