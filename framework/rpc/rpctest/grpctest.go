// Package rpctest serves gRPC on loopback for tests: a service built at
// run time from a .proto compiled with protocompile and dynamic messages
// (no protoc, no generated code), answering through a handler the test
// writes, optionally over TLS with a CA generated for the test.
package rpctest

import (
	"context"
	_ "embed"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/shadowtest/shadowtest/framework/rpc"
)

// UsersProto is the test service: acme.users.v1.UserService with a unary
// method (GetUser, NO_SIDE_EFFECTS), a server stream (ListUsers), writes
// (CreateUser; UpdateUser, IDEMPOTENT), a client stream (Upload) and a
// bidirectional stream (Chat).
//
//go:embed users.proto
var UsersProto string

// WriteProto writes UsersProto as dir/users.proto and returns its path.
func WriteProto(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "users.proto")
	if err := os.WriteFile(path, []byte(UsersProto), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Descriptors compiles UsersProto.
func Descriptors(t testing.TB) *rpc.Descriptors {
	t.Helper()
	dir := t.TempDir()
	WriteProto(t, dir)
	desc, err := rpc.Compile(context.Background(), dir, []string{"users.proto"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// Call is one call a handler answers.
type Call struct {
	// Method is the full method, "acme.users.v1.UserService/GetUser".
	Method string
	// Metadata is the request's metadata.
	Metadata metadata.MD
	// In are the request messages, all of them (the client closed its
	// side).
	In     []*dynamicpb.Message
	desc   protoreflect.MethodDescriptor
	stream grpc.ServerStream
}

// Field returns the protojson of the request's first message (for
// handlers that branch on it).
func (c *Call) Field(name string) string {
	if len(c.In) == 0 {
		return ""
	}
	fd := c.In[0].Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		return ""
	}
	return c.In[0].Get(fd).String()
}

// Send sends one response message given as protojson.
func (c *Call) Send(json string) error {
	m := dynamicpb.NewMessage(c.desc.Output())
	if err := protojson.Unmarshal([]byte(json), m); err != nil {
		return err
	}
	return c.stream.SendMsg(m)
}

// Context is the call's context, done when the client goes away.
func (c *Call) Context() context.Context { return c.stream.Context() }

// SetHeader sets header metadata (pairs of name and value).
func (c *Call) SetHeader(kv ...string) error { return c.stream.SetHeader(metadata.Pairs(kv...)) }

// SetTrailer sets trailing metadata (pairs of name and value).
func (c *Call) SetTrailer(kv ...string) { c.stream.SetTrailer(metadata.Pairs(kv...)) }

// Handler answers a call: it sends messages and returns the status (nil
// for OK; a status.Error for another code).
type Handler func(*Call) error

// Serve starts a server of the descriptors' services on 127.0.0.1 that
// answers every call with h, with server reflection registered, and
// returns its address; it stops with the test.
func Serve(t testing.TB, desc *rpc.Descriptors, h Handler, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := NewServer(desc, h, opts...)
	go server.Serve(lis)
	t.Cleanup(server.Stop)
	return lis.Addr().String()
}

// NewServer builds the server Serve starts, for a caller that serves it
// on a listener of its own.
func NewServer(desc *rpc.Descriptors, h Handler, opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(stream)
		md, err := desc.Method(full)
		if err != nil {
			return err
		}
		call := &Call{Method: full[1:], desc: md, stream: stream}
		call.Metadata, _ = metadata.FromIncomingContext(stream.Context())
		for {
			m := dynamicpb.NewMessage(md.Input())
			err := stream.RecvMsg(m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			call.In = append(call.In, m)
			if !md.IsStreamingClient() {
				break
			}
		}
		return h(call)
	}))
	server := grpc.NewServer(opts...)
	reflectionpb.RegisterServerReflectionServer(server, reflection.NewServerV1(reflection.ServerOptions{
		Services: (*services)(desc), DescriptorResolver: desc.Files(),
	}))
	return server
}

// services lists the descriptors' services for server reflection.
type services rpc.Descriptors

func (s *services) GetServiceInfo() map[string]grpc.ServiceInfo {
	out := map[string]grpc.ServiceInfo{}
	for _, m := range (*rpc.Descriptors)(s).Methods() {
		name, _, _ := strings.Cut(m, "/")
		out[name] = grpc.ServiceInfo{}
	}
	return out
}
