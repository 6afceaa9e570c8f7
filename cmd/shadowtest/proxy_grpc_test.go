package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
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
