package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// itemsProto is the test service: compiled at test time with protocompile,
// served and called with dynamicpb messages (no generated code).
const itemsProto = `syntax = "proto3";
package shadowtest.live.v1;

message Query {
  string id = 1;
  int32 count = 2;       // List: how many items
  string fail = 3;       // a status code name to answer with
  int32 delay_ms = 4;    // wait this long (or until the call ends) first
  bytes pad = 5;         // makes the request as large as a test needs
  string password = 6;   // a secret by name: never recorded
}

message Item {
  string id = 1;
  string name = 2;
  double price = 3;
  bytes blob = 4;
}

service Items {
  rpc Get(Query) returns (Item) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
  rpc List(Query) returns (stream Item) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
  rpc Collect(stream Query) returns (Item);
  rpc Chat(stream Query) returns (stream Item);
}
`

// itemsService is the compiled test service.
type itemsService struct {
	service     protoreflect.ServiceDescriptor
	query, item protoreflect.MessageDescriptor
}

func compileItems(t testing.TB) *itemsService {
	t.Helper()
	c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"items.proto": itemsProto}),
	}}
	files, err := c.Compile(context.Background(), "items.proto")
	if err != nil {
		t.Fatal(err)
	}
	f := files[0]
	return &itemsService{
		service: f.Services().ByName("Items"),
		query:   f.Messages().ByName("Query"),
		item:    f.Messages().ByName("Item"),
	}
}

func (s *itemsService) newQuery(fields map[string]any) *dynamicpb.Message {
	return newMessage(s.query, fields)
}

func (s *itemsService) newItem(fields map[string]any) *dynamicpb.Message {
	return newMessage(s.item, fields)
}

func newMessage(d protoreflect.MessageDescriptor, fields map[string]any) *dynamicpb.Message {
	m := dynamicpb.NewMessage(d)
	for name, v := range fields {
		m.Set(d.Fields().ByName(protoreflect.Name(name)), protoreflect.ValueOf(v))
	}
	return m
}

func field(m *dynamicpb.Message, name string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

// itemsServer is a real gRPC server (grpc-go) on loopback answering the
// Items service; version names it in the answers ("v1", "v2").
type itemsServer struct {
	addr     string
	server   *grpc.Server
	calls    atomic.Int64
	canceled atomic.Int64 // calls that ended because their context did
	svc      *itemsService
	version  string
	price    float64
	mu       sync.Mutex
	metadata []metadata.MD // of the first 100 calls
}

func serveItems(t testing.TB, svc *itemsService, version string, price float64, opts ...grpc.ServerOption) *itemsServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &itemsServer{addr: l.Addr().String(), svc: svc, version: version, price: price}
	s.server = grpc.NewServer(append(opts, grpc.UnknownServiceHandler(s.handle))...)
	go s.server.Serve(l)
	t.Cleanup(s.server.Stop)
	return s
}

// handle answers every method of Items; unary methods are streams of one
// message each way.
func (s *itemsServer) handle(_ any, stream grpc.ServerStream) error {
	s.calls.Add(1)
	full, _ := grpc.MethodFromServerStream(stream)
	ctx := stream.Context()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		s.mu.Lock()
		if len(s.metadata) < 100 {
			s.metadata = append(s.metadata, md)
		}
		s.mu.Unlock()
	}
	grpc.SetHeader(ctx, metadata.Pairs("x-served-by", s.version))
	recv := func() (*dynamicpb.Message, error) {
		q := dynamicpb.NewMessage(s.svc.query)
		return q, stream.RecvMsg(q)
	}
	item := func(id string) *dynamicpb.Message {
		return s.svc.newItem(map[string]any{"id": id, "name": "widget " + s.version, "price": s.price})
	}
	switch full {
	case "/shadowtest.live.v1.Items/Get":
		q, err := recv()
		if err != nil {
			return err
		}
		if err := s.wait(ctx, q); err != nil {
			return err
		}
		grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t-"+field(q, "id").String(), "x-bin-bin", "\x00\x01\xff"))
		if name := field(q, "fail").String(); name != "" {
			return s.failure(q, name)
		}
		return stream.SendMsg(item(field(q, "id").String()))
	case "/shadowtest.live.v1.Items/List":
		q, err := recv()
		if err != nil {
			return err
		}
		if err := stream.SendHeader(nil); err != nil { // header metadata before the first message
			return err
		}
		for i := range int(field(q, "count").Int()) {
			if err := s.wait(ctx, q); err != nil {
				return err
			}
			if err := stream.SendMsg(item(fmt.Sprintf("%s-%d", field(q, "id").String(), i))); err != nil {
				return err
			}
		}
		grpc.SetTrailer(ctx, metadata.Pairs("x-sent", fmt.Sprint(field(q, "count").Int())))
		if name := field(q, "fail").String(); name != "" {
			return s.failure(q, name)
		}
		return nil
	case "/shadowtest.live.v1.Items/Collect":
		var ids []string
		for {
			q, err := recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			ids = append(ids, field(q, "id").String())
		}
		return stream.SendMsg(item(strings.Join(ids, "+")))
	case "/shadowtest.live.v1.Items/Chat":
		for {
			q, err := recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := stream.SendMsg(item("re-" + field(q, "id").String())); err != nil {
				return err
			}
		}
	}
	return status.Errorf(codes.Unimplemented, "no method %s", full)
}

