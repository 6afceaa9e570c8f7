package mirror

import (
	"context"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// TestReflectionChecksSelectorsAtStart: with grpc.reflection, vet cannot
// see prod's services (it says so); the session's start checks the
// endpoints' selectors and the synthetic rpc templates against what prod's
// server reflection lists, and refuses a name that is no method.
func TestReflectionChecksSelectorsAtStart(t *testing.T) {
	prod := rpctest.Serve(t, rpctest.Descriptors(t), func(c *rpctest.Call) error { return c.Send(`{}`) })
	plan := func(selector, template string) *framework.Plan {
		return &framework.Plan{
			Dir:       t.TempDir(),
			GRPC:      &framework.GRPC{Reflection: true, Pos: framework.Position{File: "spec.cue", Line: 3, Col: 1}},
			Prod:      framework.Target{Name: "prod", URL: "grpc://" + prod},
			Shadow:    framework.Target{Name: "shadow", URL: "grpc://" + prod},
			Endpoints: []framework.Endpoint{{Name: "users", GRPC: selector, Pos: framework.Position{File: "spec.cue", Line: 9, Col: 1}}},
			Traffic: []framework.TrafficSource{{Format: "synthetic", Pos: framework.Position{File: "spec.cue", Line: 12, Col: 1},
				Synthetic: &framework.Synthetic{Requests: []framework.SyntheticRequest{{RPC: template}}}}},
		}
	}
	for _, c := range []struct {
		reason, selector, template, want string
	}{
		{"both name methods", "acme.users.v1.UserService/*", "acme.users.v1.UserService/GetUser", ""},
		{"a selector names no method", "acme.users.v1.UserService/GetUsr", "acme.users.v1.UserService/GetUser", `spec.cue:9:1: endpoint "users": grpc acme.users.v1.UserService/GetUsr names no method`},
		{"a template names no method", "acme.users.v1.UserService/*", "acme.users.v1.UserService/GetUsr", "spec.cue:12:1: synthetic rpc acme.users.v1.UserService/GetUsr: service acme.users.v1.UserService has no method GetUsr"},
	} {
		r, err := NewRPC(context.Background(), plan(c.selector, c.template))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.reason, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.reason, err, c.want)
		}
		if r != nil {
			r.Close()
		}
	}
}
