//go:build !windows

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

const reloadSpec = `package shadow

targets: {
	prod: url:   %[1]q
	shadow: url: %[2]q
}
mirror: concurrency: 4
`

func TestProxySIGHUPChangesEndpoints(t *testing.T) {
	s := liveWithSpec(t, reloadSpec+`endpoints: {
	items: {path: "/items/{id}", thresholds: minSamples: 5}
	old: {path: "/old/{id}", thresholds: minSamples: 5}
}
`)
	for i := range 6 {
		s.get(fmt.Sprintf("/items/%d", i))
		s.get(fmt.Sprintf("/old/%d", i))
	}
	waitFor(t, "12 copies", func() bool { return s.shadowHits.Load() == 12 })
	waitFor(t, "old's 6 pairs compared", func() bool { // the shadow's answer reached is not yet the pair counted
		return strings.Contains(s.adminGet("/metrics"), `shadowtest_live_compared_pairs_total{endpoint="old"} 6`)
	})

	// old is removed, fresh is added; a rename is both.
	specFile := filepath.Join(s.dir, "shadow.cue")
	spec, _ := os.ReadFile(specFile)
	spec = []byte(strings.Replace(string(spec), `old: {path: "/old/{id}"`, `fresh: {path: "/fresh/{id}"`, 1))
	os.WriteFile(specFile, spec, 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool {
		return strings.Contains(s.stderr.String(), "SIGHUP: spec reloaded (endpoints added: fresh; removed: old; judged at the end with what they measured: old (removed by reload 1))")
	})
	for i := range 6 {
		s.get(fmt.Sprintf("/items/%d", 10+i))
		s.get(fmt.Sprintf("/fresh/%d", i))
		s.get(fmt.Sprintf("/old/%d", 10+i)) // no longer an endpoint: not mirrored
	}
	waitFor(t, "24 copies", func() bool { return s.shadowHits.Load() == 24 })
	waitFor(t, "fresh's pairs in the metrics", func() bool {
		return strings.Contains(s.adminGet("/metrics"), `shadowtest_live_compared_pairs_total{endpoint="fresh"} 6`)
	})
	if code := s.stop(syscall.SIGTERM); code != exitPass {
		t.Fatalf("exit %d\n%s\n%s", code, s.stdout.String(), s.stderr.String())
	}
	results, err := observe.ReadFile(filepath.Join(s.dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, pairs := range map[string]int64{"items": 12, "old (removed by reload 1)": 6, "fresh": 6} {
		if e := results.Endpoint(name); e == nil || e.Pairs != pairs {
			t.Errorf("results: endpoint %q: %+v, want %d pairs", name, e, pairs)
		}
	}
	if results.Endpoint("old") != nil {
		t.Error("the removed endpoint is still in the results under its own name")
	}
	var unmatched int64
	for route, n := range results.Unmatched {
		if strings.Contains(route, "/old/") {
			unmatched += n
		}
	}
	if unmatched != 6 {
		t.Errorf("unmatched %v: want the 6 requests to the removed endpoint", results.Unmatched)
	}
	junit, _ := os.ReadFile(filepath.Join(s.dir, "junit.xml"))
	for _, want := range []string{`shadowtest.old (removed by reload 1)`, `shadowtest.fresh`, `shadowtest.items`} {
		if !strings.Contains(string(junit), want) {
			t.Errorf("the JUnit has no %q:\n%s", want, junit)
		}
	}
	if !strings.Contains(s.stdout.String(), "old (removed by reload 1)") {
		t.Errorf("the summary does not show the removed endpoint:\n%s", s.stdout.String())
	}
}

func TestProxySurvivesASIGHUPStorm(t *testing.T) {
	s := liveWithSpec(t, reloadSpec+`endpoints: items: {path: "/items/{id}", thresholds: minSamples: 5}
`)
	specFile := filepath.Join(s.dir, "shadow.cue")
	good, _ := os.ReadFile(specFile)
	variants := [][]byte{
		good,
		append(append([]byte{}, good...), "mirror: bogus: 1\n"...), // invalid: refused
		[]byte(strings.Replace(string(good), `items: {path: "/items/{id}"`, `things: {path: "/items/{id}"`, 1)),
		append(append([]byte{}, good...), "mirror: {mode: \"sampled\", rate: 0.5}\n"...),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 60 {
			s.get(fmt.Sprintf("/items/%d", i))
		}
	}()
	for i := range 40 {
		os.WriteFile(specFile, variants[i%len(variants)], 0o644)
		s.cmd.Process.Signal(syscall.SIGHUP)
	}
	<-done
	os.WriteFile(specFile, good, 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "a last reload", func() bool { return strings.Count(s.stderr.String(), "SIGHUP: spec") >= 2 })
	for i := range 5 {
		if got := s.get(fmt.Sprintf("/items/x%d", i)); !strings.Contains(got, `"price":12.5`) {
			t.Fatalf("client got %q after the storm", got)
		}
	}
	if code := s.stop(syscall.SIGTERM); code == exitInvalid || code == exitAborted || strings.Contains(s.stderr.String(), "panic") {
		t.Fatalf("exit %d after a SIGHUP storm:\n%s", code, s.stderr.String())
	}
	results, err := observe.ReadFile(filepath.Join(s.dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var requests int64
	for _, e := range results.Endpoints {
		requests += e.Requests
		for _, n := range e.Filtered {
			requests += n
		}
	}
	for _, n := range results.Unmatched {
		requests += n
	}
	if requests > 65 {
		t.Fatalf("%d requests counted for 65 sent: a request counted twice across reloads", requests)
	}
	t.Logf("%d reload lines; endpoints at the end: %d", strings.Count(s.stderr.String(), "SIGHUP: spec"), len(results.Endpoints))
}

// TestProxySIGHUPReloadsGRPCDescriptors: SIGHUP compiles the spec's
// .proto files again (the log says how many methods they hold); a .proto
// that no longer compiles leaves the spec and descriptors in force.
func TestProxySIGHUPReloadsGRPCDescriptors(t *testing.T) {
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, func(c *rpctest.Call) error { return c.Send(`{}`) })
	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	proto := rpctest.WriteProto(t, s.dir)
	os.WriteFile(filepath.Join(s.dir, "shadow.cue"), []byte(`package shadow
targets: prod: url: "grpc://`+prod+`"
targets: shadow: url: "grpc://`+prod+`"
grpc: protos: ["users.proto"]
endpoints: users: grpc: "acme.users.v1.UserService/*"
`), 0o644)
	s.start(nil)
	// A method added to the service: the reload sees it.
	os.WriteFile(proto, []byte(strings.Replace(rpctest.UsersProto, "rpc CreateUser(User) returns (User);", "rpc CreateUser(User) returns (User);\n  rpc DeleteUser(User) returns (User);", 1)), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool {
		return strings.Contains(s.stderr.String(), "SIGHUP: spec reloaded (same endpoints; gRPC descriptors reloaded (7 methods))")
	})
	os.WriteFile(proto, []byte("syntax = \"proto3\";\nmessage {\n"), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refused reload", func() bool {
		return strings.Contains(s.stderr.String(), "SIGHUP: spec not reloaded, the old one stays in force") && strings.Contains(s.stderr.String(), "users.proto:2:")
	})
	if code := s.stop(syscall.SIGTERM); code != exitPass && code != exitFail {
		t.Fatalf("exit %d\n%s", code, s.stderr.String())
	}
}
