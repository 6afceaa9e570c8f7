package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestCountReadsEveryRecord(t *testing.T) {
	dir := t.TempDir()
	plan := &framework.Plan{Dir: dir, Traffic: []framework.TrafficSource{
		{Format: "jsonl", Path: writeTraffic(t, dir, 1234)},
	}}
	n, err := Count(context.Background(), plan)
	if err != nil || n != 1234 {
		t.Errorf("Count = %d, %v; want 1234", n, err)
	}
	// Blank lines are not records; a last line may lack its newline.
	os.WriteFile(filepath.Join(dir, "odd.jsonl"), []byte("{\"a\":1}\n\n  \r\n{\"a\":2}\n{\"a\":3}"), 0o644)
	odd := &framework.Plan{Dir: dir, Traffic: []framework.TrafficSource{{Format: "jsonl", Path: "odd.jsonl"}}}
	if n, err := Count(context.Background(), odd); err != nil || n != 3 {
		t.Errorf("Count with blank lines = %d, %v; want 3", n, err)
	}
	har := &framework.Plan{Dir: "../../fixtures/traffic", Traffic: []framework.TrafficSource{{Format: "har", Path: "demo.har"}}}
	if n, err := Count(context.Background(), har); err != nil || n != 300 {
		t.Errorf("Count of the demo HAR = %d, %v; want its 300 entries, read record by record", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Count(ctx, plan); err == nil {
		t.Error("a cancelled count did not stop")
	}
}

func BenchmarkCount(b *testing.B) {
	path := os.Getenv("COUNT_FILE")
	if path == "" {
		b.Skip("COUNT_FILE not set")
	}
	plan := &framework.Plan{Traffic: []framework.TrafficSource{{Format: "jsonl", Path: path}}}
	for b.Loop() {
		if _, err := Count(context.Background(), plan); err != nil {
			b.Fatal(err)
		}
	}
}
