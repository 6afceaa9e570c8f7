// Package rpc replays gRPC calls for shadowtest: it loads the descriptors of
// the services (from .proto files compiled at load time, a
// FileDescriptorSet, or server reflection), converts messages between
// protojson, wire bytes and the canonical protojson the comparator reads,
// and sends calls to one target with a gRPC client of its own.
//
// An RPC is represented as an HTTP exchange (see framework.RPCCall and
// framework.RPCStatus), so that selection, comparison, rules, categories,
// redaction and reports treat an RPC endpoint as any endpoint. This package
// does not select, compare or count anything.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/shadowtest/shadowtest/framework"
)

// Descriptors are the services, methods and message types an RPC can use.
// They are immutable and safe for concurrent use.
type Descriptors struct {
	files *protoregistry.Files
	types *dynamicpb.Types
	// partials caches partial's answer per message type.
	partials sync.Map
	// methods caches Method's answer per full method.
	methods sync.Map
	// plans caches how appendWireJSON writes each message type.
	plans plans
}

// NewDescriptors wraps a set of file descriptors.
func NewDescriptors(files *protoregistry.Files) *Descriptors {
	return &Descriptors{files: files, types: dynamicpb.NewTypes(files)}
}

// Files returns the file descriptors.
func (d *Descriptors) Files() *protoregistry.Files { return d.files }

// maxProblems is how many compile errors a ProtoError lists.
const maxProblems = 20

// ProtoError is a .proto file that does not compile. Each problem names
// the file (as the spec's directory sees it) and line:col.
type ProtoError struct {
	Problems []ProtoProblem
}

// ProtoProblem is one compile error.
type ProtoProblem struct {
	Pos     framework.Position
	Message string
}

func (e *ProtoError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Pos.File == "" {
			lines[i] = p.Message
			continue
		}
		lines[i] = p.Pos.String() + ": " + p.Message
	}
	return strings.Join(lines, "\n")
}

// Compile compiles .proto files at load time with protocompile. protos and
// importPaths are relative to dir unless absolute; each proto is looked up
// under the import path that holds it (dir when importPaths is empty), and
// imports likewise. The well-known types (google/protobuf/*.proto) are
// built in. Every file read, imports and symlinks included, must be
// inside SourceRoot(dir). Errors are a *ProtoError naming file:line:col.
func Compile(ctx context.Context, dir string, protos, importPaths []string) (*Descriptors, error) {
	source := SourceRoot(dir)
	for _, p := range slices.Concat(importPaths, protos) {
		if err := CheckInside(source, dir, p); err != nil {
			return nil, &ProtoError{Problems: []ProtoProblem{{Message: err.Error()}}}
		}
	}
	roots := make([]string, 0, len(importPaths)+1)
	for _, p := range importPaths {
		roots = append(roots, resolve(dir, p))
	}
	if len(roots) == 0 {
		roots = append(roots, dir)
	}
	names := make([]string, 0, len(protos))
	for _, p := range protos {
		name, err := importName(resolve(dir, p), roots)
		if err != nil {
			return nil, &ProtoError{Problems: []ProtoProblem{{Message: err.Error()}}}
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	var problems []ProtoProblem
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: roots,
			Accessor: func(path string) (io.ReadCloser, error) {
				// An import ("../../x.proto") or a symlink may lead out.
				if err := CheckInside(source, "", path); err != nil {
					return nil, err
				}
				return openRegular(path, maxProtoBytes)
			}}),
		Reporter: reporter.NewReporter(func(err reporter.ErrorWithPos) error {
			if len(problems) < maxProblems {
				pos := err.GetPosition()
				problems = append(problems, ProtoProblem{
					Pos:     framework.Position{File: shownFile(pos.Filename, roots, dir), Line: pos.Line, Col: pos.Col},
					Message: errors.Unwrap(err).Error(),
				})
			}
			return nil // report them all
		}, nil),
	}
	compiled, err := compiler.Compile(ctx, names...)
	if len(problems) > 0 {
		return nil, &ProtoError{Problems: problems}
	}
	if err != nil {
		var at reporter.ErrorWithPos
		if errors.As(err, &at) { // an import that cannot be found
			pos := at.GetPosition()
			return nil, &ProtoError{Problems: []ProtoProblem{{
				Pos:     framework.Position{File: shownFile(pos.Filename, roots, dir), Line: pos.Line, Col: pos.Col},
				Message: describeResolveError(errors.Unwrap(at), roots, dir),
			}}}
		}
		return nil, &ProtoError{Problems: []ProtoProblem{{Message: describeResolveError(err, roots, dir)}}}
	}
	// The compiled files are rebuilt as protobuf-go's own descriptors,
	// which dynamic messages read faster than protocompile's.
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	for _, f := range compiled {
		addWithDeps(set, seen, f)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, &ProtoError{Problems: []ProtoProblem{{Message: err.Error()}}}
	}
	return NewDescriptors(files), nil
}

