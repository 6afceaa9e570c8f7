package runner

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// writeTraffic writes n GET /items/{i} requests as JSONL into dir and
// returns the file's name.
func writeTraffic(t testing.TB, dir string, n int) string {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "traffic.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		fmt.Fprintf(f, `{"request":{"method":"GET","url":"/items/%d"}}`+"\n", i)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return "traffic.jsonl"
}

// testPlan is a plan replaying n requests of one endpoint to prod and
// shadow, comparing Content-Type and the JSON body.
func testPlan(t testing.TB, prod, shadow string, n int) *framework.Plan {
	t.Helper()
	dir := t.TempDir()
	return &framework.Plan{
		Dir:     dir,
		Prod:    framework.Target{Name: "prod", URL: prod, Timeout: 5 * time.Second, Retries: 2},
		Shadow:  framework.Target{Name: "shadow", URL: shadow, Timeout: 5 * time.Second, Retries: 2},
		Traffic: []framework.TrafficSource{{Format: "jsonl", Path: writeTraffic(t, dir, n)}},
		Mirror:  framework.Mirror{Mode: "full", Concurrency: 4, Writes: "skip", MaxBodyBytes: 1 << 20},
		Endpoints: []framework.Endpoint{{
			Name: "items", Method: "GET", Path: "/items/{id}",
			Rules:      framework.Rules{Headers: []string{"Content-Type"}},
			Thresholds: framework.Thresholds{MatchRate: 1, MinSamples: 1},
		}},
	}
}

// counting wraps a handler and counts the requests it serves.
type counting struct {
	http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.Handler.ServeHTTP(w, r)
}

// item is the healthy answer of both fixture services.
func item(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path":%q,"name":"widget","price":12.5}`, r.URL.Path)
}

// serve starts a loopback server for h, closed at the end of the test.
func serve(t testing.TB, h http.Handler) (*httptest.Server, *counting) {
	t.Helper()
	c := &counting{Handler: h}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv, c
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t testing.TB) string {
	t.Helper()
	return "http://" + closedAddr(t)
}

// closedAddr is a loopback address that refuses connections: a socket
// bound to the port but not listening, held until the test ends. A
// listener closed at once left the port free, and a test or process
// running beside this one took it now and then (TestProdFaultMatrix's
// "connection refused" then got answers: once in a loaded run).
func closedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

// zeros is an endless body of '0' bytes written without allocating.
func writeZeros(w io.Writer, total int64) {
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = '0'
	}
	for written := int64(0); written < total; {
		n, err := w.Write(chunk[:min(int64(len(chunk)), total-written)])
		if err != nil {
			return
		}
		written += int64(n)
	}
}
