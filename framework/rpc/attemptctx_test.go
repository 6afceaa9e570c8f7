package rpc_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/rpc"
	"github.com/shadowtest/shadowtest/framework/rpc/rpctest"
)

// doneOnly is a context that context does not know: each context derived
// from it and never cancelled keeps a goroutine waiting on it.
type doneOnly struct {
	context.Context
	done chan struct{}
}

func (c doneOnly) Done() <-chan struct{} { return c.done }

func (c doneOnly) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// TestAttemptsLeaveNothingBehind sends calls with a timeout set and
// counts goroutines: each attempt's context is cancelled when it ends,
// none stays attached to the run's context (a context made and dropped
// per attempt would keep one goroutine, or one entry of the parent's
// children, per call until the run ends).
func TestAttemptsLeaveNothingBehind(t *testing.T) {
	desc := rpctest.Descriptors(t)
	addr := rpctest.Serve(t, desc, users)
	c, err := rpc.NewClient(framework.Target{Name: "prod", URL: "grpc://" + addr, Timeout: 5 * time.Second}, "", desc, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parent := doneOnly{Context: context.Background(), done: make(chan struct{})}
	defer close(parent.done)
	ex := framework.Exchange{Request: *call("acme.users.v1.UserService/GetUser", `{"id":"7"}`)}
	if err := desc.Prepare(&ex); err != nil {
		t.Fatal(err)
	}
	if resp := c.Do(parent, &ex.Request); resp.Err != nil {
		t.Fatal(resp.Err) // the connection is up
	}
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	const calls = 200
	for range calls {
		if resp := c.Do(parent, &ex.Request); resp.Err != nil {
			t.Fatal(resp.Err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+calls/4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+calls/4 {
		t.Fatalf("%d goroutines before %d calls, %d after: each call left its context attached to the parent", before, calls, after)
	}
}
