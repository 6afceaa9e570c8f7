package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// TestGRPCRecordRoundTrip: --record writes proxied RPCs as JSONL RPC
// records (messages as protojson, status, details, metadata and trailers),
// with secret metadata left out and secret members masked; the runner
// replays the recording against the same services and every pair matches.
func TestGRPCRecordRoundTrip(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	shadow := serveItems(t, svc, "v1", 12.5)
	path := filepath.Join(t.TempDir(), "rpcs.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, red := newTestRecorderParts(t)
	recorder := NewRecorder(f, false, RecordOptions{}, red, sc)
	s, front := grpcSession(t, grpcSpec(t, prod.addr, shadow.addr, ""), Options{Record: recorder.Record})
	conn := dial(t, strings.TrimPrefix(front.URL, "http://"))
	const token = "Bearer rpc-s3cret-token-4242"
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", token, "x-tenant", "acme"), 10*time.Second)
	defer cancel()
	invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": "1", "password": "hunter2-hunter2"}))
	invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": "8", "fail": "NOT_FOUND"}))
	invoke(ctx, conn, svc, "List", svc.newQuery(map[string]any{"id": "s", "count": int32(2)}))
	invoke(ctx, conn, svc, "Collect", svc.newQuery(map[string]any{"id": "a"}), svc.newQuery(map[string]any{"id": "b"}))
	front.Close()
	s.Close()
	if err := recorder.Close(); err != nil {
		t.Fatal(err)
	}
	if c := recorder.Counts(); c.Written != 4 || c.Dropped != 0 || c.Withheld != 0 {
		data, _ := os.ReadFile(path)
		t.Fatalf("recorded %+v; want 4 written\n%s\n%v", c, data, counter(t, s, "shadowtest_live_dropped_requests_total", nil))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"rpc-s3cret-token-4242", "hunter2-hunter2", "authorization", "Authorization"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the recording holds %q:\n%s", secret, data)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var first struct {
		RPC struct {
			Method   string              `json:"method"`
			Metadata map[string][]string `json:"metadata"`
			Messages []map[string]any    `json:"messages"`
		} `json:"rpc"`
		Response struct {
			Code     string              `json:"code"`
			Metadata map[string][]string `json:"metadata"`
			Trailers map[string][]string `json:"trailers"`
			Messages []map[string]any    `json:"messages"`
		} `json:"response"`
	}
	// Calls are decoded concurrently: the lines may come in another order.
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, `"messages":[{"id":"1"`) })
	if i < 0 {
		t.Fatalf("no record of Get 1:\n%s", data)
	}
	if err := json.Unmarshal([]byte(lines[i]), &first); err != nil {
		t.Fatal(err)
	}
	if first.RPC.Method != "shadowtest.live.v1.Items/Get" || first.RPC.Messages[0]["id"] != "1" || first.Response.Code != "OK" ||
		first.Response.Messages[0]["price"] != 12.5 || len(first.Response.Trailers["X-Trailer"]) != 1 || len(first.RPC.Metadata["X-Tenant"]) != 1 {
		t.Errorf("the record of Get 1:\n%s", lines[i])
	}
	for i, want := range []string{`"code":"NOT_FOUND"`, `"detailsBase64":`, `"messages":[{"id":"s-0"`, `"messages":[{"id":"a"},{"id":"b"}]`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("want %d: no %s in the recording:\n%s", i, want, data)
		}
	}

	// The recording replays: the same services answer alike.
	reader := traffic.NewJSONLReader(bytes.NewReader(data), "rpcs.jsonl")
	var exchanges []framework.Exchange
	for {
		ex, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		exchanges = append(exchanges, ex)
	}
	collect := slices.IndexFunc(exchanges, func(ex framework.Exchange) bool {
		return ex.Request.RPC != nil && ex.Request.RPC.Method == "shadowtest.live.v1.Items/Collect"
	})
	if len(exchanges) != 4 || collect < 0 || len(exchanges[collect].Request.RPC.Messages) != 2 {
		t.Fatalf("read back %d exchanges, the client stream's at %d", len(exchanges), collect)
	}
	plan := grpcSpec(t, prod.addr, shadow.addr, `traffic: [{jsonl: "`+path+`"}]`)
	results := observe.NewResults(plan.Endpoints)
	if err := runner.Run(context.Background(), plan, results, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"get", "list", "collect"} {
		if e := results.Endpoint(name); e.Pairs == 0 || e.Matches != e.Pairs {
			t.Errorf("replaying the recording, %s: %d pairs, %d match; categories %v", name, e.Pairs, e.Matches, keys(e.Categories))
		}
	}
}

// TestGRPCRecordsUndecodableAsWireBytes: with RecordOptions.WireRPCs, a
// call the spec's descriptors cannot decode (here Get, which the spec's
// .proto does not declare yet) is recorded with its messages as wire bytes
// (messagesBase64), metadata scrubbed as for any call, and replays once
// the descriptors know the method. One whose messages hold a secret the
// recorder knows by value (the call's own bearer token) is withheld: wire
// bytes cannot be masked by name. Without the option, every such call is
// withheld.
func TestGRPCRecordsUndecodableAsWireBytes(t *testing.T) {
	t.Run("by default withheld", func(t *testing.T) { recordUndecodable(t, false) })
	t.Run("with WireRPCs", func(t *testing.T) { recordUndecodable(t, true) })
}

