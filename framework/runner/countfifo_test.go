package runner

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework"
)

// TestCountRefusesFIFO: counting a traffic path that is a FIFO (outside
// the spec directory) returns the reader's refusal at once; it used to
// open the FIFO and wait for a writer, and the run waited with it.
func TestCountRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "traffic.jsonl")
	testenv.MakeFIFO(t, fifo)
	plan := &framework.Plan{Dir: t.TempDir(), Traffic: []framework.TrafficSource{{Format: "jsonl", Path: fifo}}}
	done := make(chan error, 1)
	go func() { _, err := Count(context.Background(), plan); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a FIFO was counted as traffic")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Count still waiting on the FIFO after 20s")
	}
}
