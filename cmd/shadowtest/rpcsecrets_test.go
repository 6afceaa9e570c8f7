package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

const loginProto = `syntax = "proto3";
package acme.auth.v1;
service AuthService {
  rpc Login(LoginRequest) returns (LoginReply);
}
message LoginRequest {
  string user = 1;
  string password = 2;
  string api_key = 3;
}
message LoginReply {
  string session_token = 1;
  string note = 2;
}
`

// TestRPCMessageSecretsNeverInOutput: secret fields of request messages
// (password, apiKey) are known secrets, as those of a JSON request body
// are: a shadow that echoes them in its status message, its error
// details, its metadata or a harmless-looking field leaks none of them,
// and secret fields of response messages are masked by name.
func TestRPCMessageSecretsNeverInOutput(t *testing.T) {
	s := secrets{}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "auth.proto"), []byte(loginProto), 0o644)
	desc, err := rpc.Compile(context.Background(), dir, []string{"auth.proto"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	password, apiKey := s.new("request message password"), s.new("request message apiKey")
	prodSession, shadowSession := s.new("prod sessionToken"), s.new("shadow sessionToken")
	prod := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		return c.Send(fmt.Sprintf(`{"sessionToken":%q,"note":"welcome %s"}`, prodSession, c.Field("user")))
	})
	shadow := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		echo := c.Field("password") + " " + c.Field("api_key")
		if c.Field("user") == "bob" {
			c.SetHeader("x-debug", echo)
			return c.Send(fmt.Sprintf(`{"sessionToken":%q,"note":"welcome %s"}`, shadowSession, echo))
		}
		st, _ := status.New(codes.PermissionDenied, "wrong password "+echo).WithDetails(&errdetails.ErrorInfo{Reason: "BAD_PASSWORD " + echo, Metadata: map[string]string{"given": echo}})
		return st.Err()
	})
	var lines []string
	for _, user := range []string{"ada", "bob"} {
		lines = append(lines, fmt.Sprintf(`{"rpc":{"method":"acme.auth.v1.AuthService/Login","messages":[{"user":%q,"password":%q,"apiKey":%q}]}}`, user, password, apiKey))
	}
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(fmt.Sprintf(`package shadow
targets: prod: url: "grpc://%s"
targets: shadow: url: "grpc://%s"
grpc: protos: ["auth.proto"]
traffic: [{jsonl: "traffic.jsonl"}]
mirror: writes: "isolated"
defaults: headers: ["x-debug"]
endpoints: login: grpc: "acme.auth.v1.AuthService/Login"
`, prod, shadow)), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != exitFail {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, outputs["stdout"], outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
}
