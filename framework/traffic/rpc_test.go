package traffic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/shadowtest/shadowtest/framework"
)

// TestRPCRecords reads the JSONL RPC records of testdata/rpc.jsonl and
// checks their representation: POST /package.Service/Method with the
// metadata as headers, the messages kept as recorded (compact protojson,
// or wire bytes), and the response's code, message, trailers and details.
func TestRPCRecords(t *testing.T) {
	data, err := os.ReadFile("testdata/rpc.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r := NewJSONLReader(bytes.NewReader(data), "rpc.jsonl")
	var got []framework.Exchange
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ex)
	}
	if len(got) != 5 {
		t.Fatalf("read %d exchanges, want 5", len(got))
	}
	unary := got[0]
	if unary.Request.Method != "POST" || unary.Request.URL != "/acme.users.v1.UserService/GetUser" ||
		unary.Request.RPC.Method != "acme.users.v1.UserService/GetUser" || unary.Request.Header.Get("X-Tenant") != "acme" ||
		string(unary.Request.Body) != `{"id":"7"}` || unary.Time.IsZero() {
		t.Errorf("unary request: %+v %+v", unary.Request, unary.Request.RPC)
	}
	if rec := unary.Recorded; rec.Status != http.StatusOK || rec.RPC.Code != 0 || rec.Header.Get("X-Served-By") != "v1" ||
		len(rec.RPC.Messages) != 1 || rec.Latency.Seconds() != 0.0015 {
		t.Errorf("unary response: %+v %+v", rec, rec.RPC)
	}
	stream := got[1]
	if stream.Request.RPC.Method != "acme.users.v1.UserService/ListUsers" || string(stream.Request.RPC.Messages[0]) != `{"limit":2}` {
		t.Errorf("a leading slash is dropped and messages compacted: %q %q", stream.Request.RPC.Method, stream.Request.RPC.Messages)
	}
	if rec := stream.Recorded; string(rec.Body) != `[{"id":"1"},{"id":"2"}]` || rec.RPC.Trailer.Get("X-Cost") != "3" {
		t.Errorf("stream response: body %s, trailer %v", rec.Body, rec.RPC.Trailer)
	}
	wire := got[2]
	if !wire.Request.RPC.Wire || string(wire.Request.RPC.Messages[0]) != "\x0a\x017" {
		t.Errorf("messagesBase64: %+v", wire.Request.RPC)
	}
	if rec := wire.Recorded; rec.RPC.Code != 5 || rec.RPC.Message != "no user 7" || len(rec.RPC.Details) == 0 {
		t.Errorf("error response: %+v", rec.RPC)
	}
	if client := got[3]; len(client.Request.RPC.Messages) != 2 || string(client.Request.Body) != `[{"id":"a"},{"id":"b"}]` || client.Recorded != nil {
		t.Errorf("client stream without a response: %+v body %s", client.Request.RPC, client.Request.Body)
	}
	if empty := got[4]; empty.Request.RPC.Messages != nil || empty.Recorded.RPC.Code != 14 {
		t.Errorf("no messages, numeric code: %+v %+v", empty.Request.RPC, empty.Recorded.RPC)
	}
	for _, ex := range got {
		var line bytes.Buffer
		if err := WriteJSONL(&line, ex); err != nil {
			t.Fatal(err)
		}
		back, err := decodeJSONL(line.Bytes())
		if err != nil {
			t.Fatalf("reading back %s: %v", line.Bytes(), err)
		}
		back.Origin = ex.Origin
		if diff := sameExchange(back, ex); diff != "" {
			t.Errorf("round trip through %s: %s", line.Bytes(), diff)
		}
	}
}

