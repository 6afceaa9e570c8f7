package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// TestTLS serves gRPC over TLS with a certificate from a CA generated for
// the test, and checks that a grpcs:// target verifies it against the
// spec's CA file and server name, and accepts any certificate only when
// told insecureSkipVerify.
func TestTLS(t *testing.T) {
	desc := rpctest.Descriptors(t)
	dir := t.TempDir()
	creds, _ := rpctest.TLS(t, dir, "users-v2.internal")
	addr := rpctest.Serve(t, desc, func(c *rpctest.Call) error { return c.Send(`{"requestId":"tls"}`) }, creds)
	cases := []struct {
		reason string
		tls    framework.TLS
		ok     bool
	}{
		{"the spec's CA and server name", framework.TLS{CA: "ca.pem", ServerName: "users-v2.internal"}, true},
		{"the system's CAs do not know the test CA", framework.TLS{ServerName: "users-v2.internal"}, false},
		{"the certificate is not valid for the name", framework.TLS{CA: "ca.pem", ServerName: "users-v1.internal"}, false},
		{"the certificate is not valid for the URL's IP without serverName", framework.TLS{CA: "ca.pem"}, false},
		{"insecureSkipVerify, only when said", framework.TLS{InsecureSkipVerify: true}, true},
	}
	for _, tc := range cases {
		// The test checks what is verified, not how fast: a handshake and
		// a call on a starved machine may take seconds, and a timeout
		// would read as a failure of another kind.
		target := framework.Target{Name: "shadow", URL: "grpcs://" + addr, Timeout: 30 * time.Second, TLS: tc.tls}
		c, err := rpc.NewClient(target, dir, desc, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		resp := c.Do(context.Background(), call("acme.users.v1.UserService/GetUser", `{"id":"1"}`))
		c.Close()
		if tc.ok && (resp.Err != nil || string(resp.Body) != `{"requestId":"tls"}`) {
			t.Errorf("%s: got %v %s, want the answer", tc.reason, resp.Err, resp.Body)
		}
		if !tc.ok && resp.ErrKind != "tls" {
			t.Errorf("%s: got kind %q (%v), want a tls failure", tc.reason, resp.ErrKind, resp.Err)
		}
	}
	plain := framework.Target{Name: "shadow", URL: "grpc://" + addr, TLS: framework.TLS{CA: "ca.pem"}}
	if _, err := rpc.NewClient(plain, dir, desc, 0); err == nil || !strings.Contains(err.Error(), "grpcs://") {
		t.Errorf("tls on a plaintext grpc:// target: err %v, want one saying to use grpcs://", err)
	}
	missing := framework.Target{Name: "shadow", URL: "grpcs://" + addr, TLS: framework.TLS{CA: "nope.pem"}}
	if _, err := rpc.NewClient(missing, dir, desc, 0); err == nil || !strings.Contains(err.Error(), "tls.ca") {
		t.Errorf("a missing CA file: err %v, want one naming tls.ca", err)
	}
}
