package live

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/spec"
)

// TestGRPCReloadReplacesDescriptors: a reload (SIGHUP) compiles the
// spec's .proto files again. A field the session's start did not know
// (price: prod and shadow differ on it) is compared after the reload, and
// a reload whose .proto no longer compiles fails and keeps the
// descriptors in force.
func TestGRPCReloadReplacesDescriptors(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	shadow := serveItems(t, svc, "v2", 13.5)
	dir := t.TempDir()
	grpcSpecIn(t, dir, "grpc://"+prod.addr, "grpc://"+shadow.addr, `endpoints: get: ignore: ["$.name"]`)
	proto := filepath.Join(dir, "items.proto")
	withoutPrice := strings.Replace(itemsProto, "double price = 3;", "", 1)
	os.WriteFile(proto, []byte(withoutPrice), 0o644)
	plan, err := spec.Load(dir, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, front := grpcSession(t, plan, Options{})
	conn := dial(t, strings.TrimPrefix(front.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	get := func(want int64) {
		t.Helper()
		invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": "1"}))
		eventually(t, "the pair compared", func() bool { return endpointResults(s, "get").Pairs == want })
	}
	get(1)
	if e := endpointResults(s, "get"); e.Matches != 1 {
		t.Fatalf("descriptors without price: %d of 1 pairs match (categories %v), want 1", e.Matches, keys(e.Categories))
	}

	os.WriteFile(proto, []byte(itemsProto), 0o644)
	next, err := spec.Load(dir, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := s.Reload(next)
	if err != nil || !strings.Contains(changes.String(), "gRPC descriptors reloaded (4 methods)") {
		t.Fatalf("reload: %v, %q", err, changes)
	}
	get(2)
	if e := endpointResults(s, "get"); e.Categories["value $.price"] == nil {
		t.Fatalf("after the reload, price is not compared: categories %v", keys(e.Categories))
	}

	// The spec was valid when loaded; its .proto breaks before the reload
	// reads it: the reload fails and the descriptors with price stay.
	os.WriteFile(proto, []byte("syntax = \"proto3\";\nmessage {\n"), 0o644)
	if _, err := s.Reload(next); err == nil || !strings.Contains(err.Error(), "items.proto:2") {
		t.Fatalf("reload with a broken .proto: %v, want its file:line", err)
	}
	get(3)
	if e := endpointResults(s, "get"); e.Categories["value $.price"] == nil || e.Categories["value $.price"].Count != 2 {
		t.Errorf("after a failed reload, price is not compared any more: categories %v", keys(e.Categories))
	}
}
