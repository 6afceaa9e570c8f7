package live

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func TestProxyReturnsProdAnswerAndComparesShadow(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Prod", "yes")
		w.Header().Set("Trailer", "X-Checksum")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"path":"`+r.URL.Path+`","name":"widget","price":12.5}`)
		w.Header().Set("X-Checksum", "abc")
	})
	shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"path":"`+r.URL.Path+`","name":"widget","price":13}`)
	})
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})

	for i := range 5 {
		req, _ := http.NewRequest("GET", front.URL+"/items/7?i="+string(rune('0'+i)), nil)
		req.Header.Set("X-Forwarded-For", "10.0.0.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Prod") != "yes" || string(body) != `{"path":"/items/7","name":"widget","price":12.5}` {
			t.Fatalf("client got %d %v %q, want prod's answer unchanged", resp.StatusCode, resp.Header, body)
		}
		if resp.Trailer.Get("X-Checksum") != "abc" {
			t.Fatalf("trailer lost: %v", resp.Trailer)
		}
	}
	eventually(t, "5 shadow requests", func() bool { return shadow.n.Load() == 5 })
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	e := s.Results().Endpoint("items")
	if e.Pairs != 5 || e.Matches != 0 || e.Categories["value $.price"] == nil {
		t.Fatalf("pairs %d matches %d categories %v, want 5 pairs differing at $.price", e.Pairs, e.Matches, e.Categories)
	}
	if got := prod.bodies[0]; !strings.HasPrefix(got, "GET /items/7?i=0") {
		t.Fatalf("prod got %q", got)
	}
}

func TestProxyForwardsHeaders(t *testing.T) {
	var seen http.Header
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		seen.Set("Host", r.Host)
	})
	shadow := serve(t, item("1"))
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	req, _ := http.NewRequest("GET", front.URL+"/items/1", nil)
	req.Host = "shop.example"
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "secret-hop")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := seen.Get("X-Forwarded-For"); got != "10.0.0.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want the client's appended", got)
	}
	if seen.Get("X-Forwarded-Host") != "shop.example" || seen.Get("Host") != "shop.example" {
		t.Errorf("host headers %v", seen)
	}
	if seen.Get("X-Hop") != "" {
		t.Errorf("hop-by-hop header named in Connection reached prod: %v", seen)
	}
}

