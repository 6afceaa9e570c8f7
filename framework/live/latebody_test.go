package live

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// closingBody is a server's request body: data, then io.EOF, then (closed
// by the server once prod's answer starts) an error on every read.
type closingBody struct {
	r      io.Reader
	ended  bool
	closed bool
}

func (b *closingBody) Read(p []byte) (int, error) {
	if b.ended {
		return 0, errors.New("http: invalid Read on closed Body")
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.ended = true
	}
	return n, err
}

func (b *closingBody) Close() error { b.closed = true; return nil }

// TestBodyReadAgainAfterEOFGivesEOF: net/http's transport reads a request
// body once more after its Content-Length; by then the server may have
// closed it. The proxy's bodies, copied or not, answer io.EOF again
// without reading the closed body: an error there makes the transport
// close its connection to prod and cut the client's answer.
func TestBodyReadAgainAfterEOFGivesEOF(t *testing.T) {
	budget := &captureBudget{limit: 1 << 20}
	for name, body := range map[string]io.Reader{
		"passed": &endedBody{ReadCloser: &closingBody{r: strings.NewReader("payload")}},
		"copied": &teeBody{endedBody: endedBody{ReadCloser: &closingBody{r: strings.NewReader("payload")}}, limit: 1 << 10, length: 7, buf: capture{budget: budget}},
	} {
		got, err := io.ReadAll(body)
		if err != nil || string(got) != "payload" {
			t.Fatalf("%s: read %q, %v", name, got, err)
		}
		for range 2 {
			if n, err := body.Read(make([]byte, 8)); n != 0 || err != io.EOF {
				t.Errorf("%s: a read after the end gave %d bytes, %v; want io.EOF", name, n, err)
			}
		}
	}
}

// TestTeeIsFrozenWhenHandedOff: once finish takes the request copy, a
// late read by the transport (prod answered before it read the whole
// body) passes its bytes through uncopied: the copy handed to the shadow
// side does not change, takes no more of the budget, and, being short of
// the body, is dropped as unread.
func TestTeeIsFrozenWhenHandedOff(t *testing.T) {
	for _, length := range []int64{-1, 256 << 10} {
		budget := &captureBudget{limit: 1 << 20}
		src := bytes.Repeat([]byte("x"), 256<<10)
		tee := &teeBody{endedBody: endedBody{ReadCloser: io.NopCloser(bytes.NewReader(src))}, limit: 1 << 20, length: length, buf: capture{budget: budget}}
		if length > 0 {
			tee.buf.reserve(length)
		}
		if _, err := io.ReadFull(tee, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		copied, reason := tee.copy()
		if reason != DropBodyUnread || copied != nil {
			t.Fatalf("length %d: a copy of 1000 of %d bytes handed off (%q, %d bytes); want it dropped as %q", length, len(src), reason, len(copied), DropBodyUnread)
		}
		held := budget.used.Load()
		buf := tee.buf.buf
		n, err := io.Copy(io.Discard, tee) // the transport's late reads
		if err != nil || n != int64(len(src))-1000 {
			t.Fatalf("late reads: %d bytes, %v: the body must still pass whole", n, err)
		}
		if used := budget.used.Load(); used != held || len(tee.buf.buf) != len(buf) || tee.eof {
			t.Errorf("length %d: after the hand-off, late reads took the budget from %d to %d bytes and the copy from %d to %d bytes", length, held, used, len(buf), len(tee.buf.buf))
		}
		releaseCaptures(tee, &recorder{body: capture{budget: budget}})
		if used := budget.used.Load(); used != 0 {
			t.Errorf("length %d: %d bytes held after release", length, used)
		}
	}
}

// slowBody writes size bytes in chunks, pausing between them, and stops
// when the reader is gone.
func slowBody(size int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte("b"), 16<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
		pw.Close()
	}()
	return pr
}

// TestLateRequestBodyReadIsNotRaced: prod answers a large, slow POST at
// once without reading it, so net/http's transport goes on reading the
// request body (through the tee) after the reverse proxy has returned,
// while finish hands the copy to the shadow side. Under -race this was a
// data race on the tee's copy. Clients get prod's answer; every copy is
// dropped as unread (none reaches the shadow short of its body); the
// budget is given back. With either prod client (both write the body on
// a goroutine of their own once prod has answered).
func TestLateRequestBodyReadIsNotRaced(t *testing.T) {
	for _, client := range ProdClients {
		t.Run(client, func(t *testing.T) { lateRequestBodyRead(t, client) })
	}
}

