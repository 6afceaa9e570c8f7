package live

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestLoopbackHostsOnlyStopsDNSRebinding: a page on evil.example that
// rebinds its name to 127.0.0.1 makes the browser send Host: evil.example
// to the admin listener, and could read /status and /metrics. The guard
// answers 421 to any Host that is not a loopback literal or localhost.
func TestLoopbackHostsOnlyStopsDNSRebinding(t *testing.T) {
	srv := httptest.NewServer(LoopbackHostsOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "status")
	})))
	defer srv.Close()
	for host, want := range map[string]int{
		srv.Listener.Addr().String(): http.StatusOK,
		"localhost:9090":             http.StatusOK,
		"LOCALHOST":                  http.StatusOK,
		"[::1]:9090":                 http.StatusOK,
		"127.0.0.2":                  http.StatusOK,
		"evil.example":               http.StatusMisdirectedRequest,
		"evil.example:9090":          http.StatusMisdirectedRequest,
		"127.0.0.1.evil.example":     http.StatusMisdirectedRequest,
		"localhost.evil.example":     http.StatusMisdirectedRequest,
		"10.0.0.1:9090":              http.StatusMisdirectedRequest,
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/status", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (want == http.StatusOK) != (string(body) == "status") {
			t.Errorf("Host %q: %d %q, want %d", host, resp.StatusCode, body, want)
		}
	}

	// A wildcard listener reached through 127.0.0.1 is guarded the same.
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	wild := httptest.NewUnstartedServer(srv.Config.Handler)
	wild.Listener.Close()
	wild.Listener = l
	wild.Start()
	defer wild.Close()
	port := l.Addr().(*net.TCPAddr).Port
	get := func(addr, host string) int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/status", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "evil.example"); got != http.StatusMisdirectedRequest {
		t.Errorf("wildcard listener over 127.0.0.1 with Host evil.example: %d, want 421", got)
	}
	if got := get(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "localhost"); got != http.StatusOK {
		t.Errorf("wildcard listener over 127.0.0.1 with Host localhost: %d, want 200", got)
	}
}