func TestProxySkipsWritesByDefault(t *testing.T) {
	prod := serve(t, item("1"))
	shadow := serve(t, item("1"))
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	for range 10 {
		resp, err := http.Post(front.URL+"/items", "application/json", strings.NewReader(`{"name":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get(t, front.URL+"/items/1") // a read is mirrored: the shadow's count moves once
	eventually(t, "the read mirrored", func() bool { return shadow.n.Load() >= 1 })
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	if n := shadow.n.Load(); n != 1 {
		t.Fatalf("the shadow got %d requests, want only the read (writes: skip)", n)
	}
	if prod.n.Load() != 11 {
		t.Fatalf("prod got %d requests, want 11", prod.n.Load())
	}
	if got := s.Results().Endpoint("create").Skipped; got != 10 {
		t.Fatalf("skipped %d, want 10", got)
	}
}

func TestProxyWritePolicies(t *testing.T) {
	for _, policy := range []string{"isolated", "dry-run", "record-only"} {
		t.Run(policy, func(t *testing.T) {
			prod := serve(t, item("1"))
			var dry string
			shadow := serve(t, func(w http.ResponseWriter, r *http.Request) {
				dry = r.Header.Get("X-Shadow-Dry-Run")
				item("1")(w, r)
			})
			plan := testPlan(prod.URL, shadow.URL)
			plan.Mirror.Writes = policy
			s, front := session(t, plan, Options{})
			resp, err := http.Post(front.URL+"/items", "application/json", strings.NewReader(`{"name":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if policy != "record-only" {
				eventually(t, "the write mirrored", func() bool { return shadow.n.Load() == 1 })
			}
			front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
			s.Close()
			switch policy {
			case "record-only":
				if shadow.n.Load() != 0 || s.Results().Endpoint("create").RecordedOnly != 1 {
					t.Fatalf("record-only sent %d, recorded %d", shadow.n.Load(), s.Results().Endpoint("create").RecordedOnly)
				}
			case "dry-run":
				if dry != "1" {
					t.Fatalf("dry-run header %q", dry)
				}
				fallthrough
			default:
				if got := shadow.bodies[0]; got != `POST /items {"name":"x"}` {
					t.Fatalf("shadow got %q, want the client's body", got)
				}
			}
		})
	}
}

func TestProxyCountsUnmatched(t *testing.T) {
	prod := serve(t, item("1"))
	shadow := serve(t, item("1"))
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	get(t, front.URL+"/users/123")
	get(t, front.URL+"/users/456")
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	if got := s.Results().Unmatched["GET /users/{id}"]; got != 2 {
		t.Fatalf("unmatched %v", s.Results().Unmatched)
	}
	if shadow.n.Load() != 0 {
		t.Fatal("an unmatched request was mirrored")
	}
}

func TestProxyStreamsLargeBodies(t *testing.T) {
	const size = 24 << 20 // over the 1 MiB cap
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
	shadow := serve(t, item("1"))
	plan := testPlan(prod.URL, shadow.URL)
	plan.Mirror.Writes = "isolated"
	s, front := session(t, plan, Options{})
	_, body := get(t, front.URL+"/items/big")
	if len(body) != size || body != string(payload) {
		t.Fatalf("client got %d bytes of prod's %d", len(body), size)
	}
	resp, err := http.Post(front.URL+"/items", "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	if got := prod.bodies[1]; len(got) != len("POST /items ")+size || sha256.Sum256([]byte(got[len("POST /items "):])) != sha256.Sum256(payload) {
		t.Fatalf("prod got %d bytes of the %d-byte request body", len(got), size)
	}
	if shadow.n.Load() != 1 {
		t.Fatalf("shadow got %d requests, want the GET only: the big POST is over the body cap", shadow.n.Load())
	}
	if got := counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "create", "reason": DropBodyTooBig}); got != 1 {
		t.Fatalf("dropped (body over cap) = %v, want 1", got)
	}
}

func TestProxyExpectContinue(t *testing.T) {
	prod := serve(t, item("1"))
	shadow := serve(t, item("1"))
	plan := testPlan(prod.URL, shadow.URL)
	plan.Mirror.Writes = "isolated"
	s, front := session(t, plan, Options{})
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	req, _ := http.NewRequest("POST", front.URL+"/items", strings.NewReader(`{"name":"continued"}`))
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, "the copy", func() bool { return shadow.n.Load() == 1 })
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	if prod.bodies[0] != `POST /items {"name":"continued"}` || shadow.bodies[0] != prod.bodies[0] {
		t.Fatalf("prod got %q, shadow %q", prod.bodies[0], shadow.bodies[0])
	}
}

func TestProxyPassesUpgradesWithoutMirroring(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		buf.Flush()
		line, _ := buf.ReadString('\n')
		buf.WriteString("echo: " + line)
		buf.Flush()
	})
	shadow := serve(t, item("1"))
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET /items/1 HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	io.WriteString(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Fatalf("tunnel: %q %v", line, err)
	}
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	if shadow.n.Load() != 0 {
		t.Fatal("an upgrade was mirrored")
	}
	if got := counter(t, s, "shadowtest_live_proxied_requests_total", map[string]string{"endpoint": UpgradeEndpoint}); got != 1 {
		t.Fatalf("proxied upgrades = %v, want 1", got)
	}
}

func TestProxyAnswers502WhenProdIsDown(t *testing.T) {
	shadow := serve(t, item("1"))
	s, front := session(t, testPlan(closedURL(t), shadow.URL), Options{})
	resp, _ := get(t, front.URL+"/items/1")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	eventually(t, "the copy", func() bool { return shadow.n.Load() == 1 })
	front.Close() // waits for its handlers: each hands its copy over after the client has prod's answer
	s.Close()
	if e := s.Results().Endpoint("items"); e.ProdErrors["refused"] != 1 {
		t.Fatalf("prod errors %v", e.ProdErrors)
	}
}

