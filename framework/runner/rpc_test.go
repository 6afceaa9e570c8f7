package runner

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
	"github.com/shadowtest/shadowtest/framework/spec"
)

// rpcService answers the test service as version v ("v1" is prod, "v2"
// the shadow): v2 changes the request id (ignored), the balance by a float
// artefact (tolerated), the order of the user list (unordered), and
// answers GetUser 13 with UNAVAILABLE (a regression).
func rpcService(v string, calls *atomic.Int64) rpctest.Handler {
	return func(c *rpctest.Call) error {
		if calls != nil {
			calls.Add(1)
		}
		method := strings.TrimPrefix(c.Method, "acme.users.v1.UserService/")
		switch method {
		case "GetUser":
			id := c.Field("id")
			if id == "404" {
				reason := "USER_NOT_FOUND"
				st, _ := status.New(codes.NotFound, "user "+v+" says no").WithDetails(&errdetails.ErrorInfo{Reason: reason})
				return st.Err()
			}
			if id == "13" && v == "v2" {
				return status.Error(codes.Unavailable, "backend down")
			}
			balance := "10.1"
			if v == "v2" {
				balance = "10.100000000000001"
			}
			c.SetHeader("x-api-version", "1")
			return c.Send(fmt.Sprintf(`{"user":{"id":%q,"email":"ada@example.com","balance":%s},"requestId":"%s-%s"}`, id, balance, v, id))
		case "ListUsers":
			ids := []string{"1", "2", "3"}
			if v == "v2" {
				slices.Reverse(ids)
			}
			for _, id := range ids {
				if err := c.Send(fmt.Sprintf(`{"id":%q}`, id)); err != nil {
					return err
				}
			}
			return nil
		case "CreateUser":
			return c.Send(`{"id":"new"}`)
		}
		return status.Error(codes.Unimplemented, method)
	}
}