// TestRPCRecordErrors: a malformed RPC record is reported with the line
// and the field, and reading goes on.
func TestRPCRecordErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{`{"rpc":{"messages":[{}]}}`, "rpc.method: missing"},
		{`{"rpc":{"method":"GetUser","messages":[{}]}}`, `rpc.method: "GetUser" is not a full method name (want package.Service/Method)`},
		{`{"rpc":{"method":"a.B/C/D","messages":[{}]}}`, `rpc.method: "a.B/C/D" is not a full method name`},
		// A method name is identifiers: init writes it into a spec and a
		// file name, the terminal shows it.
		{`{"rpc":{"method":"a.B/C\u001b[31mred","messages":[{}]}}`, `is not a full method name`},
		{`{"rpc":{"method":"a.B/C\u202eevil","messages":[{}]}}`, `is not a full method name`},
		{`{"rpc":{"method":"a.B/*","messages":[{}]}}`, `rpc.method: "a.B/*" is not a full method name`},
		{`{"rpc":{"method":"../../etc/B/C","messages":[{}]}}`, `is not a full method name`},
		{`{"rpc":{"method":"a..B/C","messages":[{}]}}`, `is not a full method name`},
		{`{"rpc":{"method":"a.B/C.D","messages":[{}]}}`, `is not a full method name`},
		{`{"rpc":{"method":"a.9B/C","messages":[{}]}}`, `is not a full method name`},
		{`{"rpc":{"method":"a.B/C"}}`, "rpc.messages: missing (an array of protojson messages, or messagesBase64)"},
		{`{"rpc":{"method":"a.B/C","messages":[{}],"messagesBase64":[""]}}`, "rpc.messages: messages and messagesBase64 are both set"},
		{`{"rpc":{"method":"a.B/C","messages":[7]}}`, "rpc.messages[0]: want a JSON object (the message's protojson)"},
		{`{"rpc":{"method":"a.B/C","messagesBase64":["%%"]}}`, "rpc.messagesBase64[0]: "},
		{`{"rpc":{"method":"a.B/C","messages":[{}]},"request":{"method":"GET","url":"/"}}`, "rpc: a line has either request (HTTP) or rpc (gRPC), not both"},
		{`{"rpc":{"method":"a.B/C","messages":[{}]},"response":{"code":"NOPE"}}`, `response.code: "NOPE" is not a gRPC code`},
		{`{"rpc":{"method":"a.B/C","messages":[{}]},"response":{"status":200}}`, "response.status: an RPC response has a code, not an HTTP status"},
		{`{"rpc":{"method":"a.B/C","messages":[{}]},"response":{"code":"NOT_FOUND","messages":[{}]}}`, "response.messages: a response with code NOT_FOUND has no messages"},
		{`{"rpc":{"method":"a.B/C","messages":[{}]},"response":{"code":"OK","metadata":{"bad name":["x"]}}}`, "response.metadata"},
		{`{"request":{"method":"GET","url":"/"},"response":{"status":200,"code":"OK"}}`, "response: code and messages belong to an RPC record"},
		{`{"rpc":{"method":"a.B/C","messages":[{}]},"response":{"code":"OK","latencyMs":-1}}`, "response.latencyMs: -1 is not a latency"},
	}
	for _, tc := range cases {
		r := NewJSONLReader(strings.NewReader(tc.line+"\n"+`{"rpc":{"method":"a.B/C","messages":[{}]}}`+"\n"), "t.jsonl")
		_, err := r.Next()
		if err == nil || !strings.Contains(err.Error(), "t.jsonl: line 1") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got  %v\n want t.jsonl: line 1 ... %s", tc.line, err, tc.want)
		}
		if ex, err := r.Next(); err != nil || ex.Request.RPC == nil {
			t.Errorf("%s: reading did not go on with line 2: %v", tc.line, err)
		}
	}
}

// FuzzJSONLRPC reads arbitrary RPC records: the reader never panics, ends,
// reports errors with the line, and every record it accepts writes back
// as a line that reads as the same exchange.
func FuzzJSONLRPC(f *testing.F) {
	addFiles(f, "testdata/rpc.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, NewJSONLReader(bytes.NewReader(data), "f.jsonl"), "f.jsonl", "line", len(data))
	})
}

