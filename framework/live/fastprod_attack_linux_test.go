//go:build linux

package live

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// backloggedListener listens with a backlog of 0 and fills it: the next
// connection to it waits in SYN_SENT (the kernel drops its SYN) until
// the test accepts the one in the queue.
func backloggedListener(t *testing.T) (net.Listener, net.Conn) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "backlogged")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	filler, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { filler.Close() })
	return l, filler
}

// TestFastProdAttackClientGoneWhileDialling: a client that leaves while
// the connection to prod is still being set up (prod's accept queue is
// full): its request never reaches prod, as with net/http, whose dial
// the request's context cancels.
func TestFastProdAttackClientGoneWhileDialling(t *testing.T) {
	for _, name := range ProdClients {
		t.Run(strings.ReplaceAll(name, "/", "-"), func(t *testing.T) {
			l, _ := backloggedListener(t)
			_, front := session(t, testPlan("http://"+l.Addr().String(), closedURL(t)), Options{ProdClient: name})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "DELETE", front.URL+"/items/1", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("an answer (%d) from a prod that accepts nothing", resp.StatusCode)
			}
			// The queue frees: the proxy's connection, if it is still
			// being made, is now accepted.
			received := make(chan string, 4)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						c.SetReadDeadline(time.Now().Add(5 * time.Second))
						if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
							received <- fmt.Sprint(req.Method, " ", req.URL)
						}
					}()
				}
			}()
			select {
			case r := <-received:
				t.Errorf("prod received %s after the client had left", r)
			case <-time.After(2500 * time.Millisecond): // the SYN is sent again after 1 s
			}
		})
	}
}

// TestFastProdDialEndsWithTheClient: a client that leaves while the
// connection to prod is being made (prod's accept queue full) ends its
// handler at once, as with net/http, whose wait for the dial the
// request's context ends; fasthttp's dial has no context, and the
// handler waited for the dialer's 5 s timeout.
func TestFastProdDialEndsWithTheClient(t *testing.T) {
	for _, name := range ProdClients {
		t.Run(strings.ReplaceAll(name, "/", "-"), func(t *testing.T) {
			l, _ := backloggedListener(t)
			s, err := New(testPlan("http://"+l.Addr().String(), closedURL(t)), observe.NewResults(nil), Options{ProdClient: name})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			proxy := NewProxy(s)
			returned := make(chan time.Time, 1)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proxy.ServeHTTP(w, r)
				returned <- time.Now()
			}))
			t.Cleanup(front.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL+"/items/1", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("an answer (%d) from a prod that accepts nothing", resp.StatusCode)
			}
			left := time.Now()
			select {
			case at := <-returned:
				if took := at.Sub(left); took > 2*time.Second {
					t.Errorf("the handler returned %v after its client left", took.Round(time.Millisecond))
				}
			case <-time.After(4 * time.Second):
				t.Errorf("the handler still waits 4 s after its client left (the dialer's timeout is 5 s)")
			}
		})
	}
}
