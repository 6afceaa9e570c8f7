package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// BenchmarkClientDo is one unary call with a 20-field answer and a
// 20-message stream, through the client: request sent in wire bytes,
// answers decoded and written as canonical protojson.
func BenchmarkClientDo(b *testing.B) {
	desc := rpctest.Descriptors(b)
	addr := rpctest.Serve(b, desc, func(c *rpctest.Call) error {
		if strings.HasSuffix(c.Method, "ListUsers") {
			for i := range 20 {
				if err := c.Send(fmt.Sprintf(`{"id":"%d","email":"u%d@example.com","balance":%d.25,"roles":["a","b"],"visits":"%d"}`, i, i, i, i)); err != nil {
					return err
				}
			}
			return nil
		}
		return c.Send(`{"user":{"id":"7","email":"ada@example.com","balance":1.5,"roles":["admin","dev"],"visits":"12"},"requestId":"r-1"}`)
	})
	c, err := rpc.NewClient(framework.Target{Name: "prod", URL: "grpc://" + addr}, "", desc, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for method, request := range map[string]string{"GetUser": `{"id":"7"}`, "ListUsers": `{"limit":20}`} {
		ex := framework.Exchange{Request: *call("acme.users.v1.UserService/"+method, request)}
		if err := desc.Prepare(&ex); err != nil {
			b.Fatal(err)
		}
		b.Run(method, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if resp := c.Do(context.Background(), &ex.Request); resp.Err != nil || resp.RPC.Code != 0 {
						b.Fatal(resp.Err, resp.RPC)
					}
				}
			})
		})
	}
}
