package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestTrafficConvert(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "demo.jsonl")
	code, stdout, stderr := runCLI(t, "traffic", "convert", "../../fixtures/traffic/demo.har", out)
	if code != exitPass || !strings.Contains(stdout, "300 exchanges written") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// The converted file is read by the JSONL reader: converting it again
	// gives the same bytes.
	again := filepath.Join(dir, "again.jsonl.gz")
	if code, _, stderr := runCLI(t, "traffic", "convert", out, again); code != exitPass {
		t.Fatalf("converting the JSONL again: exit %d %s", code, stderr)
	}
	back := filepath.Join(dir, "back.jsonl")
	if code, _, stderr := runCLI(t, "traffic", "convert", "--format", "jsonl", again, back); code != exitPass {
		t.Fatalf("converting the gzipped JSONL: exit %d %s", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(back)
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("HAR → JSONL → JSONL.gz → JSONL is not stable (%d and %d bytes)", len(a), len(b))
	}

	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"request\":{\"method\":\"GET\",\"url\":\"/a\"}}\n{\"request\":{\"url\":\"/b\"}}\n{\"request\":{\"method\":\"GET\",\"url\":\"/c\"}}\n"), 0o644)
	code, _, stderr = runCLI(t, "traffic", "convert", bad, filepath.Join(dir, "x.jsonl"))
	if code != exitInvalid || !strings.Contains(stderr, "bad.jsonl: line 2: request.method: missing") {
		t.Errorf("a malformed record: exit %d, %s; want 2 naming the file and line", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.jsonl")); err == nil {
		t.Error("a failed conversion left its output behind")
	}
	code, stdout, _ = runCLI(t, "traffic", "convert", "--skip-bad-records", bad, filepath.Join(dir, "x.jsonl"))
	if code != exitPass || !strings.Contains(stdout, "2 exchanges written") || !strings.Contains(stdout, "1 malformed records skipped") {
		t.Errorf("--skip-bad-records: exit %d, %s", code, stdout)
	}
}

func TestInitThenVet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "specs")
	code, stdout, stderr := runCLI(t, "init", "--from", "../../fixtures/traffic/demo.har", dir)
	if code != exitPass || !strings.Contains(stdout, "/orders/{id}") {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "vet", dir); code != exitPass || !strings.Contains(stdout, "ok (5 endpoints)") {
		t.Errorf("vet of the starter specs: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "init", "--from", "../../fixtures/traffic/demo.har", dir); code != exitInvalid || !strings.Contains(stderr, "--force") {
		t.Errorf("init over existing specs: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "init", "--from", "x.pcap", dir); code != exitInvalid || !strings.Contains(stderr, "--format") {
		t.Errorf("unknown format: exit %d %s", code, stderr)
	}
}
