package rpc_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
)

// legacyProto is a proto2 service whose answer has a required field, held
// by a proto3-style wrapper too, so that both the message and one holding
// it must be checked.
const legacyProto = `syntax = "proto2";
package acme.legacy.v1;
service Legacy {
  rpc Get(GetRequest) returns (Item);
  rpc Wrap(GetRequest) returns (Wrapper);
}
message GetRequest { required string id = 1; optional string note = 2; }
message Item { required string id = 1; optional string name = 2; }
message Wrapper { optional Item item = 1; }
`

func legacyDescriptors(t *testing.T) *rpc.Descriptors {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "legacy.proto"), []byte(legacyProto), 0o644); err != nil {
		t.Fatal(err)
	}
	desc, err := rpc.Compile(context.Background(), dir, []string{"legacy.proto"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// TestRequiredFieldsStillChecked: the codec skips proto's check of
// required fields for messages that have none (proto3), but a proto2
// answer or recorded request that lacks a required field is still refused,
// directly or inside another message.
func TestRequiredFieldsStillChecked(t *testing.T) {
	desc := legacyDescriptors(t)
	for _, tc := range []struct {
		method, answer string
		ok             bool
	}{
		{"Get", "\x0a\x017", true},             // Item{id: "7"}
		{"Get", "\x12\x03bob", false},          // Item{name: "bob"}: id is required
		{"Wrap", "\x0a\x03\x0a\x017", true},    // Wrapper{item: {id: "7"}}
		{"Wrap", "\x0a\x05\x12\x03bob", false}, // Wrapper{item: {name: "bob"}}
		{"Wrap", "", true},                     // Wrapper{}: item is optional
	} {
		addr := rawGRPC(t, grpcAnswer(frame([]byte(tc.answer)), "0"))
		c, err := rpc.NewClient(framework.Target{Name: "shadow", URL: "grpc://" + addr}, "", desc, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		resp := c.Do(context.Background(), call("acme.legacy.v1.Legacy/"+tc.method, `{"id":"7"}`))
		c.Close()
		switch {
		case tc.ok && (resp.Err != nil || !json.Valid(resp.Body)):
			t.Errorf("%s answered %q: error %v, body %s; want the message", tc.method, tc.answer, resp.Err, resp.Body)
		case !tc.ok && (resp.Err == nil || resp.ErrKind != "protocol" || !strings.Contains(resp.Err.Error(), "required field")):
			t.Errorf("%s answered %q without a required field: error %v (%s), body %s; want a protocol failure naming it", tc.method, tc.answer, resp.Err, resp.ErrKind, resp.Body)
		}
	}

	ex := framework.Exchange{Request: *call("acme.legacy.v1.Legacy/Get", `{"note":"no id"}`)}
	if err := desc.Prepare(&ex); err == nil || !strings.Contains(err.Error(), "required field") {
		t.Errorf("a recorded request without its required field: %v, want an error naming it", err)
	}
}

// TestPrepareRequestLeavesTheRecordedResponse: with prod live the recorded
// response is not used, so PrepareRequest neither decodes nor rewrites it
// (Prepare does, and refuses one that is not the method's output).
func TestPrepareRequestLeavesTheRecordedResponse(t *testing.T) {
	desc := legacyDescriptors(t)
	exchange := func() *framework.Exchange {
		return &framework.Exchange{
			Request:  *call("acme.legacy.v1.Legacy/Get", `{"id":"7", "note": "x"}`),
			Recorded: &framework.Response{Status: 200, Body: []byte(`[{"nope":1}]`), RPC: &framework.RPCStatus{Messages: [][]byte{[]byte(`{"nope":1}`)}}},
		}
	}
	ex := exchange()
	if err := desc.PrepareRequest(ex); err != nil {
		t.Fatal(err)
	}
	if string(ex.Request.Body) != `{"id":"7","note":"x"}` || !ex.Request.RPC.Wire || string(ex.Recorded.Body) != `[{"nope":1}]` {
		t.Errorf("request body %s (wire %v), recorded body %s; want the canonical request and the recording untouched", ex.Request.Body, ex.Request.RPC.Wire, ex.Recorded.Body)
	}
	if err := desc.Prepare(exchange()); err == nil || !strings.Contains(err.Error(), "response") {
		t.Errorf("Prepare of a recorded response that is not an Item: %v, want an error", err)
	}
}
