package rpc_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// rawGRPC serves h over h2c (HTTP/2 with prior knowledge, as a gRPC
// client speaks it) on loopback: a server that can send anything.
func rawGRPC(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h2c.NewHandler(h, &http2.Server{}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// grpcAnswer writes a gRPC answer: frames as given, then grpc-status.
func grpcAnswer(body []byte, grpcStatus string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		w.Header().Set("Grpc-Status", grpcStatus)
	}
}

func frame(msg []byte) []byte {
	out := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(out[1:5], uint32(len(msg)))
	copy(out[5:], msg)
	return out
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// resetting accepts connections and closes them at once.
func resetting(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if tcp, ok := c.(*net.TCPConn); ok {
				tcp.SetLinger(0) // RST, not FIN
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// TestFaultMatrix sends a unary call to targets that fail in each way a
// gRPC target can, and checks how each failure is represented: a status
// the server sent is an answer (compared like an HTTP status); a failure
// of the transport, a timeout, malformed frames and a message over the
// body cap are transport failures with their kind.
func TestFaultMatrix(t *testing.T) {
	desc := rpctest.Descriptors(t)
	slow := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		select {
		case <-time.After(10 * time.Second):
		case <-c.Context().Done():
		}
		return nil
	})
	huge := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		return c.Send(`{"user":{"email":"` + strings.Repeat("x", 2<<20) + `"}}`)
	})
	cases := []struct {
		reason   string
		addr     string
		code     int    // the server's status, when it answered
		kind     string // the failure's kind, when it did not
		contains string // in the failure's message
	}{
		{"the server answers UNAVAILABLE: a status to compare", rpctest.Serve(t, desc, func(*rpctest.Call) error { return status.Error(codes.Unavailable, "draining") }), 14, "", ""},
		{"the server answers DEADLINE_EXCEEDED itself: a status", rpctest.Serve(t, desc, func(*rpctest.Call) error { return status.Error(codes.DeadlineExceeded, "upstream slow") }), 4, "", ""},
		{"the target takes longer than its timeout", slow, 0, "timeout", "DeadlineExceeded"},
		{"nothing listens", closedAddr(t), 0, "refused", "connection refused"},
		{"the connection is reset at once", resetting(t), 0, "reset", ""},
		{"a message over the body cap", huge, 0, "too large", "body cap of 1048576 bytes"},
		{"a frame whose length runs past the body", rawGRPC(t, grpcAnswer(frame([]byte("\x0a\x01"))[:6], "0")), 0, "protocol", ""},
		{"a compressed flag without grpc-encoding", rawGRPC(t, grpcAnswer(append([]byte{1}, frame(nil)[1:]...), "0")), 0, "protocol", ""},
		{"a message that is not protobuf", rawGRPC(t, grpcAnswer(frame([]byte{0xff, 0xff, 0xff}), "0")), 0, "protocol", ""},
		{"an HTTP/2 server that is not gRPC", rawGRPC(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) }), 0, "protocol", ""},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			target := framework.Target{Name: "shadow", URL: "grpc://" + tc.addr, Timeout: 3 * time.Second}
			c, err := rpc.NewClient(target, "", desc, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			resp := c.Do(context.Background(), call("acme.users.v1.UserService/GetUser", `{"id":"1"}`))
			if elapsed := time.Since(start); elapsed > 9*time.Second {
				t.Errorf("took %s: the timeout did not bound the call", elapsed)
			}
			if tc.kind == "" {
				if resp.Err != nil || resp.RPC == nil || resp.RPC.Code != tc.code {
					t.Fatalf("got error %v (%s), status %v; want the server's code %d", resp.Err, resp.ErrKind, resp.RPC, tc.code)
				}
				return
			}
			if resp.Err == nil || resp.ErrKind != tc.kind || !strings.Contains(resp.Err.Error(), tc.contains) {
				t.Fatalf("got error %v (kind %q), status %v; want kind %q containing %q", resp.Err, resp.ErrKind, resp.RPC, tc.kind, tc.contains)
			}
			if resp.RPC != nil || resp.Status != 0 {
				t.Errorf("a transport failure carries no status: %d %v", resp.Status, resp.RPC)
			}
		})
	}
}

// TestStreamOverCapIsTruncated: a server stream whose messages add up to
// more than the body cap keeps the messages under it and says truncated,
// as an HTTP body cut at the cap.
func TestStreamOverCapIsTruncated(t *testing.T) {
	desc := rpctest.Descriptors(t)
	var sent atomic.Int64
	addr := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		for range 100 {
			if err := c.Send(`{"email":"` + strings.Repeat("y", 300<<10) + `"}`); err != nil {
				return nil
			}
			sent.Add(1)
		}
		return nil
	})
	c, err := rpc.NewClient(framework.Target{Name: "prod", URL: "grpc://" + addr, Timeout: 5 * time.Second}, "", desc, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := c.Do(context.Background(), call("acme.users.v1.UserService/ListUsers", `{}`))
	if resp.Err != nil || !resp.Truncated {
		t.Fatalf("error %v, truncated %v: want a truncated answer", resp.Err, resp.Truncated)
	}
	if n := strings.Count(string(resp.Body), `"email"`); n != 3 {
		t.Errorf("kept %d messages, want the 3 under the 1 MiB cap", n)
	}
}