// addWithDeps adds f and its imports to set, each file once.
func addWithDeps(set *descriptorpb.FileDescriptorSet, seen map[string]bool, f protoreflect.FileDescriptor) {
	if seen[f.Path()] {
		return
	}
	seen[f.Path()] = true
	imports := f.Imports()
	for i := range imports.Len() {
		addWithDeps(set, seen, imports.Get(i).FileDescriptor)
	}
	set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// importName is the path of file relative to the first root holding it.
func importName(file string, roots []string) (string, error) {
	for _, root := range roots {
		rel, err := filepath.Rel(root, file)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel), nil
		}
	}
	return "", fmt.Errorf("%s is under none of the import paths (%s): add its directory to grpc.importPaths", file, strings.Join(roots, ", "))
}

// shownFile turns a name relative to an import path back into the path a
// user finds it at, relative to the working directory like spec files.
func shownFile(name string, roots []string, dir string) string {
	for _, root := range roots {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return name
}

// describeResolveError says which file was not found and where it was
// looked for.
func describeResolveError(err error, roots []string, dir string) string {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("%v (imports are looked up in %s; set grpc.importPaths to the directories they are relative to)", err, strings.Join(roots, ", "))
	}
	return err.Error()
}

// ReadDescriptorSet reads a FileDescriptorSet file (protoc -o FILE
// --include_imports, buf build -o FILE).
func ReadDescriptorSet(path string) (*Descriptors, error) {
	data, err := readRegular(path, maxDescriptorSetBytes)
	if err != nil {
		return nil, err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%s: not a FileDescriptorSet (protoc -o FILE --include_imports, buf build -o FILE): %w", path, err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (was it written with --include_imports?)", path, err)
	}
	return NewDescriptors(files), nil
}

// Method finds a method by its full name, "package.Service/Method" (a
// leading slash is accepted).
func (d *Descriptors) Method(fullMethod string) (protoreflect.MethodDescriptor, error) {
	if md, ok := d.methods.Load(fullMethod); ok {
		return md.(protoreflect.MethodDescriptor), nil
	}
	md, err := d.method(fullMethod)
	if err == nil {
		d.methods.Store(fullMethod, md) // bounded: only the descriptors' methods
	}
	return md, err
}

func (d *Descriptors) method(fullMethod string) (protoreflect.MethodDescriptor, error) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok || service == "" || method == "" {
		return nil, fmt.Errorf("%q is not a full method name (want package.Service/Method)", fullMethod)
	}
	desc, err := d.files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("unknown service %s in the descriptors", service)
	}
	sd, ok := desc.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("service %s has no method %s", service, method)
	}
	return md, nil
}

// Methods lists every method of every service, as "package.Service/Method",
// sorted.
func (d *Descriptors) Methods() []string {
	var out []string
	d.files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		services := f.Services()
		for i := range services.Len() {
			s := services.Get(i)
			methods := s.Methods()
			for j := range methods.Len() {
				out = append(out, string(s.FullName())+"/"+string(methods.Get(j).Name()))
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}

// Idempotency reads a method's idempotency_level option: noSideEffects for
// NO_SIDE_EFFECTS, idempotent for it and for IDEMPOTENT.
func Idempotency(md protoreflect.MethodDescriptor) (noSideEffects, idempotent bool) {
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return false, false
	}
	switch opts.GetIdempotencyLevel() {
	case descriptorpb.MethodOptions_NO_SIDE_EFFECTS:
		return true, true
	case descriptorpb.MethodOptions_IDEMPOTENT:
		return false, true
	}
	return false, false
}

// Load loads the descriptors a plan's grpc block names from files:
// compiled protos or a descriptor set. For reflection it returns nil: the
// caller asks prod's server (FromReflection) once it has a connection.
func Load(ctx context.Context, plan *framework.Plan) (*Descriptors, error) {
	g := plan.GRPC
	switch {
	case g == nil, g.Reflection:
		return nil, nil
	case g.DescriptorSet != "":
		return ReadDescriptorSet(resolve(plan.Dir, g.DescriptorSet))
	}
	return Compile(ctx, plan.Dir, g.Protos, g.ImportPaths)
}