// TestProxyAnswersBeforeHandingOff: prod's whole answer reaches the client
// before the proxy hands the copy to the shadow side (recorder, policy,
// queue), framed as prod framed it: that work is not the client's wait.
// The recorder hook here holds the hand-off until the client has read
// everything. (A chunked answer's last chunk and trailers are written when
// the handler returns, after the hand-off; its data is streamed as it
// comes, see TestProxyPassesProdBytesExactly.)
func TestProxyAnswersBeforeHandingOff(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/items/big":
			w.Header().Set("Content-Length", "200000")
			w.Write(bytes.Repeat([]byte("x"), 200000))
		default:
			item("12.5")(w, r)
		}
	})
	shadow := serve(t, item("12.5"))
	release := make(chan struct{})
	defer close(release)
	handed := make(chan string, 16)
	record := func(ex *framework.Exchange) {
		handed <- ex.Request.Method + " " + ex.Request.URL
		<-release
	}
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{Record: record})
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, c := range []struct {
		method, path string
		status       int
		length       int64
	}{
		{"GET", "/items/7", 200, 48},
		{"GET", "/items/big", 200, 200000},
		{"GET", "/items/empty", 204, 0},
	} {
		req, _ := http.NewRequest(c.method, front.URL+c.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: the client waited for the hand-off: %v", c.method, c.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: the client waited for the hand-off: %v", c.method, c.path, err)
		}
		if resp.StatusCode != c.status || resp.ContentLength != c.length || int64(len(body)) != c.length || len(resp.TransferEncoding) > 0 {
			t.Errorf("%s %s: %d, length %d, %d body bytes, transfer encoding %v; want %d, %d, %d bytes, none",
				c.method, c.path, resp.StatusCode, resp.ContentLength, len(body), resp.TransferEncoding, c.status, c.length, c.length)
		}
		select {
		case got := <-handed:
			if got != c.method+" "+c.path {
				t.Errorf("handed off %q, want %s %s", got, c.method, c.path)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s %s: never handed off", c.method, c.path)
		}
	}
}

// TestRequestOfCopiesOnlyWhatItMust: the proxy's copy of a request keeps
// the request's header map when it holds no hop-by-hop header (one map
// less per request), drops hop-by-hop headers (and those Connection
// names) from a copy otherwise, and the middleware always copies, since
// the application may change r.Header after.
func TestRequestOfCopiesOnlyWhatItMust(t *testing.T) {
	clean, _ := http.NewRequest("GET", "http://shop.example/items/1", nil)
	clean.Header.Set("Accept", "application/json")
	if got := requestOf(clean, true); reflect.ValueOf(got.Header).Pointer() != reflect.ValueOf(clean.Header).Pointer() {
		t.Errorf("a header without hop-by-hop headers is copied")
	}
	if got := requestOf(clean, false); reflect.ValueOf(got.Header).Pointer() == reflect.ValueOf(clean.Header).Pointer() {
		t.Errorf("the middleware shares the application's header map")
	}
	hop, _ := http.NewRequest("GET", "http://shop.example/items/1", nil)
	hop.Header.Set("Accept", "application/json")
	hop.Header.Set("Connection", "keep-alive, X-Hop")
	hop.Header.Set("X-Hop", "1")
	hop.Header.Set("Te", "trailers")
	got := requestOf(hop, true)
	if len(got.Header) != 1 || got.Header.Get("Accept") != "application/json" {
		t.Errorf("mirrored headers %v, want Accept only", got.Header)
	}
	if hop.Header.Get("X-Hop") != "1" || hop.Header.Get("Connection") == "" {
		t.Errorf("the incoming request lost headers: %v", hop.Header)
	}
}