// rpcSpec writes a spec directory with the test proto, the spec and the
// traffic, and returns it.
func rpcSpec(t testing.TB, prod, shadow, endpoints string, traffic ...string) string {
	t.Helper()
	dir := t.TempDir()
	rpctest.WriteProto(t, dir)
	cue := fmt.Sprintf(`package shadow

targets: prod: url: %q
targets: shadow: url: %q
grpc: protos: ["users.proto"]
traffic: [{jsonl: "traffic.jsonl"}]
defaults: thresholds: matchRate: 0.5
%s
`, prod, shadow, endpoints)
	if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(cue), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(strings.Join(traffic, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func getUser(id string) string {
	return fmt.Sprintf(`{"rpc":{"method":"acme.users.v1.UserService/GetUser","metadata":{"x-tenant":["acme"]},"messages":[{"id":%q}]}}`, id)
}

const listUsers = `{"rpc":{"method":"/acme.users.v1.UserService/ListUsers","messages":[{"limit":3}]}}`

func runSpec(t testing.TB, dir string) (*observe.Results, error) {
	t.Helper()
	plan, err := spec.Load(dir, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results := observe.NewResults(plan.Endpoints)
	return results, Run(context.Background(), plan, results, Options{})
}

// TestRPCReplay replays recorded unary and server-streaming RPCs to two
// real gRPC servers on loopback and checks that the spec's rules apply to
// messages as to JSON bodies: ignore, tolerance, unordered, metadata
// compared as headers, errors.by on google.rpc.Status details, and a
// differing code reported as a status category.
func TestRPCReplay(t *testing.T) {
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, rpcService("v1", nil))
	shadow := rpctest.Serve(t, desc, rpcService("v2", nil))
	endpoints := `
endpoints: "get-user": {
	grpc: "acme.users.v1.UserService/GetUser"
	ignore: ["$.requestId"]
	tolerance: "$.user.balance": {abs: 0.001}
	headers: ["x-api-version"]
	errors: by: "$.details[0].reason"
}
endpoints: "list-users": {
	grpc: "acme.users.v1.UserService/List*"
	safe: true
	unordered: ["$"]
}`
	dir := rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, endpoints,
		getUser("1"), getUser("2"), getUser("404"), getUser("13"), listUsers)
	results, err := runSpec(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	get := results.Endpoint("get-user")
	if get.Pairs != 4 || get.Matches != 3 {
		t.Errorf("get-user: %d pairs, %d matches; want 4 pairs and 3 matches (only id 13 differs)", get.Pairs, get.Matches)
	}
	c := get.Categories["status status"]
	if c == nil || c.Count != 1 || c.Example.Prod != "OK" || c.Example.Shadow != "UNAVAILABLE" {
		t.Errorf("get-user categories = %v, want one status OK vs UNAVAILABLE", keys(get.Categories))
	}
	if get.ShadowErrors["UNAVAILABLE"] != 1 {
		t.Errorf("shadow errors = %v, want UNAVAILABLE 1", get.ShadowErrors)
	}
	list := results.Endpoint("list-users")
	if list.Pairs != 1 || list.Matches != 1 {
		t.Errorf("list-users: %d pairs, %d matches; want the reversed stream to match as unordered", list.Pairs, list.Matches)
	}

	// Without the rules every difference shows, at the message paths.
	bare := rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, `
endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"
endpoints: "list-users": {grpc: "acme.users.v1.UserService/ListUsers", safe: true}`,
		getUser("1"), getUser("404"), listUsers)
	results, err = runSpec(t, bare)
	if err != nil {
		t.Fatal(err)
	}
	got := keys(results.Endpoint("get-user").Categories)
	for _, want := range []string{"value $.requestId", "value $.user.balance", "value $.message"} {
		if !slices.Contains(got, want) {
			t.Errorf("get-user categories %v lack %q", got, want)
		}
	}
	if got := keys(results.Endpoint("list-users").Categories); !slices.Contains(got, "value $[*].id") {
		t.Errorf("list-users categories %v lack the ordered comparison's value $[*].id", got)
	}
}

// TestRPCWritesSkipped checks that a call of a method with side effects is
// a write: skipped under the default writes policy, sent when isolated.
func TestRPCWritesSkipped(t *testing.T) {
	desc := rpctest.Descriptors(t)
	var prodCalls atomic.Int64
	prod := rpctest.Serve(t, desc, rpcService("v1", &prodCalls))
	shadow := rpctest.Serve(t, desc, rpcService("v1", nil))
	create := `{"rpc":{"method":"acme.users.v1.UserService/CreateUser","messages":[{"email":"a@b"}]}}`
	endpoints := `endpoints: create: grpc: "acme.users.v1.UserService/CreateUser"
endpoints: get: grpc: "acme.users.v1.UserService/GetUser"`
	results, err := runSpec(t, rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, endpoints, create, getUser("1")))
	if err != nil {
		t.Fatal(err)
	}
	if e := results.Endpoint("create"); e.Skipped != 1 || e.Pairs != 0 {
		t.Errorf("create: skipped %d, pairs %d; want the write skipped", e.Skipped, e.Pairs)
	}
	if e := results.Endpoint("get"); e.Pairs != 1 || e.Matches != 1 {
		t.Errorf("get (NO_SIDE_EFFECTS in the proto): pairs %d, matches %d; want it sent", e.Pairs, e.Matches)
	}
	if prodCalls.Load() != 1 {
		t.Errorf("prod got %d calls, want 1 (the write is never sent)", prodCalls.Load())
	}
	results, err = runSpec(t, rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, "mirror: writes: \"isolated\"\n"+endpoints, create))
	if err != nil {
		t.Fatal(err)
	}
	if e := results.Endpoint("create"); e.Pairs != 1 || e.Matches != 1 {
		t.Errorf("create, isolated: pairs %d, matches %d; want it sent", e.Pairs, e.Matches)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRPCDescriptorSources runs the same replay with the descriptors from
// a FileDescriptorSet file and from prod's server reflection.
func TestRPCDescriptorSources(t *testing.T) {
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, rpcService("v1", nil))
	shadow := rpctest.Serve(t, desc, rpcService("v1", nil))
	set := &descriptorpb.FileDescriptorSet{}
	desc.Files().RangeFiles(func(f protoreflect.FileDescriptor) bool {
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
		return true
	})
	data, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{`grpc: descriptorSet: "users.binpb"`, `grpc: reflection: true`} {
		dir := rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, `endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"`, getUser("1"), getUser("2"))
		os.WriteFile(filepath.Join(dir, "users.binpb"), data, 0o644)
		specFile := filepath.Join(dir, "spec.cue")
		text, _ := os.ReadFile(specFile)
		os.WriteFile(specFile, []byte(strings.Replace(string(text), `grpc: protos: ["users.proto"]`, source, 1)), 0o644)
		os.Remove(filepath.Join(dir, "users.proto"))
		results, err := runSpec(t, dir)
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if e := results.Endpoint("get-user"); e.Pairs != 2 || e.Matches != 2 {
			t.Errorf("%s: %d pairs, %d matches; want 2 and 2", source, e.Pairs, e.Matches)
		}
	}
}