func recordUndecodable(t *testing.T, wire bool) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	dir := t.TempDir()
	withoutGet := strings.Replace(itemsProto, "rpc Get(Query) returns (Item) {", "rpc Other(Query) returns (Item) {", 1)
	os.WriteFile(filepath.Join(dir, "items.proto"), []byte(withoutGet), 0o644)
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(`package shadow
targets: prod: url: "grpc://`+prod.addr+`"
targets: shadow: url: "grpc://`+prod.addr+`"
grpc: protos: ["items.proto"]
endpoints: items: {grpc: "shadowtest.live.v1.Items/*", safe: true}
`), 0o644)
	plan, err := spec.Load(dir, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rpcs.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, red := newTestRecorderParts(t)
	recorder := NewRecorder(f, false, RecordOptions{WireRPCs: wire}, red, sc)
	s, front := grpcSession(t, plan, Options{Record: recorder.Record})
	conn := dial(t, strings.TrimPrefix(front.URL, "http://"))
	const token = "Bearer rpc-s3cret-token-4242"
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", token, "x-tenant", "acme"), 10*time.Second)
	defer cancel()
	for _, id := range []string{"1", "2"} {
		if got := invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": id})); got.status.Code() != 0 {
			t.Fatalf("Get %s: %v", id, got.status)
		}
	}
	invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": "3", "fail": "NOT_FOUND"}))
	invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": token})) // the token in a message
	front.Close()
	s.Close()
	if err := recorder.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !wire {
		if c := recorder.Counts(); c.Written != 0 || c.Withheld != 4 || len(data) != 0 {
			t.Fatalf("recorded %+v; want the 4 undecodable calls withheld\n%s", c, data)
		}
		return
	}
	if c := recorder.Counts(); c.Written != 3 || c.Withheld != 1 {
		t.Fatalf("recorded %+v; want 3 written, the call holding the token withheld\n%s", c, data)
	}
	if n := bytes.Count(data, []byte(`"messagesBase64":`)); n < 3 || bytes.Contains(data, []byte(`"messages":[{`)) {
		t.Errorf("want the undecodable calls' messages in base64:\n%s", data)
	}
	for _, secret := range []string{"rpc-s3cret-token-4242", "authorization", "Authorization", "cnBjLXMzY3JldC10b2tlbi00MjQy"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the recording holds %q:\n%s", secret, data)
		}
	}
	if !bytes.Contains(data, []byte(`"code":"NOT_FOUND"`)) || !bytes.Contains(data, []byte(`"X-Tenant":["acme"]`)) {
		t.Errorf("the NOT_FOUND status or the metadata is missing:\n%s", data)
	}

	// Once the spec's .proto declares Get, the recording replays.
	other := serveItems(t, svc, "v1", 12.5)
	replay := grpcSpec(t, prod.addr, other.addr, `traffic: [{jsonl: "`+path+`"}]
endpoints: get: ignore: ["$.name"]`)
	results := observe.NewResults(replay.Endpoints)
	if err := runner.Run(context.Background(), replay, results, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if e := results.Endpoint("get"); e.Pairs != 3 || e.Matches != 3 {
		t.Errorf("replaying the recording: %d pairs, %d match; categories %v", e.Pairs, e.Matches, keys(e.Categories))
	}
}

// blockedWriter blocks every Write until released.
type blockedWriter struct{ release chan struct{} }

func (w blockedWriter) Write(p []byte) (int, error) { <-w.release; return len(p), nil }
func (w blockedWriter) Close() error                { return nil }

// TestRecordQueueCountsRPCMessages: the recorder's queue is bounded in
// bytes (RecordQueueBytes), RPC messages included: an RPC recorded as wire
// bytes has no body, so five 20 MiB calls waiting for a stuck disk must not
// all be held (before, each counted as about 600 bytes).
func TestRecordQueueCountsRPCMessages(t *testing.T) {
	sc, red := newTestRecorderParts(t)
	w := blockedWriter{release: make(chan struct{})}
	recorder := NewRecorder(w, false, RecordOptions{WireRPCs: true}, red, sc)
	message := bytes.Repeat([]byte{0x0a}, 20<<20)
	for range 5 {
		recorder.Record(&framework.Exchange{
			Request:  framework.Request{Method: "POST", URL: "/pkg.Svc/Put", RPC: &framework.RPCCall{Method: "pkg.Svc/Put", Messages: [][]byte{message}, Wire: true}},
			Recorded: &framework.Response{Status: 200, RPC: &framework.RPCStatus{Wire: true, Messages: [][]byte{{}}}},
		})
	}
	dropped := recorder.Counts().Dropped
	close(w.release)
	recorder.Close()
	if dropped == 0 {
		t.Errorf("five 20 MiB RPCs were all queued (%d MiB), over the %d MiB bound", 100, RecordQueueBytes>>20)
	}
}
