package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// TestRPCStatusMessageSecretsNeverPrinted: a status message is free text
// ("invalid token=…", "rejected Bearer …: expired"), shown as the JSON
// string $.message of the status body, where only secrets known by value
// were masked (redteam6). What the text rules mask in it is learned from
// every pair; no output shows it.
func TestRPCStatusMessageSecretsNeverPrinted(t *testing.T) {
	s := secrets{}
	var mu sync.Mutex
	desc := rpctest.Descriptors(t)
	answer := func(side string) func(c *rpctest.Call) error {
		return func(c *rpctest.Call) error {
			mu.Lock()
			first, second := s.new(side+" first"), s.new(side+" second")
			mu.Unlock()
			return status.Error(codes.Unauthenticated, fmt.Sprintf("invalid token=%s; rejected Bearer %s9x9x: expired", first, second))
		}
	}
	prod, shadow := rpctest.Serve(t, desc, answer("prod")), rpctest.Serve(t, desc, answer("shadow"))
	dir := t.TempDir()
	rpctest.WriteProto(t, dir)
	var lines []string
	for i := range 4 {
		lines = append(lines, fmt.Sprintf(`{"rpc":{"method":"acme.users.v1.UserService/GetUser","messages":[{"id":"%d"}]}}`, i))
	}
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(fmt.Sprintf(`package shadow
targets: prod: url: "grpc://%s"
targets: shadow: url: "grpc://%s"
grpc: protos: ["users.proto"]
traffic: [{jsonl: "traffic.jsonl"}]
report: examples: 1
endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"
`, prod, shadow)), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != exitFail || !strings.Contains(string(outputs["stdout"]), `value $.message`) {
		t.Fatalf("exit %d, want 1 with the status message as a difference\n%s%s", code, outputs["stdout"], outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
}