// TestEndlessEmptyMessages: a hostile stream of empty messages without
// end reaches the body cap (each message counts its prefix) instead of
// growing memory until the timeout; an empty stream is "[]".
func TestEndlessEmptyMessages(t *testing.T) {
	desc := rpctest.Descriptors(t)
	endless := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		for c.Send(`{}`) == nil {
		}
		return nil
	})
	c, err := rpc.NewClient(framework.Target{Name: "shadow", URL: "grpc://" + endless, Timeout: 30 * time.Second}, "", desc, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := c.Do(context.Background(), call("acme.users.v1.UserService/ListUsers", `{}`))
	if resp.Err != nil || !resp.Truncated || strings.Count(string(resp.Body), "{}") != 64<<10/5 {
		t.Errorf("error %v, truncated %v, %d messages; want %d and truncated", resp.Err, resp.Truncated, strings.Count(string(resp.Body), "{}"), 64<<10/5)
	}
	empty := rpctest.Serve(t, desc, func(*rpctest.Call) error { return nil })
	c2, _ := rpc.NewClient(framework.Target{Name: "prod", URL: "grpc://" + empty, Timeout: 5 * time.Second}, "", desc, 0)
	defer c2.Close()
	if resp := c2.Do(context.Background(), call("acme.users.v1.UserService/ListUsers", `{}`)); string(resp.Body) != "[]" {
		t.Errorf("an empty stream: %v %q, want []", resp.Err, resp.Body)
	}
}

// TestStatusDetailsBoundedByBodyCap: grpc-status-details-bin, a trailer,
// becomes the status body. A hostile target's details are held to
// mirror.maxBodyBytes: metadata over twice the cap (at least 64 KiB) fails
// the call (the stream or connection is reset) instead of grpc-go's 16 MiB
// default being read, and a
// status body over the cap is cut there and marked truncated, as an HTTP
// body is.
func TestStatusDetailsBoundedByBodyCap(t *testing.T) {
	desc := rpctest.Descriptors(t)
	details := func(size int) string {
		return rpctest.Serve(t, desc, func(*rpctest.Call) error {
			st, _ := status.New(codes.Internal, "boom").WithDetails(&errdetails.DebugInfo{Detail: strings.Repeat("A", size)})
			return st.Err()
		})
	}
	const maxBody = 16 << 10
	for _, c := range []struct {
		reason    string
		size      int
		kind      string
		truncated bool
	}{
		{"small details: the whole status", 1 << 10, "", false},
		{"details over the cap but under the metadata limit: cut at the cap", 20 << 10, "", true},
		// grpc-go's server respects the limit the client announces and
		// resets the stream: the call fails, its details unread.
		{"details over the metadata limit (REDTEAM: 200 KiB)", 200 << 10, "reset", false},
		// A server that sends them anyway: grpc-go's client drops the
		// connection.
		{"a server that ignores the limit", -1, "reset", false},
	} {
		addr := details(c.size)
		if c.size < 0 {
			addr = rawGRPC(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/grpc")
				w.Header().Set("Grpc-Status", "13")
				w.Header().Set("Grpc-Status-Details-Bin", strings.Repeat("QUFB", 100<<10))
				w.WriteHeader(http.StatusOK)
			})
		}
		client, err := rpc.NewClient(framework.Target{Name: "shadow", URL: "grpc://" + addr, Timeout: 5 * time.Second}, "", desc, maxBody)
		if err != nil {
			t.Fatal(err)
		}
		resp := client.Do(context.Background(), call("acme.users.v1.UserService/GetUser", `{"id":"1"}`))
		client.Close()
		switch {
		case resp.ErrKind != c.kind:
			t.Errorf("%s: kind %q (%v), want %q", c.reason, resp.ErrKind, resp.Err, c.kind)
		case len(resp.Body) > maxBody:
			t.Errorf("%s: a %d-byte status body, over the %d-byte cap", c.reason, len(resp.Body), maxBody)
		case resp.Truncated != c.truncated:
			t.Errorf("%s: truncated %v, want %v", c.reason, resp.Truncated, c.truncated)
		case c.kind == "" && (resp.RPC == nil || resp.RPC.Code != 13 || !strings.HasPrefix(string(resp.Body), `{"code":13,"message":"boom","details":[`)):
			t.Errorf("%s: status %+v body %.80s, want INTERNAL with its details", c.reason, resp.RPC, resp.Body)
		}
	}
}
