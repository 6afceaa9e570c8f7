//go:build !windows

package main

import (
	"bytes"
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/shadowtest/shadowtest/fixtures/grpcdemo"
)

// TestProxyPassesGRPC: shadowtest proxy takes gRPC calls over h2c on its
// --listen address, next to HTTP/1.1, and passes them to prod: a unary
// call and a server stream get prod's answers, an unknown service prod's
// status.
func TestProxyPassesGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prod := grpc.NewServer()
	checks := health.NewServer()
	checks.SetServingStatus("acme.Users", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(prod, checks)
	go prod.Serve(l)
	defer prod.Stop()

	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	os.WriteFile(filepath.Join(s.dir, "shadow.cue"), []byte(`package shadow

targets: {
	prod: url:   "http://`+l.Addr().String()+`"
	shadow: url: "http://127.0.0.1:9"
}
endpoints: items: {path: "/items/{id}"}
`), 0o644)
	s.start(nil)
	conn, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(s.front, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := healthpb.NewHealthClient(conn)
	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "acme.Users"})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("unary call through the proxy: %v %v\n%s", resp, err, s.stderr.String())
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "acme.Nobody"}); status.Code(err) != codes.NotFound {
		t.Errorf("prod's NOT_FOUND through the proxy: %v", err)
	}
	watch, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "acme.Users"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := watch.Recv()
	if err != nil || first.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("server stream through the proxy: %v %v", first, err)
	}
	checks.SetServingStatus("acme.Users", healthpb.HealthCheckResponse_NOT_SERVING)
	next, err := watch.Recv()
	if err != nil || next.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("server stream's second message through the proxy: %v %v", next, err)
	}
}

// TestProxyGRPCRecordingRoundTrip: shadowtest proxy mirrors gRPC calls of
// a spec's RPC endpoint and judges them, --record writes them as JSONL RPC
// records without their secret metadata, and run replays the recording
// against the same services; init --from reads it.
func TestProxyGRPCRecordingRoundTrip(t *testing.T) {
	const token = "Bearer grpc-live-t0ken-9f8e7d"
	prod, err := grpcdemo.Start("v1", grpcdemo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	shadow, err := grpcdemo.Start("v1", grpcdemo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Close()
	proto, err := fs.ReadFile(grpcdemo.Proto(), "shop.proto")
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "rpcs.jsonl")
	writeSpec := func(dir, traffic string) {
		os.WriteFile(filepath.Join(dir, "shop.proto"), proto, 0o644)
		os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(`package shadow

targets: prod: url:   "`+prod.URL+`"
targets: shadow: url: "`+shadow.URL+`"
grpc: protos: ["shop.proto"]
endpoints: "get-product": {
	grpc:   "acme.shop.v1.CatalogService/GetProduct"
	ignore: ["$.requestId"]
	thresholds: minSamples: 5
}
`+traffic), 0o644)
	}
	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	writeSpec(s.dir, "")
	s.start([]string{"--record", rec, "--results", filepath.Join(s.dir, "results.json")})

	desc, err := grpcdemo.Descriptor()
	if err != nil {
		t.Fatal(err)
	}
	method := desc.Services().ByName("CatalogService").Methods().ByName("GetProduct")
	conn, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(s.front, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", token), 10*time.Second)
	defer cancel()
	for id := range 8 {
		req := dynamicpb.NewMessage(method.Input())
		req.Set(method.Input().Fields().ByName("id"), protoreflect.ValueOfInt32(int32(id+1)))
		resp := dynamicpb.NewMessage(method.Output())
		if err := conn.Invoke(ctx, "/acme.shop.v1.CatalogService/GetProduct", req, resp); err != nil {
			t.Fatalf("GetProduct %d through the proxy: %v", id+1, err)
		}
	}
	if code := s.stop(syscall.SIGTERM); code != exitPass {
		t.Fatalf("proxy exit %d\n%s\n%s", code, s.stdout.String(), s.stderr.String())
	}
	if !strings.Contains(s.stdout.String(), "get-product") || !strings.Contains(s.stderr.String(), "recorded 8 exchange(s)") {
		t.Fatalf("session output:\n%s\n%s", s.stdout.String(), s.stderr.String())
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("grpc-live-t0ken")) || bytes.Count(data, []byte(`"rpc":{"method":"acme.shop.v1.CatalogService/GetProduct"`)) != 8 {
		t.Fatalf("recording:\n%s", data)
	}

	replay := t.TempDir()
	writeSpec(replay, `traffic: [{jsonl: "`+rec+`"}]`+"\n")
	if r := shadowtest(t, "run", replay, "--junit", filepath.Join(replay, "junit.xml")); r.code != exitPass || !strings.Contains(r.stdout, "get-product") {
		t.Fatalf("run over the recording: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := shadowtest(t, "init", "--from", rec, filepath.Join(t.TempDir(), "specs")); r.code != exitPass {
		t.Fatalf("init --from the recording: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
