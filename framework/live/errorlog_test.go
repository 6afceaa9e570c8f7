package live

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for the proxy's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNetHTTPMessagesGoToTheSessionLog: what net/http's reverse proxy says
// about the prod path (prod cut its body midway) is written to the
// session's log, which the CLI scrubs, not to the process's raw stderr.
func TestNetHTTPMessagesGoToTheSessionLog(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte(strings.Repeat("x", 10)))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	shadow := serve(t, item("1"))
	var logged lockedBuffer
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{Log: &logged})
	resp, err := http.Get(front.URL + "/items/1")
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	eventually(t, "the read error in the session log", func() bool { return strings.Contains(logged.String(), "ReverseProxy read error") })
}
