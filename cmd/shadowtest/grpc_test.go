package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// rpcLines are recorded calls of the test service, with an HTTP request
// mixed in.
const rpcLines = `{"time":"2026-11-30T10:00:00Z","rpc":{"method":"acme.users.v1.UserService/GetUser","metadata":{"x-tenant":["acme"]},"messages":[{"id":"7"}]},"response":{"code":"OK","messages":[{"user":{"id":"7"}}],"latencyMs":1.5}}
{"time":"2026-11-30T10:00:01Z","rpc":{"method":"acme.users.v1.UserService/GetUser","messages":[{"id":"8"}]}}
{"time":"2026-11-30T10:00:02Z","rpc":{"method":"/acme.users.v1.UserService/ListUsers","messagesBase64":["CAM="]},"response":{"code":"UNAVAILABLE","message":"down"}}
{"time":"2026-11-30T10:00:03Z","request":{"method":"GET","url":"/health"}}
`

// TestRPCConvertInitVetRun is a user's path through the CLI with recorded
// RPCs: traffic convert round-trips the records, init groups them by
// service and method into gRPC endpoints, vet passes the starter specs,
// and run replays them to two gRPC servers on loopback (descriptors from
// prod's server reflection).
func TestRPCConvertInitVetRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rpc.jsonl")
	os.WriteFile(in, []byte(rpcLines), 0o644)
	out, again := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "again.jsonl")
	if code, stdout, stderr := runCLI(t, "traffic", "convert", in, out); code != exitPass || !strings.Contains(stdout, "4 exchanges written") {
		t.Fatalf("convert: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "traffic", "convert", out, again); code != exitPass {
		t.Fatalf("convert again: exit %d %s", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte(`"rpc":{"method":"acme.users.v1.UserService/ListUsers","messagesBase64":["CAM="]}`)) {
		t.Errorf("JSONL → JSONL is not stable or lost the RPC records:\n%s\n%s", a, b)
	}

	specs := filepath.Join(dir, "specs")
	code, stdout, stderr := runCLI(t, "init", "--from", out, specs)
	if code != exitPass || !strings.Contains(stdout, "acme.users.v1.UserService/GetUser") || !strings.Contains(stdout, "1 HTTP requests left out") {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	text, _ := os.ReadFile(filepath.Join(specs, "1-user-service-get-user.cue"))
	if !bytes.Contains(text, []byte(`grpc: "acme.users.v1.UserService/GetUser"`)) {
		t.Errorf("the GetUser endpoint's file:\n%s", text)
	}
	if code, stdout, stderr := runCLI(t, "vet", specs); code != exitPass || !strings.Contains(stdout, "ok (2 endpoints)") {
		t.Fatalf("vet of the starter specs: exit %d\n%s%s", code, stdout, stderr)
	} else if !strings.Contains(stdout, "grpc.reflection: the endpoints' grpc selectors and synthetic rpc templates are checked against prod's server reflection when a run or proxy starts") {
		// The starter specs read prod's server reflection, which vet
		// (offline) cannot: it says what it left for the run.
		t.Errorf("vet does not say that reflection-based selectors are checked at run start:\n%s", stdout)
	}

	desc := rpctest.Descriptors(t)
	serve := func(version string) string {
		return rpctest.Serve(t, desc, func(c *rpctest.Call) error {
			if strings.HasSuffix(c.Method, "/ListUsers") {
				return status.Error(codes.Unavailable, "down")
			}
			return c.Send(fmt.Sprintf(`{"user":{"id":%q},"requestId":%q}`, c.Field("id"), version))
		})
	}
	prod, shadow := serve("v1"), serve("v2")
	code, stdout, stderr = runCLI(t, "run", specs, "-t", "prod=grpc://"+prod, "-t", "shadow=grpc://"+shadow)
	if code != exitFail || !strings.Contains(stdout, "value $.requestId") {
		t.Fatalf("run: exit %d, want 1 with the requestId difference\n%s%s", code, stdout, stderr)
	}
	os.WriteFile(filepath.Join(specs, "ignore.cue"), []byte("package shadow\ndefaults: ignore: [\"$.requestId\"]\n"), 0o644)
	if code, stdout, stderr = runCLI(t, "run", specs, "-t", "prod=grpc://"+prod, "-t", "shadow=grpc://"+shadow); code != exitPass {
		t.Fatalf("run with requestId ignored: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
}

// TestRPCSecretsNeverInOutput: the authorization metadata recorded with
// the calls, and the one a target sets from ${SHADOW_TOKEN}, reach no
// output, even when a hostile shadow echoes them back in its metadata,
// trailers and messages.
func TestRPCSecretsNeverInOutput(t *testing.T) {
	s := secrets{}
	recorded, envToken := s.newToken("recorded authorization metadata"), s.newToken("${SHADOW_TOKEN} metadata")
	apiKey := s.new("recorded x-api-key metadata")
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, func(c *rpctest.Call) error { return c.Send(`{"user":{"id":"1"}}`) })
	shadow := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		auth := strings.Join(c.Metadata.Get("authorization"), ",") + " " + strings.Join(c.Metadata.Get("x-api-key"), ",")
		c.SetHeader("x-echo", auth, "authorization", auth)
		c.SetTrailer("x-echo-trailer", auth)
		return c.Send(fmt.Sprintf(`{"user":{"id":"1","email":%q},"requestId":%q}`, auth, auth))
	})
	dir := t.TempDir()
	rpctest.WriteProto(t, dir)
	line := fmt.Sprintf(`{"rpc":{"method":"acme.users.v1.UserService/GetUser","metadata":{"authorization":["Bearer %s"],"x-api-key":["%s"]},"messages":[{"id":"1"}]}}`, recorded, apiKey)
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(line+"\n"+line+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(fmt.Sprintf(`package shadow
targets: prod: url: "grpc://%s"
targets: shadow: {url: "grpc://%s", headers: authorization: "Bearer ${SHADOW_TOKEN}"}
grpc: protos: ["users.proto"]
traffic: [{jsonl: "traffic.jsonl"}]
defaults: headers: ["x-echo", "authorization", "x-echo-trailer"]
endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"
`, prod, shadow)), 0o644)
	code, outputs := runOutputs(t, dir, []string{"SHADOW_TOKEN=" + envToken}, "run", ".")
	if code != exitFail || !bytes.Contains(outputs["stdout"], []byte("header:X-Echo")) {
		t.Fatalf("exit %d, want 1 with the echoed metadata as a difference\nstdout:\n%s\nstderr:\n%s", code, outputs["stdout"], outputs["stderr"])
	}
	assertNoSecret(t, outputs, s)
}

// TestGRPCTargetsIgnoreTheEnvironmentsProxy: the HTTP clients never use a
// proxy from the environment (Transport.Proxy is nil), but gRPC's client
// did: with HTTPS_PROXY set in the CI job, every call of a grpc:// target
// went through the proxy's CONNECT tunnel (metadata and messages in clear
// for plaintext gRPC) while HTTP went direct.
func TestGRPCTargetsIgnoreTheEnvironmentsProxy(t *testing.T) {
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	connects := make(chan string, 16)
	go func() {
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 256)
			n, _ := c.Read(buf)
			connects <- strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
			c.Close()
		}
	}()
	dir := t.TempDir()
	// Not loopback (Go never proxies loopback), and never resolvable.
	spec := `package shadow
targets: prod: {url: "grpc://prod.shadowtest.invalid:9000", timeout: "500ms"}
targets: shadow: {url: "grpc://shadow.shadowtest.invalid:9000", timeout: "500ms"}
grpc: reflection: true
traffic: [{synthetic: requests: [{rpc: "a.B/C", message: {}}]}]
endpoints: x: grpc: "a.B/C"
`
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(spec), 0o644)
	r := shadowtestEnv(t, []string{"HTTPS_PROXY=http://" + proxy.Addr().String(), "https_proxy=http://" + proxy.Addr().String(), "NO_PROXY=", "no_proxy="},
		"run", dir, "--junit", "none")
	if r.code != exitAborted {
		t.Errorf("exit %d, want 3 (prod unreachable)\n%s%s", r.code, r.stdout, r.stderr)
	}
	select {
	case first := <-connects:
		t.Errorf("the gRPC client went through HTTPS_PROXY: %q", first)
	default:
	}
}
