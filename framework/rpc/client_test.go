package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// users answers the test service like a small user store.
func users(c *rpctest.Call) error {
	switch strings.TrimPrefix(c.Method, "acme.users.v1.UserService/") {
	case "GetUser":
		id := c.Field("id")
		if id == "404" {
			st, _ := status.New(codes.NotFound, "no user 404").WithDetails(&errdetails.ErrorInfo{Reason: "USER_NOT_FOUND", Domain: "users"})
			return st.Err()
		}
		c.SetHeader("x-served-by", "v1")
		c.SetTrailer("x-cost", "3")
		return c.Send(fmt.Sprintf(`{"user":{"id":%q,"email":"ada@example.com","balance":1.5,"visits":"12"},"requestId":"r-1"}`, id))
	case "ListUsers":
		for i := 1; i <= 3; i++ {
			if err := c.Send(fmt.Sprintf(`{"id":"%d","roles":["r%d"]}`, i, i)); err != nil {
				return err
			}
		}
		return nil
	case "Upload":
		var ids []string
		for _, m := range c.In {
			ids = append(ids, m.Get(m.Descriptor().Fields().ByName("id")).String())
		}
		b, _ := json.Marshal(ids)
		return c.Send(fmt.Sprintf(`{"count":%d,"ids":%s}`, len(c.In), b))
	case "Chat":
		for _, m := range c.In {
			if err := c.Send(fmt.Sprintf(`{"id":"echo-%s"}`, m.Get(m.Descriptor().Fields().ByName("id")).String())); err != nil {
				return err
			}
		}
		return nil
	}
	return status.Error(codes.Unimplemented, c.Method)
}

func call(method string, messages ...string) *framework.Request {
	raw := make([][]byte, len(messages))
	for i, m := range messages {
		raw[i] = []byte(m)
	}
	return &framework.Request{Method: "POST", URL: "/" + method, RPC: &framework.RPCCall{Method: method, Messages: raw}}
}

func client(t *testing.T, desc *rpc.Descriptors, addr string, mutate ...func(*framework.Target)) *rpc.Client {
	t.Helper()
	target := framework.Target{Name: "prod", URL: "grpc://" + addr, Timeout: 5 * time.Second, Retries: 2}
	for _, m := range mutate {
		m(&target)
	}
	c, err := rpc.NewClient(target, t.TempDir(), desc, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClientKinds sends each kind of call to a real server on loopback
// and checks the representation: canonical protojson bodies (an object for
// a unary answer, an array for a stream), the status, metadata and
// trailers, and a google.rpc.Status body with its details for an error.
func TestClientKinds(t *testing.T) {
	desc := rpctest.Descriptors(t)
	c := client(t, desc, rpctest.Serve(t, desc, users))
	ctx := context.Background()
	cases := []struct {
		reason string
		req    *framework.Request
		code   int
		body   string
	}{
		{"unary: the message's canonical protojson (int64 as a string, defaults left out)",
			call("acme.users.v1.UserService/GetUser", `{"id":"7"}`), 0,
			`{"user":{"id":"7","email":"ada@example.com","balance":1.5,"visits":"12"},"requestId":"r-1"}`},
		{"server stream: the array of messages",
			call("acme.users.v1.UserService/ListUsers", `{"limit":3}`), 0,
			`[{"id":"1","roles":["r1"]},{"id":"2","roles":["r2"]},{"id":"3","roles":["r3"]}]`},
		{"client stream: every recorded message sent in order",
			call("acme.users.v1.UserService/Upload", `{"id":"a"}`, `{"id":"b"}`), 0,
			`{"count":2,"ids":["a","b"]}`},
		{"bidirectional stream: sent in order, answers collected",
			call("acme.users.v1.UserService/Chat", `{"id":"a"}`, `{"id":"b"}`), 0,
			`[{"id":"echo-a"},{"id":"echo-b"}]`},
		{"an error: google.rpc.Status with its details",
			call("acme.users.v1.UserService/GetUser", `{"id":"404"}`), 5,
			`{"code":5,"message":"no user 404","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"USER_NOT_FOUND","domain":"users"}]}`},
		{"recorded protojson in proto names is accepted",
			call("acme.users.v1.UserService/Upload", `{"id":"a","email":"x@y"}`), 0,
			`{"count":1,"ids":["a"]}`},
	}
	for _, tc := range cases {
		resp := c.Do(ctx, tc.req)
		if resp.Err != nil {
			t.Errorf("%s: %v", tc.reason, resp.Err)
			continue
		}
		if resp.RPC == nil || resp.RPC.Code != tc.code || string(resp.Body) != tc.body {
			t.Errorf("%s:\ngot  %v %s\nwant %d %s", tc.reason, resp.RPC, resp.Body, tc.code, tc.body)
		}
		if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: status %d, content type %q: want 200 and application/json", tc.reason, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
	resp := c.Do(ctx, call("acme.users.v1.UserService/GetUser", `{"id":"7"}`))
	if got := resp.Header.Get("X-Served-By"); got != "v1" {
		t.Errorf("header metadata x-served-by = %q, want v1", got)
	}
	if got := resp.RPC.Trailer.Get("X-Cost"); got != "3" {
		t.Errorf("trailer x-cost = %q, want 3", got)
	}
	if got := resp.RPCMetadata().Get("X-Cost"); got != "3" {
		t.Errorf("RPCMetadata has no trailer x-cost (%q)", got)
	}
}

// TestMetadataRewrites checks that the recorded metadata is sent without
// the target's removeHeaders, and the target's headers with ${ENV}
// expanded replace recorded ones.
func TestMetadataRewrites(t *testing.T) {
	desc := rpctest.Descriptors(t)
	var got atomic.Value
	addr := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		got.Store(c.Metadata)
		return c.Send(`{}`)
	})
	t.Setenv("SHADOWTEST_TEST_TOKEN", "s3cr3t-token")
	t.Setenv("RPC_TEST_CI_SECRET", "ci-secret")
	c := client(t, desc, addr, func(target *framework.Target) {
		target.Headers = map[string]string{"Authorization": "Bearer ${SHADOWTEST_TEST_TOKEN}", "X-Leak": "${RPC_TEST_CI_SECRET}"}
		target.RemoveHeaders = []string{"X-Debug"}
	})
	req := call("acme.users.v1.UserService/GetUser", `{"id":"1"}`)
	req.Header = http.Header{"X-Tenant": {"acme"}, "X-Debug": {"1"}, "Authorization": {"Bearer recorded"}, "Grpc-Timeout": {"1S"}}
	if resp := c.Do(context.Background(), req); resp.Err != nil || resp.RPC.Code != 0 {
		t.Fatalf("call failed: %v %v", resp.Err, resp.RPC)
	}
	md := got.Load().(interface{ Get(string) []string })
	if v := md.Get("x-tenant"); len(v) != 1 || v[0] != "acme" {
		t.Errorf("x-tenant = %v, want the recorded [acme]", v)
	}
	if v := md.Get("x-debug"); len(v) != 0 {
		t.Errorf("x-debug = %v, want it removed", v)
	}
	if v := md.Get("x-leak"); len(v) != 1 || v[0] != "" {
		t.Errorf("x-leak = %v: a variable the spec may not read (envref) must expand to nothing", v)
	}
	if v := md.Get("authorization"); len(v) != 1 || v[0] != "Bearer s3cr3t-token" {
		t.Errorf("authorization = %v, want the target's, expanded", v)
	}
}