func lateRequestBodyRead(t *testing.T, client string) {
	const size = 1 << 20
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"queued":true}`)
	}))
	defer prod.Close()
	shadow := serve(t, item("1"))
	plan := testPlan(prod.URL, shadow.URL)
	plan.Mirror.Writes = "isolated"
	plan.Mirror.MaxBodyBytes = 2 << 20
	s, err := New(plan, observe.NewResults(plan.Endpoints), Options{ProdClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	front := httptest.NewServer(NewProxy(s))
	defer front.Close()
	const clients = 6
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", front.URL+"/items", slowBody(size))
			if i%2 == 0 {
				req.ContentLength = size // with a Content-Length: its copy is reserved whole
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusAccepted || string(got) != `{"queued":true}` {
				t.Errorf("client got %d %q, %v: not prod's answer", resp.StatusCode, got, err)
			}
		})
	}
	wg.Wait()
	unread := func() float64 {
		return counter(t, s, "shadowtest_live_dropped_requests_total", map[string]string{"endpoint": "create", "reason": DropBodyUnread})
	}
	eventually(t, "every copy dropped as unread", func() bool { return unread() == clients })
	eventually(t, "the budget given back", func() bool { return s.captures.used.Load() == 0 })
	time.Sleep(50 * time.Millisecond) // late reads of the bodies end
	if n := shadow.n.Load(); n != 0 {
		t.Errorf("%d copies reached the shadow", n)
	}
	if used := s.captures.used.Load(); used != 0 {
		t.Errorf("%d bytes of the budget held after the late reads", used)
	}
}

// TestEarlyAnswerIsNeverCut: prod answers before it has read the request
// body (a 413 and 64 KiB, for 300 POSTs of 200 KiB to 1.4 MiB), and prod
// that streams its answer while it reads the body: with either prod
// client, every client gets the whole answer, and prod every byte of the
// body it reads. net/http's server read the rest of the body itself when
// the answer's header was written, racing prod's transport, which then
// closed prod's connection mid-answer (a few answers in 300).
func TestEarlyAnswerIsNeverCut(t *testing.T) {
	answer := strings.Repeat("a", 64<<10)
	early := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, answer)
	}))
	defer early.Close()
	duplex := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.EnableFullDuplex()
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d %v", n, err)
	}))
	defer duplex.Close()
	for name, front := range fronts(t, early.URL) {
		cut := 0
		client := newClient()
		for i := range 300 {
			body := strings.Repeat("x", 200<<10+i*4<<10)
			if s := fetch(t, client, "POST", front.URL+"/items", strings.NewReader(body), nil); s.Status != http.StatusRequestEntityTooLarge || s.Body != answer || s.Err {
				cut++
			}
		}
		if cut > 0 {
			t.Errorf("%s: %d early answers in 300 did not reach the client whole", name, cut)
		}
	}
	for name, front := range fronts(t, duplex.URL) {
		client := newClient()
		for i := range 50 {
			size := 16<<10 + i*24<<10
			s := fetch(t, client, "POST", front.URL+"/items", strings.NewReader(strings.Repeat("x", size)), nil)
			if want := fmt.Sprintf("%d <nil>", size); s.Status != http.StatusOK || s.Body != want || s.Err {
				t.Errorf("%s: a %d-byte body, prod streaming its answer: %d %q (cut: %v), want %q", name, size, s.Status, s.Body, s.Err, want)
			}
		}
	}
}

// TestEarlyAnswerCloseIsTheProxys: the Connection: close the proxy adds
// to an answer that starts before the request body has ended reaches the
// client, and is neither recorded nor compared as prod's. Prod streams:
// its header first, its last chunk once it has read the whole body, which
// the client sends in two parts.
func TestEarlyAnswerCloseIsTheProxys(t *testing.T) {
	prod := newConnProd(t, func(c net.Conn, br *bufio.Reader) {
		req, err := readHead(br)
		if err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
		n, _ := io.Copy(io.Discard, req.Body)
		fmt.Fprintf(c, "%x\r\n%d\r\n0\r\n\r\n", len(fmt.Sprint(n)), n)
	})
	for _, name := range ProdClients {
		recorded := make(chan http.Header, 4)
		plan := testPlan(prod.URL(), closedURL(t))
		_, front := session(t, plan, Options{ProdClient: name, Record: func(ex *framework.Exchange) {
			if ex.Recorded != nil {
				recorded <- ex.Recorded.Header
			}
		}})
		body, w := io.Pipe()
		go func() {
			w.Write(make([]byte, 64<<10))
			time.Sleep(300 * time.Millisecond) // prod's header is out by now
			w.Write(make([]byte, 64<<10))
			w.Close()
		}()
		resp, err := newClient().Post(front.URL+"/items", "application/octet-stream", body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != "131072" || err != nil || !resp.Close {
			t.Errorf("%s: the client saw %d %q (%v), Connection: close %v; want prod's answer and Connection: close", name, resp.StatusCode, got, err, resp.Close)
		}
		select {
		case h := <-recorded:
			if _, ok := h["Connection"]; ok || h.Get("Content-Type") != "text/plain" {
				t.Errorf("%s: prod's answer recorded with header %v", name, h)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: the exchange was not recorded", name)
		}
	}
}
