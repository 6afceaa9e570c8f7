package rpc_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// TestRetries: a call is sent again only when it failed with UNAVAILABLE
// and it is idempotent (the proto's option, or the endpoint's mark), at
// most Target.Retries times, and the retries are counted.
func TestRetries(t *testing.T) {
	desc := rpctest.Descriptors(t)
	cases := []struct {
		reason     string
		method     string
		idempotent bool // the endpoint's idempotent: true
		fail       codes.Code
		failures   int64 // the server fails this many calls first
		attempts   int64 // the server must see this many
		code       int   // the final answer
	}{
		{"UNAVAILABLE on an idempotent call is retried until it answers", "GetUser", true, codes.Unavailable, 2, 3, 0},
		{"retries stop at Target.Retries", "GetUser", true, codes.Unavailable, 10, 3, 14},
		{"UNAVAILABLE on a call with side effects is never retried", "CreateUser", false, codes.Unavailable, 1, 1, 14},
		{"the endpoint's idempotent: true allows it", "CreateUser", true, codes.Unavailable, 1, 2, 0},
		{"option idempotency_level = IDEMPOTENT allows it", "UpdateUser", false, codes.Unavailable, 1, 2, 0},
		{"other codes are answers, never retried", "GetUser", true, codes.Internal, 1, 1, 13},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			var calls atomic.Int64
			addr := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
				if calls.Add(1) <= tc.failures {
					return status.Error(tc.fail, "not now")
				}
				return c.Send(`{}`)
			})
			c := client(t, desc, addr) // Retries: 2
			ex := framework.Exchange{Request: *call("acme.users.v1.UserService/"+tc.method, `{"id":"1"}`)}
			if err := desc.Prepare(&ex); err != nil {
				t.Fatal(err)
			}
			ex.Request.RPC.Idempotent = ex.Request.RPC.Idempotent || tc.idempotent
			resp := c.Do(context.Background(), &ex.Request)
			if resp.Err != nil || resp.RPC.Code != tc.code {
				t.Fatalf("got %v %v, want code %d", resp.Err, resp.RPC, tc.code)
			}
			if calls.Load() != tc.attempts || int64(resp.Retries) != tc.attempts-1 {
				t.Errorf("server saw %d attempts, response counts %d retries; want %d attempts", calls.Load(), resp.Retries, tc.attempts)
			}
		})
	}
}

// TestTimeoutNotRetried: a timeout is the target's answer: an idempotent
// call that timed out is not sent again.
func TestTimeoutNotRetried(t *testing.T) {
	desc := rpctest.Descriptors(t)
	var calls atomic.Int64
	addr := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		calls.Add(1)
		<-c.Context().Done()
		return nil
	})
	c := client(t, desc, addr, func(target *framework.Target) { target.Timeout = 200 * time.Millisecond })
	req := call("acme.users.v1.UserService/GetUser", `{"id":"1"}`)
	req.RPC.Idempotent = true
	if resp := c.Do(context.Background(), req); resp.ErrKind != "timeout" || calls.Load() != 1 {
		t.Errorf("kind %q after %d attempts, want one timeout", resp.ErrKind, calls.Load())
	}
}

// TestShadowRefusedNotRetried: the shadow's client does not retry a
// refused connection (prod's does).
func TestShadowRefusedNotRetried(t *testing.T) {
	desc := rpctest.Descriptors(t)
	for _, shadow := range []bool{false, true} {
		c, err := rpc.NewClient(framework.Target{Name: "t", URL: "grpc://" + closedAddr(t), Timeout: 5 * time.Second, Retries: 2}, "", desc, 0)
		if err != nil {
			t.Fatal(err)
		}
		if shadow {
			c.Shadow()
		}
		req := call("acme.users.v1.UserService/GetUser", `{"id":"1"}`)
		req.RPC.Idempotent = true
		resp := c.Do(context.Background(), req)
		want := 2
		if shadow {
			want = 0
		}
		if resp.ErrKind != "refused" || resp.Retries != want {
			t.Errorf("shadow %v: kind %q, %d retries; want refused after %d", shadow, resp.ErrKind, resp.Retries, want)
		}
		c.Close()
	}
}
