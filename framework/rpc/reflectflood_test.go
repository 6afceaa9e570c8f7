package rpc

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// flood is a reflection service that lies: every file it sends is large
// and imports a new one.
type flood struct {
	reflectionpb.UnimplementedServerReflectionServer
}

func (flood) ServerReflectionInfo(stream reflectionpb.ServerReflection_ServerReflectionInfoServer) error {
	big := strings.Repeat("a", 2<<20)
	for n := 0; ; n++ {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		resp := &reflectionpb.ServerReflectionResponse{OriginalRequest: req}
		if _, ok := req.MessageRequest.(*reflectionpb.ServerReflectionRequest_ListServices); ok {
			resp.MessageResponse = &reflectionpb.ServerReflectionResponse_ListServicesResponse{ListServicesResponse: &reflectionpb.ListServiceResponse{Service: []*reflectionpb.ServiceResponse{{Name: "flood.S"}}}}
		} else {
			fd, _ := proto.Marshal(&descriptorpb.FileDescriptorProto{Name: proto.String(fmt.Sprintf("f%d.proto", n)), Package: proto.String(big), Dependency: []string{fmt.Sprintf("f%d.proto", n+1)}})
			resp.MessageResponse = &reflectionpb.ServerReflectionResponse_FileDescriptorResponse{FileDescriptorResponse: &reflectionpb.FileDescriptorResponse{FileDescriptorProto: [][]byte{fd}}}
		}
		if err := stream.Send(resp); err != nil {
			return nil
		}
	}
}

// TestReflectionFloodIsBounded: a prod whose reflection sends large files
// that each import a new one is refused once its descriptors pass a
// bound, instead of holding up to 10,000 files of megabytes each.
func TestReflectionFloodIsBounded(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	reflectionpb.RegisterServerReflectionServer(server, flood{})
	go server.Serve(lis)
	defer server.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = FromReflection(ctx, conn)
	if err == nil || !strings.Contains(err.Error(), "bytes of descriptors") {
		t.Errorf("FromReflection: %v, want the byte bound", err)
	}
}
