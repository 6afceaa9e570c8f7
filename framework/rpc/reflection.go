package rpc

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
)

// maxReflectedFiles bounds how many files a server's reflection may hand
// over, so that a hostile server cannot grow the run's memory without end.
const maxReflectedFiles = 10000

// maxReflectedBytes caps the descriptors a server's reflection may send in
// all: a server that floods (every file new and large) would otherwise
// hold up to maxReflectedFiles times the message cap in memory.
const maxReflectedBytes = 64 << 20

// FromReflection asks a server's reflection service (grpc.reflection.v1)
// for every service it lists and the files that define them, imports
// included.
func FromReflection(ctx context.Context, conn grpc.ClientConnInterface) (*Descriptors, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("server reflection: %w", err)
	}
	defer stream.CloseSend()
	ask := func(req *reflectionpb.ServerReflectionRequest) (*reflectionpb.ServerReflectionResponse, error) {
		if err := stream.Send(req); err != nil {
			return nil, fmt.Errorf("server reflection: %w", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("server reflection: %w (does the server register grpc reflection?)", err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			return nil, fmt.Errorf("server reflection: %s", e.GetErrorMessage())
		}
		return resp, nil
	}
	resp, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	var pending []string // imports not yet fetched
	size := 0
	add := func(resp *reflectionpb.ServerReflectionResponse) error {
		for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			if len(files) >= maxReflectedFiles {
				return fmt.Errorf("server reflection: more than %d files", maxReflectedFiles)
			}
			if size += len(raw); size > maxReflectedBytes {
				return fmt.Errorf("server reflection: more than %d bytes of descriptors", maxReflectedBytes)
			}
			fd := new(descriptorpb.FileDescriptorProto)
			if err := proto.Unmarshal(raw, fd); err != nil {
				return fmt.Errorf("server reflection: a file descriptor does not parse: %w", err)
			}
			if _, ok := files[fd.GetName()]; ok {
				continue
			}
			files[fd.GetName()] = fd
			pending = append(pending, fd.GetDependency()...)
		}
		return nil
	}
	for _, s := range resp.GetListServicesResponse().GetService() {
		name := s.GetName()
		if strings.HasPrefix(name, "grpc.reflection.") {
			continue
		}
		r, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: name}})
		if err != nil {
			return nil, err
		}
		if err := add(r); err != nil {
			return nil, err
		}
	}
	for len(pending) > 0 {
		name := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		if _, ok := files[name]; ok {
			continue
		}
		r, err := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileByFilename{FileByFilename: name}})
		if err != nil {
			return nil, err
		}
		if err := add(r); err != nil {
			return nil, err
		}
		if _, ok := files[name]; !ok {
			return nil, fmt.Errorf("server reflection: the server did not send %s", name)
		}
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range files {
		set.File = append(set.File, fd)
	}
	registry, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("server reflection: %w", err)
	}
	return NewDescriptors(registry), nil
}