// TestRPCProdUnchangedWhenShadowFails: a shadow that is down, hangs past
// its timeout, or answers with a message over the body cap changes
// nothing on prod's side: prod gets each call once and its answers are
// compared as usual, and the shadow's failures are counted by kind.
func TestRPCProdUnchangedWhenShadowFails(t *testing.T) {
	desc := rpctest.Descriptors(t)
	// The hanging shadow never answers, not even when the deadline it was
	// sent passes (a handler that returned then raced the client's own
	// timer with a status of its own, INTERNAL, and made the test flaky).
	released := make(chan struct{})
	hang := rpctest.Serve(t, desc, func(c *rpctest.Call) error { <-released; return nil })
	t.Cleanup(func() { close(released) }) // before the server stops (cleanups run last first)
	huge := rpctest.Serve(t, desc, func(c *rpctest.Call) error {
		return c.Send(`{"requestId":"` + strings.Repeat("z", 2<<20) + `"}`)
	})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := l.Addr().String()
	l.Close()
	// Only the hanging shadow has a short timeout: a loaded machine must
	// not turn the other failures into timeouts.
	for _, tc := range []struct{ shadow, kind, timeout string }{{down, "refused", "10s"}, {hang, "timeout", "300ms"}, {huge, "too large", "10s"}} {
		var prodCalls atomic.Int64
		prod := rpctest.Serve(t, desc, rpcService("v1", &prodCalls))
		dir := rpcSpec(t, "grpc://"+prod, "grpc://"+tc.shadow, `
targets: shadow: timeout: "`+tc.timeout+`"
mirror: maxBodyBytes: 1048576
endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"`, getUser("1"), getUser("2"), getUser("3"))
		results, err := runSpec(t, dir)
		if err != nil {
			t.Fatalf("shadow %s: %v", tc.kind, err)
		}
		e := results.Endpoint("get-user")
		if prodCalls.Load() != 3 || e.Pairs != 3 || len(e.ProdErrors) != 0 {
			t.Errorf("shadow %s: prod got %d calls, %d pairs, prod errors %v; want 3 calls answered normally", tc.kind, prodCalls.Load(), e.Pairs, e.ProdErrors)
		}
		if e.ShadowErrors[tc.kind] != 3 || e.Categories["error response"] == nil {
			t.Errorf("shadow %s: shadow errors %v, categories %v; want 3 %q failures compared as errors", tc.kind, e.ShadowErrors, keys(e.Categories), tc.kind)
		}
	}
}

// TestRPCNoiseLearning: calls of a method without side effects are probed
// on prod a second time, and a field prod itself varies (a random id) is
// learned as noise, as for an HTTP endpoint; calls with side effects are
// never sent to prod twice.
func TestRPCNoiseLearning(t *testing.T) {
	desc := rpctest.Descriptors(t)
	var n atomic.Int64
	random := func(c *rpctest.Call) error {
		return c.Send(fmt.Sprintf(`{"user":{"id":"1"},"requestId":"req-%d"}`, n.Add(1)))
	}
	var prodCalls atomic.Int64
	prod := rpctest.Serve(t, desc, func(c *rpctest.Call) error { prodCalls.Add(1); return random(c) })
	shadow := rpctest.Serve(t, desc, random)
	var traffic []string
	for i := range 12 {
		traffic = append(traffic, getUser(fmt.Sprint(i)))
	}
	dir := rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, `
endpoints: "get-user": {grpc: "acme.users.v1.UserService/GetUser", noise: probe: 1}`, traffic...)
	results, err := runSpec(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	e := results.Endpoint("get-user")
	if e.Probes != 12 || prodCalls.Load() != 24 {
		t.Errorf("%d probes, prod got %d calls; want every call probed once", e.Probes, prodCalls.Load())
	}
	if e.Noise["$.requestId"] == nil || e.Matches != 12 {
		t.Errorf("noise %v, %d matches of %d; want $.requestId learned as noise and every pair a match", keys(e.Noise), e.Matches, e.Pairs)
	}
}

