package live

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// resettingProd is a gRPC server on loopback that breaks every call: it
// reads the client's messages to the end of its stream (or its first
// message when early), then sends its
// header metadata and `messages` messages (at most one to a unary answer;
// nothing when messages < 0),
// then resets the stream with code, as a server that gives up mid-stream
// does. It speaks HTTP/2 frames itself: a Go handler cannot choose an
// RST_STREAM code.
func resettingProd(t *testing.T, svc *itemsService, messages int, code http2.ErrCode, early bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := proto.Marshal(svc.newItem(map[string]any{"id": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	var mu sync.Mutex
	var conns []net.Conn
	var served sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		served.Wait()
	})
	served.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			served.Go(func() { serveResetting(c, frame, messages, code, early) })
		}
	})
	return l.Addr().String()
}

// connectionLost makes resettingProd close the connection instead of
// resetting the stream.
const connectionLost = http2.ErrCode(0xdead)

func serveResetting(c net.Conn, frame []byte, messages int, code http2.ErrCode, early bool) {
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, len(http2.ClientPreface))); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.WriteSettings()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	paths := map[uint32]string{}
	answered := map[uint32]bool{}
	answer := func(stream uint32) {
		if answered[stream] {
			return
		}
		answered[stream] = true
		n := messages
		if path := paths[stream]; strings.HasSuffix(path, "/Get") || strings.HasSuffix(path, "/Collect") {
			n = min(n, 1) // a unary answer has one message
		}
		if n >= 0 {
			block.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/grpc"})
			enc.WriteField(hpack.HeaderField{Name: "x-served-by", Value: "prod"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block.Bytes(), EndHeaders: true})
			for range n {
				fr.WriteData(stream, false, frame)
			}
		}
		if code == connectionLost {
			c.Close()
			return
		}
		fr.WriteRSTStream(stream, code)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			paths[f.StreamID] = f.PseudoValue("path")
			if f.StreamEnded() {
				answer(f.StreamID)
			}
		case *http2.DataFrame:
			if n := len(f.Data()); n > 0 {
				fr.WriteWindowUpdate(0, uint32(n))
			}
			if f.StreamEnded() || early && len(f.Data()) > 0 {
				answer(f.StreamID)
			}
		}
	}
}