// FuzzJSONLDecoders decodes arbitrary lines with the fast decoders
// (decodeFastRPC, and go-json-experiment with its v1 options) and with
// encoding/json: a line a fast one accepts, encoding/json accepts too, as
// the same record (a line they decline goes on to the next decoder).
func FuzzJSONLDecoders(f *testing.F) {
	addFiles(f, "testdata/rpc.jsonl", "testdata/valid.jsonl", "testdata/malformed.jsonl", "testdata/encoded.jsonl")
	for _, line := range []string{
		`{"RPC":{"Method":"a.B/C","messages":[{"id":1}]},"Response":{"CODE":"OK"}}`,
		`{"rpc":{"method":"a.B/C","method":"a.B/D","messages":[ {"x" : [1, 2]} ]}}`,
		`{"request":{"method":"GET","url":"/\u00e9","headers":{"A":["1"],"a":["2"]},"body":"\xff"},"response":{"status":200,"latencyMs":1e3}}`,
		`{"rpc":{"method":"a.B/C","messagesBase64":["CgE3"]},"response":{"code":5,"detailsBase64":"CAU=","trailers":null}}`,
		`{"time":null,"rpc":null,"request":{"method":"GET","url":"/"},"response":{"status":"200"}}`,
		`{"rpc":{"meſſages":[{}],"METHOD":"a.B/C","Metadata":{"k":["v"],"K":["w"]}},"response":{"Trailers":{"x":null},"Code":"OK","messageſBase64":null}}`,
		`{"request":{"method":"GET","url":"/","headers":{"a":"b"}},"response":{"status":1e400}}`,
		`{"request":{"method":"GET","url":"/"},"response":{"status":99999999999999999999,"latencyMs":-0}}`,
		`{"request":{"method":"GET","url":"/","body":null,"bodyBase64":123}}`,
		`{"rpc":{"method":"a.B/C","messages":[{"a":"\ud800"}, "\u0000", null, 1.5e-400]}}`,
		`{"rpc":{"method":"a.B/C","messages":{}}}`,
		`{"rpc":{"method":"a.B/C","messages":[]},"response":{"latencyMs":"1"}} `,
		` {"time":"2026-11-30T10:00:00Z"} {"x":1}`,
		`{"response":{"headers":{"a":["1",null]},"status":200},"request":{"method":"GET","url":"/"},"unknown":{"deep":[[[]]]}}`,
		`{"time":"t\u00e9\n","rpc":{"method":"a.B/C","metadata":{"x\u0041":[],"b":["\ud83d\ude00"]},"messages":[ {"a" : 1} ,null,"s",[]],"messagesBase64":[]},"response":{"code":null,"message":"m\"","metadata":{},"trailers":{"t":["1","2"]},"messages":[],"messagesBase64":["AA=="],"detailsBase64":"","latencyMs":-1.5e-3}}`,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1}]},"response":{"latencyMs":1e400}}`,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1}]},"response":{"latencyMs":0.1,"code":"OK"}}  `,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1}]},"response":{"latencyMs":0.1,"code":"OK"}} {}`,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1}],"metadata":{"a":["\ud800"]}}}`,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1}],"metadata":{"a":["x"],"a":["y"]}}}`,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1,"id":2}],"metadata":{"a":["x"],"A":["y"]}},"rpc":{"method":"a.B/D"}}`,
		`{"rpc":{"method":"a.B/C","messages":[{"id":1}]},"response":{"code":"OK","code":"NOT_FOUND","messages":[{"x":"\u00e9"}]}}`,
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, line := range bytes.Split(data, []byte("\n")) {
			var slow jsonlRecord
			slowErr := json.Unmarshal(line, &slow)
			for name, decode := range map[string]func(*jsonlRecord) bool{
				"go-json-experiment": func(rec *jsonlRecord) bool { return jsonv2.Unmarshal(line, rec, v1Options) == nil },
				"decodeFastRPC":      func(rec *jsonlRecord) bool { return decodeFastRPC(line, rec) },
			} {
				var fast jsonlRecord
				if !decode(&fast) {
					if !reflect.DeepEqual(fast, jsonlRecord{}) && name == "decodeFastRPC" {
						t.Fatalf("%q: decodeFastRPC declined but left %s", line, dump(fast))
					}
					continue
				}
				if slowErr != nil {
					t.Fatalf("%q: encoding/json refuses it (%v), %s accepts it", line, slowErr, name)
				}
				if !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%q: %s and encoding/json differ:\n%s\n%s", line, name, dump(fast), dump(slow))
				}
			}
		}
	})
}

func dump(rec jsonlRecord) string {
	b, _ := json.Marshal(rec)
	return string(b)
}

// TestFastRPCReadsRecordedLines: the lines a recorder writes (the gRPC
// demo's recording) take decodeFastRPC, and it decodes them as
// encoding/json does.
func TestFastRPCReadsRecordedLines(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/traffic/grpcdemo.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for i, line := range lines {
		var fast, slow jsonlRecord
		if !decodeFastRPC(line, &fast) {
			t.Fatalf("line %d declined: %s", i+1, line)
		}
		if err := json.Unmarshal(line, &slow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("line %d: decodeFastRPC and encoding/json differ:\n%s\n%s", i+1, dump(fast), dump(slow))
		}
	}
	if len(lines) < 100 {
		t.Fatalf("only %d lines recorded", len(lines))
	}
}