// TestRPCKeyedStream: a server stream compared as a set keyed by a member
// of its messages reports a changed message at its key (moved messages as
// order differences, as for a JSON array), and a keyed ignore rule
// applies to it.
func TestRPCKeyedStream(t *testing.T) {
	desc := rpctest.Descriptors(t)
	stream := func(order []string, email2 string) rpctest.Handler {
		return func(c *rpctest.Call) error {
			for _, id := range order {
				email := id + "@example.com"
				if id == "2" {
					email = email2
				}
				if err := c.Send(fmt.Sprintf(`{"id":%q,"email":%q,"visits":"%s"}`, id, email, id)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	prod := rpctest.Serve(t, desc, stream([]string{"1", "2", "3"}, "2@example.com"))
	shadow := rpctest.Serve(t, desc, stream([]string{"3", "2", "1"}, "TWO@example.com"))
	for _, tc := range []struct{ rules, example string }{
		{`unordered: [{path: "$", key: "id"}]`, `$[id="2"].email`},
		{`unordered: [{path: "$", key: "id"}], ignore: ["$[id=\"2\"].email"]`, ""},
	} {
		dir := rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, `
endpoints: "list-users": {grpc: "acme.users.v1.UserService/ListUsers", safe: true, `+tc.rules+`}`, listUsers)
		results, err := runSpec(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		e := results.Endpoint("list-users")
		value := e.Categories["value $[*].email"]
		if e.Categories["order $[*]"] == nil {
			t.Errorf("%s: categories %v; want the moved messages as order differences", tc.rules, keys(e.Categories))
		}
		if tc.example == "" && value != nil || tc.example != "" && (value == nil || value.Example.Path != tc.example) {
			t.Errorf("%s: categories %v (value example %+v); want the changed message at %q", tc.rules, keys(e.Categories), value, tc.example)
		}
	}
}

// TestRPCRecordedProd: with targets.prod.recorded, the shadow's answers
// are compared with the responses recorded in the JSONL RPC records, made
// canonical with the descriptors like live ones.
func TestRPCRecordedProd(t *testing.T) {
	desc := rpctest.Descriptors(t)
	shadow := rpctest.Serve(t, desc, rpcService("v1", nil))
	recorded := func(id, response string) string {
		return fmt.Sprintf(`{"rpc":{"method":"acme.users.v1.UserService/GetUser","messages":[{"id":%q}]},"response":%s}`, id, response)
	}
	st, _ := status.New(codes.NotFound, "user v1 says no").WithDetails(&errdetails.ErrorInfo{Reason: "USER_NOT_FOUND"})
	wire, _ := proto.Marshal(st.Proto())
	details := base64.StdEncoding.EncodeToString(wire)
	dir := rpcSpec(t, "grpc://127.0.0.1:1", "grpc://"+shadow, `
targets: prod: recorded: true
endpoints: "get-user": {grpc: "acme.users.v1.UserService/GetUser", headers: ["x-api-version"]}`,
		recorded("1", `{"code":"OK","metadata":{"x-api-version":["1"]},"messages":[{"request_id":"v1-1","user":{"email":"ada@example.com","balance":10.1,"id":"1"}}]}`),
		recorded("2", `{"code":"OK","metadata":{"x-api-version":["1"]},"messages":[{"user":{"id":"2","email":"bob@example.com","balance":10.1},"requestId":"v1-2"}]}`),
		recorded("404", `{"code":"NOT_FOUND","message":"user v1 says no","detailsBase64":"`+details+`"}`),
		getUser("3"))
	results, err := runSpec(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	e := results.Endpoint("get-user")
	if e.Pairs != 3 || e.Matches != 2 || e.NoRecording != 1 || e.Categories["value $.user.email"] == nil {
		t.Errorf("%d pairs, %d matches, %d without recording, categories %v; want 3 pairs, 2 matching (proto names and field order do not count), the email of user 2 differing", e.Pairs, e.Matches, e.NoRecording, keys(e.Categories))
	}
}

// TestRPCReflectionChecksSelectors: with descriptors from prod's server
// reflection, a selector naming no method is an input error when the run
// starts (vet could not check it), not an endpoint that silently covers
// nothing.
func TestRPCReflectionChecksSelectors(t *testing.T) {
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, rpcService("v1", nil))
	dir := rpcSpec(t, "grpc://"+prod, "grpc://"+prod, `endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUsr"`, getUser("1"))
	specFile := filepath.Join(dir, "spec.cue")
	text, _ := os.ReadFile(specFile)
	os.WriteFile(specFile, []byte(strings.Replace(string(text), `grpc: protos: ["users.proto"]`, `grpc: reflection: true`, 1)), 0o644)
	_, err := runSpec(t, dir)
	var input *InputError
	if !errors.As(err, &input) || !strings.Contains(err.Error(), `endpoint "get-user": grpc acme.users.v1.UserService/GetUsr names no method prod's server reflection lists`) {
		t.Errorf("err = %v, want an input error naming the endpoint and its selector", err)
	}
}

// TestRPCReflectionOnAnUnreachableProdAborts: prod refusing the connection
// (or never answering) when it is asked for its descriptors ended the run
// as invalid input (exit 2), as if the spec were wrong; prod unreachable is
// an abort (exit 3), as it is once the traffic flows.
func TestRPCReflectionOnAnUnreachableProdAborts(t *testing.T) {
	refused := closedAddr(t)
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never speaks HTTP/2
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for _, prod := range []string{"grpc://" + refused, "grpc://" + silent.Addr().String()} {
		dir := rpcSpec(t, prod, prod, `endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"`, getUser("1"))
		specFile := filepath.Join(dir, "spec.cue")
		text, _ := os.ReadFile(specFile)
		text = []byte(strings.Replace(string(text), `grpc: protos: ["users.proto"]`, `grpc: reflection: true`, 1))
		text = []byte(strings.Replace(string(text), `targets: prod: url: `, `targets: prod: timeout: "200ms", targets: prod: url: `, 1))
		os.WriteFile(specFile, text, 0o644)
		_, err := runSpec(t, dir)
		var abort *AbortError
		if !errors.As(err, &abort) || !strings.Contains(err.Error(), "prod unreachable: grpc reflection on prod") {
			t.Errorf("prod %s: err = %T %v, want an abort saying prod is unreachable", prod, err, err)
		}
	}
}

// TestRPCRecordedResponseUnusedWhenProdLive: with prod live, a record's
// recorded response is not used, so it is not decoded (that costs as much
// as comparing): one that is not the method's output does not stop the
// run. With prod answering from the recording it is a bad record.
func TestRPCRecordedResponseUnusedWhenProdLive(t *testing.T) {
	desc := rpctest.Descriptors(t)
	prod := rpctest.Serve(t, desc, rpcService("v1", nil))
	shadow := rpctest.Serve(t, desc, rpcService("v1", nil))
	record := `{"rpc":{"method":"acme.users.v1.UserService/GetUser","messages":[{"id":"1"}]},"response":{"code":"OK","messages":[{"noSuchField":1}]}}`
	endpoint := `endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"`
	results, err := runSpec(t, rpcSpec(t, "grpc://"+prod, "grpc://"+shadow, endpoint, record, getUser("2")))
	if err != nil {
		t.Fatalf("prod live: %v; want the recorded response left alone", err)
	}
	if e := results.Endpoint("get-user"); e.Pairs != 2 || e.Matches != 2 || results.BadRecords != 0 {
		t.Errorf("prod live: %d pairs, %d matches, %d bad records; want 2 matching pairs", e.Pairs, e.Matches, results.BadRecords)
	}
	_, err = runSpec(t, rpcSpec(t, "grpc://127.0.0.1:1", "grpc://"+shadow, "targets: prod: recorded: true\n"+endpoint, record))
	if err == nil || !strings.Contains(err.Error(), "noSuchField") {
		t.Errorf("prod recorded: %v; want the bad recorded response named", err)
	}
}
