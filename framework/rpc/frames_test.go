package rpc_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

func wire(t *testing.T, desc *rpc.Descriptors, typeName, json string) []byte {
	t.Helper()
	md, err := desc.Method("acme.users.v1.UserService/" + typeName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := desc.FromJSON(md.Output(), []byte(json))
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFromFrames turns RPCs as a proxy sees them on the wire into the
// representation the comparator reads, as the gRPC client would produce.
func TestFromFrames(t *testing.T) {
	desc := rpctest.Descriptors(t)
	getUser := wire(t, desc, "GetUser", `{"user":{"id":"7"}}`)
	user := func(id string) []byte { return wire(t, desc, "ListUsers", `{"id":"`+id+`"}`) }
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(user("2"))
	zw.Close()
	gz := append([]byte{1, 0, 0, 0, byte(zipped.Len())}, zipped.Bytes()...)
	details, _ := anypb.New(&errdetails.ErrorInfo{Reason: "USER_NOT_FOUND"})
	statusBin, _ := proto.Marshal(&spb.Status{Code: 5, Message: "no", Details: []*anypb.Any{details}})

	req, resp, err := desc.FromFrames(rpc.Wire{
		Method:          "/acme.users.v1.UserService/GetUser",
		RequestHeader:   http.Header{"Content-Type": {"application/grpc"}, "Te": {"trailers"}, "X-Tenant": {"acme"}},
		RequestBody:     frame([]byte("\x0a\x017")),
		ResponseHeader:  http.Header{"Content-Type": {"application/grpc"}, "X-Served-By": {"v1"}},
		ResponseBody:    frame(getUser),
		ResponseTrailer: http.Header{"Grpc-Status": {"0"}, "X-Cost": {"3"}},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.URL != "/acme.users.v1.UserService/GetUser" || string(req.Body) != `{"id":"7"}` ||
		req.Header.Get("X-Tenant") != "acme" || req.Header.Get("Te") != "" || req.Header.Get("Content-Type") != "" {
		t.Errorf("request: %s %s %v %s", req.Method, req.URL, req.Header, req.Body)
	}
	if resp.Status != 200 || resp.RPC.Code != 0 || string(resp.Body) != `{"user":{"id":"7"}}` || resp.Header.Get("X-Served-By") != "v1" ||
		resp.Header.Get("Content-Type") != "application/json" || resp.RPC.Trailer.Get("X-Cost") != "3" || resp.RPC.Trailer.Get("Grpc-Status") != "" {
		t.Errorf("response: %d %v %v %s", resp.Status, resp.Header, resp.RPC, resp.Body)
	}

	_, resp, err = desc.FromFrames(rpc.Wire{
		Method:          "acme.users.v1.UserService/ListUsers",
		RequestBody:     frame(nil),
		ResponseHeader:  http.Header{"Grpc-Encoding": {"gzip"}},
		ResponseBody:    append(frame(user("1")), gz...),
		ResponseTrailer: http.Header{"Grpc-Status": {"0"}},
	}, 0)
	if err != nil || string(resp.Body) != `[{"id":"1"},{"id":"2"}]` {
		t.Errorf("a stream with a gzip message: %v %s", err, resp.Body)
	}

	_, resp, err = desc.FromFrames(rpc.Wire{
		Method:         "acme.users.v1.UserService/GetUser",
		RequestBody:    frame(nil),
		ResponseHeader: http.Header{"Grpc-Status": {"5"}, "Grpc-Message": {"no%20user"}, "Grpc-Status-Details-Bin": {base64.RawStdEncoding.EncodeToString(statusBin)}},
	}, 0)
	if err != nil || resp.RPC.Code != 5 || resp.RPC.Message != "no user" ||
		string(resp.Body) != `{"code":5,"message":"no user","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"USER_NOT_FOUND"}]}` {
		t.Errorf("a trailers-only error: %v %+v %s", err, resp.RPC, resp.Body)
	}

	req, _, err = (*rpc.Descriptors)(nil).FromFrames(rpc.Wire{Method: "x.Y/Z", RequestBody: frame([]byte("abc")), ResponseTrailer: http.Header{"Grpc-Status": {"0"}}}, 0)
	if err == nil || !req.RPC.Wire || string(req.RPC.Messages[0]) != "abc" {
		t.Errorf("without descriptors: want the wire messages kept and an error, got %v %+v", err, req.RPC)
	}
	for _, bad := range []struct{ body, want string }{
		{"\x00\x00\x00", "shorter than a 5-byte prefix"},
		{"\x00\x00\x00\x00\x09abc", "length 9 but 3 bytes follow"},
		{"\x02\x00\x00\x00\x00", "compressed flag 2"},
		{"\x01\x00\x00\x00\x00", "compressed flag set but no grpc-encoding"},
	} {
		_, _, err := desc.FromFrames(rpc.Wire{Method: "acme.users.v1.UserService/GetUser", RequestBody: frame(nil), ResponseBody: []byte(bad.body), ResponseTrailer: http.Header{"Grpc-Status": {"0"}}}, 0)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("malformed %q: %v, want %q", bad.body, err, bad.want)
		}
	}
	messages, truncated, err := rpc.Frames(append(frame(bytes.Repeat([]byte("a"), 600)), frame(bytes.Repeat([]byte("b"), 600))...), "", 1000)
	if err != nil || !truncated || len(messages) != 1 {
		t.Errorf("frames over the cap: %d messages, truncated %v, %v; want 1 and truncated", len(messages), truncated, err)
	}
}
