package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// TestGRPCStatusMessageIsMaskedAsText: a status message (grpc-message) is
// free text; it was recorded as written, masked only by value
// (redteam6), so "invalid token=…" or "rejected Bearer …" from a service
// landed in the recording, and again in the status details. The text rules
// mask it, and the details are left out when they did.
func TestGRPCStatusMessageIsMaskedAsText(t *testing.T) {
	const (
		pair   = "Zk-status-pair-7d1e9a"
		bearer = "Zk9f8e7d6c5b4a39281706"
	)
	path := filepath.Join(t.TempDir(), "rpcs.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, red := newTestRecorderParts(t)
	recorder := NewRecorder(f, false, RecordOptions{}, red, sc)
	for _, message := range []string{"invalid token=" + pair, "rejected Bearer " + bearer + ": expired", "item 7 not found"} {
		body, _ := json.Marshal(map[string]any{"code": 16, "message": message})
		recorder.Record(&framework.Exchange{
			Request: framework.Request{Method: "POST", URL: "/pkg.Svc/Get", Body: []byte(`{"id":"7"}`),
				RPC: &framework.RPCCall{Method: "pkg.Svc/Get", Messages: [][]byte{[]byte(`{"id":"7"}`)}}},
			Recorded: &framework.Response{Status: 200, Body: body,
				RPC: &framework.RPCStatus{Code: 16, Message: message, Details: []byte("\x12" + string(rune(len(message))) + message)}},
		})
	}
	if err := recorder.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := recorder.Counts(); c.Written != 3 {
		t.Fatalf("recorded %+v, want 3 written:\n%s", c, data)
	}
	for _, want := range []string{`"message":"invalid token=[REDACTED]"`, `"message":"rejected Bearer [REDACTED]: expired"`, `"message":"item 7 not found"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("no %s in the recording:\n%s", want, data)
		}
	}
	if n := strings.Count(string(data), `"detailsBase64"`); n != 1 {
		t.Errorf("%d records keep their details, want 1 (the one without a secret):\n%s", n, data)
	}
	for _, secret := range []string{pair, bearer} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the recording holds %s:\n%s", secret, data)
		}
	}
}
