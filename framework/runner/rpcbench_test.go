package runner

import (
	"fmt"
	"testing"

	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// BenchmarkRPCRun replays 500 recorded unary calls per iteration to two
// gRPC servers on loopback through the whole runner (spec loaded once).
func BenchmarkRPCRun(b *testing.B) {
	desc := rpctest.Descriptors(b)
	answer := func(c *rpctest.Call) error {
		return c.Send(fmt.Sprintf(`{"user":{"id":%q,"email":"ada@example.com","balance":10.1,"roles":["a","b","c"],"visits":"12"},"requestId":"r"}`, c.Field("id")))
	}
	prod, shadow := rpctest.Serve(b, desc, answer), rpctest.Serve(b, desc, answer)
	traffic := make([]string, 500)
	for i := range traffic {
		traffic[i] = getUser(fmt.Sprint(i))
	}
	dir := rpcSpec(b, "grpc://"+prod, "grpc://"+shadow, `endpoints: "get-user": grpc: "acme.users.v1.UserService/GetUser"`, traffic...)
	b.ResetTimer()
	for range b.N {
		if _, err := runSpec(b, dir); err != nil {
			b.Fatal(err)
		}
	}
}
