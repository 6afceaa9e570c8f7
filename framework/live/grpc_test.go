package live

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestGRPCPassesProdCallsExactly: a grpc-go client gets, through the
// proxy, exactly what it gets from prod directly, for every kind of call:
// messages, status code, message and details, header and trailer
// metadata (binary ones too).
func TestGRPCPassesProdCallsExactly(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	shadow := serveItems(t, svc, "v2", 12.5)
	_, front := grpcSession(t, grpcPlan(prod.addr, shadow.addr), Options{})
	direct, proxied := dial(t, prod.addr), dial(t, strings.TrimPrefix(front.URL, "http://"))
	q := func(id string, more map[string]any) *dynamicpb.Message {
		fields := map[string]any{"id": id}
		for k, v := range more {
			fields[k] = v
		}
		return svc.newQuery(fields)
	}
	cases := []struct {
		name, method string
		requests     []*dynamicpb.Message
		reason       string
	}{
		{"unary", "Get", []*dynamicpb.Message{q("7", nil)}, "a message, header and trailer metadata"},
		{"unary error", "Get", []*dynamicpb.Message{q("8", map[string]any{"fail": "NOT_FOUND"})}, "a trailers-only answer with status details and a non-ASCII message"},
		{"large request", "Get", []*dynamicpb.Message{q("9", map[string]any{"pad": bytes.Repeat([]byte("p"), 3<<20)})}, "3 MiB streamed to prod"},
		{"server stream", "List", []*dynamicpb.Message{q("s", map[string]any{"count": int32(5)})}, "five messages, then the trailers"},
		{"server stream error", "List", []*dynamicpb.Message{q("e", map[string]any{"count": int32(2), "fail": "ABORTED"})}, "messages, then an error status in the trailers"},
		{"empty stream", "List", []*dynamicpb.Message{q("z", nil)}, "headers and trailers only"},
		{"client stream", "Collect", []*dynamicpb.Message{q("a", nil), q("b", nil), q("c", nil)}, "three requests, one answer"},
		{"bidi stream", "Chat", []*dynamicpb.Message{q("a", nil), q("b", nil)}, "two requests, two answers"},
		{"unknown method", "Nope", nil, "prod's UNIMPLEMENTED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			want := invoke(ctx, direct, svc, tc.method, tc.requests...)
			got := invoke(ctx, proxied, svc, tc.method, tc.requests...)
			sameCall(t, tc.reason, want, got)
		})
	}
}

func sameCall(t *testing.T, reason string, want, got call) {
	t.Helper()
	if want.status.Code() != got.status.Code() || want.status.Message() != got.status.Message() || !proto.Equal(want.status.Proto(), got.status.Proto()) {
		t.Errorf("%s: status through the proxy %v, from prod %v", reason, got.status.Proto(), want.status.Proto())
	}
	if len(want.messages) != len(got.messages) {
		t.Fatalf("%s: %d messages through the proxy, %d from prod", reason, len(got.messages), len(want.messages))
	}
	for i := range want.messages {
		if !proto.Equal(want.messages[i], got.messages[i]) {
			t.Errorf("%s: message %d through the proxy %v, from prod %v", reason, i, got.messages[i], want.messages[i])
		}
	}
	if !reflect.DeepEqual(want.header, got.header) {
		t.Errorf("%s: header metadata through the proxy %#v, from prod %#v", reason, got.header, want.header)
	}
	if !reflect.DeepEqual(want.trailer, got.trailer) {
		t.Errorf("%s: trailer metadata through the proxy %#v, from prod %#v", reason, got.trailer, want.trailer)
	}
}

// TestGRPCProdDown: with nothing listening at prod's address, the client
// gets UNAVAILABLE from the proxy.
func TestGRPCProdDown(t *testing.T) {
	svc := compileItems(t)
	shadow := serveItems(t, svc, "v2", 12.5)
	_, front := grpcSession(t, grpcPlan(strings.TrimPrefix(closedURL(t), "http://"), shadow.addr), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := invoke(ctx, dial(t, strings.TrimPrefix(front.URL, "http://")), svc, "Get", svc.newQuery(map[string]any{"id": "1"}))
	if got.status.Code() != codes.Unavailable || !strings.Contains(got.status.Message(), "prod unavailable (refused)") {
		t.Errorf("prod down: status %v, want UNAVAILABLE saying prod refused", got.status)
	}
	if shadow.calls.Load() != 0 {
		t.Errorf("the shadow got %d calls", shadow.calls.Load())
	}
}

// TestGRPCDeadlinesAndCancellation: the client's deadline and its
// cancellation reach prod, and the proxy enforces grpc-timeout itself for
// a prod that ignores it.
func TestGRPCDeadlinesAndCancellation(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	_, front := grpcSession(t, grpcPlan(prod.addr, prod.addr), Options{})
	conn := dial(t, strings.TrimPrefix(front.URL, "http://"))

	t.Run("deadline", func(t *testing.T) {
		before := prod.canceled.Load()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		got := invoke(ctx, conn, svc, "Get", svc.newQuery(map[string]any{"id": "1", "delay_ms": int32(10000)}))
		if got.status.Code() != codes.DeadlineExceeded || time.Since(start) > 5*time.Second {
			t.Errorf("status %v after %s, want DEADLINE_EXCEEDED after about 300ms", got.status, time.Since(start))
		}
		eventually(t, "prod's call to end with the deadline", func() bool { return prod.canceled.Load() > before })
	})
	t.Run("cancel", func(t *testing.T) {
		before := prod.canceled.Load()
		ctx, cancel := context.WithCancel(context.Background())
		stream, err := conn.NewStream(ctx, streamDesc(svc, "List"), "/shadowtest.live.v1.Items/List")
		if err != nil {
			t.Fatal(err)
		}
		stream.SendMsg(svc.newQuery(map[string]any{"id": "c", "count": int32(1000), "delay_ms": int32(20)}))
		stream.CloseSend()
		for range 2 {
			if err := stream.RecvMsg(dynamicpb.NewMessage(svc.item)); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		eventually(t, "prod's stream to end with the client's cancellation", func() bool { return prod.canceled.Load() > before })
	})
	t.Run("prod ignores grpc-timeout", func(t *testing.T) {
		released := make(chan struct{})
		defer close(released)
		hanging := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-released:
			}
		}))
		hanging.Config.Protocols = Protocols()
		hanging.Start()
		defer hanging.Close()
		_, front := grpcSession(t, grpcPlan(strings.TrimPrefix(hanging.URL, "http://"), prod.addr), Options{})
		req, _ := http.NewRequest("POST", front.URL+"/shadowtest.live.v1.Items/Get", bytes.NewReader([]byte{0, 0, 0, 0, 0}))
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		req.Header.Set("Grpc-Timeout", "200m")
		start := time.Now()
		resp, err := h2cClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Grpc-Status") != "4" || time.Since(start) > 5*time.Second {
			t.Errorf("grpc-status %q after %s, want 4 (DEADLINE_EXCEEDED) after about 200ms", resp.Header.Get("Grpc-Status"), time.Since(start))
		}
	})
}