// TestGRPCProdResetPassesThrough: when prod resets a stream, before its
// header or after some messages, a gRPC client gets through the proxy what
// it gets from prod directly: the messages prod sent, then the status
// grpc-go reports for that reset ("stream terminated by RST_STREAM with
// error code: CANCEL", CANCELLED), for unary, server-streaming,
// client-streaming and bidirectional calls. Before, every reset after the
// header reached the client as INTERNAL (the proxy's own reset).
func TestGRPCProdResetPassesThrough(t *testing.T) {
	svc := compileItems(t)
	healthy := serveItems(t, svc, "v2", 12.5)
	q := func(id string) *dynamicpb.Message { return svc.newQuery(map[string]any{"id": id}) }
	calls := []struct {
		method   string
		requests []*dynamicpb.Message
	}{
		{"Get", []*dynamicpb.Message{q("1")}},
		{"List", []*dynamicpb.Message{q("1")}},
		{"Collect", []*dynamicpb.Message{q("a"), q("b")}},
		{"Chat", []*dynamicpb.Message{q("a"), q("b")}},
	}
	for _, reset := range []struct {
		messages int
		code     http2.ErrCode
		want     codes.Code
		early    bool // prod resets after the first request message, while the client may still send
	}{
		{2, http2.ErrCodeCancel, codes.Canceled, false},
		{1, http2.ErrCodeEnhanceYourCalm, codes.ResourceExhausted, false},
		{0, http2.ErrCodeInadequateSecurity, codes.PermissionDenied, false},
		{2, http2.ErrCodeInternal, codes.Internal, false},
		{-1, http2.ErrCodeCancel, codes.Canceled, false}, // before the header
		{1, http2.ErrCode(0x99), codes.Unknown, false},   // a code HTTP/2 does not define
		{2, connectionLost, codes.Unavailable, false},
		{1, http2.ErrCodeCancel, codes.Canceled, true},
	} {
		prod := resettingProd(t, svc, reset.messages, reset.code, reset.early)
		_, front := grpcSession(t, grpcPlan(prod, healthy.addr), Options{})
		direct, proxied := dial(t, prod), dial(t, strings.TrimPrefix(front.URL, "http://"))
		for _, c := range calls {
			reason := c.method + " reset with " + reset.code.String()
			if reset.code == connectionLost {
				reason = c.method + " cut by a lost connection"
			}
			if reset.messages < 0 {
				reason += " before the header"
			}
			if reset.early {
				reason += " after the first request message"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			want := invoke(ctx, direct, svc, c.method, c.requests...)
			got := invoke(ctx, proxied, svc, c.method, c.requests...)
			cancel()
			if want.status.Code() != reset.want {
				t.Fatalf("%s: prod's own client got %v, want %v (the test's server)", reason, want.status, reset.want)
			}
			switch {
			case reset.messages < 0:
				// The proxy answers trailers-only (its header metadata
				// then reads as trailers): the status is prod's.
				if got.status.Code() != want.status.Code() || got.status.Message() != want.status.Message() || len(got.messages) != 0 {
					t.Errorf("%s: %v and %d messages through the proxy, %v from prod", reason, got.status, len(got.messages), want.status)
				}
				continue
			case reset.code == connectionLost:
				// The code and the messages are prod's; the message says
				// the proxy's connection to prod broke.
				if got.status.Code() != want.status.Code() || len(got.messages) != len(want.messages) || !strings.Contains(got.status.Message(), "prod's stream broke") {
					t.Errorf("%s: %v and %d messages through the proxy, %v and %d from prod", reason, got.status, len(got.messages), want.status, len(want.messages))
				}
				continue
			}
			sameCall(t, reason, want, got)
		}
	}
}

// TestGRPCResetBeforeHeaderAddsNoMetadata: when prod resets a stream
// before its header, a client through the proxy reads what a direct
// client of the same prod reads: the status grpc-go derives from the
// reset, no header metadata, and no trailer metadata but the
// content-type a gRPC status answer must carry. Before, the proxy's
// trailers-only answer also showed content-length: 0 (added by net/http)
// as trailer metadata. A reset with INTERNAL_ERROR, the code a Go handler
// can reset with, reaches the client as that same reset: nothing differs
// at all.
func TestGRPCResetBeforeHeaderAddsNoMetadata(t *testing.T) {
	svc := compileItems(t)
	healthy := serveItems(t, svc, "v2", 12.5)
	for _, code := range []http2.ErrCode{http2.ErrCodeCancel, http2.ErrCodeInternal, http2.ErrCodeEnhanceYourCalm, http2.ErrCode(0x99)} {
		prod := resettingProd(t, svc, -1, code, false)
		_, front := grpcSession(t, grpcPlan(prod, healthy.addr), Options{})
		direct, proxied := dial(t, prod), dial(t, strings.TrimPrefix(front.URL, "http://"))
		for _, method := range []string{"Get", "List"} {
			reason := method + " reset with " + code.String() + " before the header"
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			want := invoke(ctx, direct, svc, method, svc.newQuery(map[string]any{"id": "1"}))
			got := invoke(ctx, proxied, svc, method, svc.newQuery(map[string]any{"id": "1"}))
			cancel()
			if len(want.header) != 0 || len(want.trailer) != 0 {
				t.Fatalf("%s: prod's own client got metadata %v %v (the test's server)", reason, want.header, want.trailer)
			}
			if code != http2.ErrCodeInternal {
				// gRPC's trailers-only answer carries its content-type,
				// which grpc-go shows as trailer metadata; nothing else.
				if ct := got.trailer["content-type"]; len(ct) != 1 || ct[0] != "application/grpc" {
					t.Errorf("%s: trailer content-type %q, want application/grpc", reason, ct)
				}
				delete(got.trailer, "content-type")
				if len(got.trailer) != 0 {
					t.Errorf("%s: spurious trailer metadata %#v", reason, got.trailer)
				}
				got.trailer = want.trailer
			}
			sameCall(t, reason, want, got)
		}
	}
}

// TestGRPCTrailersOnlyAnswerPassesExactly: prod's own trailers-only
// answer (grpc-go's UNIMPLEMENTED for a service it does not serve)
// reaches the client through the proxy as it reaches a direct client:
// same status, same trailer metadata (its content-type), and no
// content-length: 0 that net/http added to the proxy's copy.
func TestGRPCTrailersOnlyAnswerPassesExactly(t *testing.T) {
	svc := compileItems(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bare := grpc.NewServer() // serves nothing: every call is UNIMPLEMENTED
	go bare.Serve(l)
	t.Cleanup(bare.Stop)
	healthy := serveItems(t, svc, "v2", 12.5)
	_, front := grpcSession(t, grpcPlan(l.Addr().String(), healthy.addr), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, method := range []string{"Get", "List"} {
		want := invoke(ctx, dial(t, l.Addr().String()), svc, method, svc.newQuery(map[string]any{"id": "1"}))
		got := invoke(ctx, dial(t, strings.TrimPrefix(front.URL, "http://")), svc, method, svc.newQuery(map[string]any{"id": "1"}))
		if want.status.Code() != codes.Unimplemented {
			t.Fatalf("%s: prod's own client got %v (the test's server)", method, want.status)
		}
		sameCall(t, method+" answered trailers-only", want, got)
	}
}