// wait sleeps delay_ms, or until the call ends.
func (s *itemsServer) wait(ctx context.Context, q *dynamicpb.Message) error {
	d := time.Duration(field(q, "delay_ms").Int()) * time.Millisecond
	if d == 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		s.canceled.Add(1)
		return status.FromContextError(ctx.Err()).Err()
	}
}

// failure is the status named by the query, with a detail (an Item) so
// that grpc-status-details-bin travels too.
func (s *itemsServer) failure(q *dynamicpb.Message, name string) error {
	code := codes.Unknown
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if strings.EqualFold(strings.ReplaceAll(c.String(), "_", ""), strings.ReplaceAll(name, "_", "")) {
			code = c
		}
	}
	detail := &anypb.Any{}
	err := anypb.MarshalFrom(detail, s.svc.newItem(map[string]any{"id": field(q, "id").String(), "name": "détail 100%"}), proto.MarshalOptions{Deterministic: true})
	if err != nil {
		return err
	}
	return status.FromProto(&spb.Status{Code: int32(code), Message: "item " + field(q, "id").String() + " : ünavailable 100%", Details: []*anypb.Any{detail}}).Err()
}

// dial is a grpc-go client connection to addr (plaintext: h2c).
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// grpcSession starts a shadow session and a proxy in front of it that
// accepts h2c, as shadowtest proxy serves it; it returns the proxy's
// address.
func grpcSession(t testing.TB, plan *framework.Plan, opt Options) (*Shadow, *httptest.Server) {
	t.Helper()
	s, err := New(plan, observe.NewResults(plan.Endpoints), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	front := httptest.NewUnstartedServer(NewProxy(s))
	front.Config.Protocols = Protocols()
	front.Start()
	t.Cleanup(front.Close)
	return s, front
}

// grpcPlan is a plan whose targets are gRPC services and which has no
// endpoint selecting RPCs: every call only passes through.
func grpcPlan(prod, shadow string) *framework.Plan {
	plan := testPlan("grpc://"+prod, "grpc://"+shadow)
	return plan
}

// call is one RPC's outcome as the client saw it.
type call struct {
	messages []*dynamicpb.Message
	header   metadata.MD
	trailer  metadata.MD
	status   *status.Status
}

// invoke makes a call of any kind on conn: it sends requests (closing the
// send side after them) and reads every answer until the status.
func invoke(ctx context.Context, conn *grpc.ClientConn, svc *itemsService, method string, requests ...*dynamicpb.Message) call {
	var c call
	stream, err := conn.NewStream(ctx, streamDesc(svc, method), "/shadowtest.live.v1.Items/"+method)
	if err != nil {
		c.status = status.Convert(err)
		return c
	}
	for _, req := range requests {
		if err := stream.SendMsg(req); err != nil {
			break // the status comes from RecvMsg
		}
	}
	stream.CloseSend()
	for {
		m := dynamicpb.NewMessage(svc.item)
		err := stream.RecvMsg(m)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.status = status.Convert(err)
			} else {
				c.status = status.New(codes.OK, "")
			}
			break
		}
		c.messages = append(c.messages, m)
	}
	c.header, _ = stream.Header()
	c.trailer = stream.Trailer()
	return c
}

// streamDesc describes a method of Items for grpc-go; a method the service
// does not declare is called as a unary one.
func streamDesc(svc *itemsService, method string) *grpc.StreamDesc {
	desc := &grpc.StreamDesc{StreamName: method}
	if md := svc.service.Methods().ByName(protoreflect.Name(method)); md != nil {
		desc.ServerStreams, desc.ClientStreams = md.IsStreamingServer(), md.IsStreamingClient()
	}
	return desc
}