// TestGRPCLeavesHTTPAlone: the listener that takes h2c gRPC still serves
// HTTP/1.1 (and plain HTTP/2 requests) on the HTTP path, to the same prod.
func TestGRPCLeavesHTTPAlone(t *testing.T) {
	svc := compileItems(t)
	grpcProd := serveItems(t, svc, "v1", 12.5)
	prod := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGRPC(r) {
			grpcProd.server.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"proto":"`+r.Proto+`","path":"`+r.URL.Path+`"}`)
	}))
	prod.Config.Protocols = Protocols()
	prod.Start()
	defer prod.Close()
	shadow := serve(t, item("12.5"))
	s, front := grpcSession(t, testPlan(prod.URL, shadow.URL), Options{})

	resp, body := get(t, front.URL+"/items/1")
	if resp.ProtoMajor != 1 || body != `{"proto":"HTTP/1.1","path":"/items/1"}` {
		t.Errorf("HTTP/1.1: %s %q", resp.Proto, body)
	}
	h2, err := h2cClient().Get(front.URL + "/items/2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(h2.Body)
	h2.Body.Close()
	if h2.ProtoMajor != 2 || string(b) != `{"proto":"HTTP/1.1","path":"/items/2"}` {
		t.Errorf("HTTP/2 from the client, the HTTP path to prod: %s %q", h2.Proto, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := invoke(ctx, dial(t, strings.TrimPrefix(front.URL, "http://")), svc, "Get", svc.newQuery(map[string]any{"id": "3"}))
	if got.status.Code() != codes.OK || len(got.messages) != 1 || field(got.messages[0], "id").String() != "3" {
		t.Errorf("gRPC to an http:// prod: %v %v", got.status, got.messages)
	}
	eventually(t, "both HTTP requests mirrored", func() bool { return shadow.n.Load() == 2 })
	var unmatched int64
	s.results.Snapshot(func(r *observe.Results) { unmatched = r.Unmatched["gRPC shadowtest.live.v1.Items/Get"] })
	if unmatched != 1 {
		t.Errorf("the gRPC call is counted %d times as unmatched, want 1", unmatched)
	}
}

// h2cClient speaks HTTP/2 with prior knowledge over cleartext.
func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

// TestGRPCHeadersBeforeFirstMessage: a stream's header metadata reaches
// the client when prod sends it, not with the first message.
func TestGRPCHeadersBeforeFirstMessage(t *testing.T) {
	svc := compileItems(t)
	prod := serveItems(t, svc, "v1", 12.5)
	_, front := grpcSession(t, grpcPlan(prod.addr, prod.addr), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := dial(t, strings.TrimPrefix(front.URL, "http://")).NewStream(ctx, streamDesc(svc, "List"), "/shadowtest.live.v1.Items/List")
	if err != nil {
		t.Fatal(err)
	}
	stream.SendMsg(svc.newQuery(map[string]any{"id": "h", "count": int32(1), "delay_ms": int32(10000)}))
	stream.CloseSend()
	start := time.Now()
	header, err := stream.Header()
	if err != nil || header.Get("x-served-by")[0] != "v1" {
		t.Fatalf("header %v, %v", header, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the header metadata took %s: it waited for the first message (10 s)", took)
	}
}

// TestGRPCProdResetMidStream: when prod breaks a stream after a message,
// the client gets that message and then an error, never a clean end.
func TestGRPCProdResetMidStream(t *testing.T) {
	svc := compileItems(t)
	msg, err := proto.Marshal(svc.newItem(map[string]any{"id": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	prod := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Write(frame)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // RST_STREAM
	}))
	prod.Config.Protocols = Protocols()
	prod.Config.ErrorLog = log.New(io.Discard, "", 0)
	prod.Start()
	defer prod.Close()
	_, front := grpcSession(t, grpcPlan(strings.TrimPrefix(prod.URL, "http://"), strings.TrimPrefix(prod.URL, "http://")), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := invoke(ctx, dial(t, strings.TrimPrefix(front.URL, "http://")), svc, "List", svc.newQuery(map[string]any{"id": "1"}))
	if len(got.messages) != 1 || got.status.Code() == codes.OK {
		t.Errorf("prod reset the stream after one message: the client got %d message(s) and %v", len(got.messages), got.status)
	}
}
