package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// TestRPCHostileStatusIsEscaped: a shadow whose status message and
// metadata hold terminal escapes, a bidi override and a line break, with
// large error details, reaches the terminal and the HTML only as visible
// escapes.
func TestRPCHostileStatusIsEscaped(t *testing.T) {
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, func(c *rpctest.Call) error { return status.Error(codes.Internal, "plain") })
	shadow := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		c.SetHeader("x-evil", "\x1b]0;pwned\x07 \u202eevil")
		st, _ := status.New(codes.Internal, "\x1b[2J\x1b]0;title\x07\u202eredro\r\nfake line").WithDetails(&errdetails.DebugInfo{Detail: strings.Repeat("A", 40<<10)}) // under the metadata limit of a 64 KiB cap (framework/rpc TestStatusDetailsBoundedByBodyCap)
		return st.Err()
	})
	dir := t.TempDir()
	rpctest.WriteProto(t, dir)
	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, fmt.Sprintf(`{"rpc":{"method":"acme.users.v1.UserService/GetUser","messages":[{"id":"%d"}]}}`, i))
	}
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(fmt.Sprintf(`package shadow
targets: prod: url: "grpc://%s"
targets: shadow: url: "grpc://%s"
grpc: protos: ["users.proto"]
mirror: maxBodyBytes: 65536
traffic: [{jsonl: "traffic.jsonl"}]
defaults: headers: ["x-evil"]
endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"
`, prod, shadow)), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != exitFail || !bytes.Contains(outputs["stdout"], []byte(`value $.message`)) {
		t.Fatalf("exit %d, want 1 with the status message as a difference\n%s%s", code, outputs["stdout"], outputs["stderr"])
	}
	for name, out := range outputs {
		if i := bytes.IndexAny(out, "\x1b\x07\u202e"); i >= 0 && (name == "stdout" || name == "stderr" || name == "html") {
			t.Errorf("%s: raw control at %d: %q", name, i, out[max(0, i-60):min(len(out), i+40)])
		}
	}
}
