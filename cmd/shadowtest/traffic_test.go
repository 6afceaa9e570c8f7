package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/runner"
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
	if code != exitInvalid || !strings.Contains(stderr, "bad.jsonl: line 2 (byte 41): request.method: missing") {
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

func TestFeedFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(*framework.Plan, runner.FeedOptions) bool
		reason  string
	}{
		{[]string{"--shard", "2/4", "--mode", "replay", "--speed", "0"}, "", func(p *framework.Plan, o runner.FeedOptions) bool {
			return o.Shard == runner.Shard{Index: 2, Count: 4} && p.Mirror.Mode == "replay" && p.Mirror.Speed == 0
		}, "flags override the spec"},
		{[]string{"--mode", "sampled", "--rate", "0.1"}, "", func(p *framework.Plan, o runner.FeedOptions) bool {
			return p.Mirror.Mode == "sampled" && p.Mirror.Rate == 0.1 && p.Mirror.Speed == 1
		}, "without --speed the spec's speed stays"},
		{[]string{"--shard", "5/4"}, "--shard", nil, "a shard out of range"},
		{[]string{"--mode", "all"}, "--mode", nil, "an unknown mode"},
		{[]string{"--speed", "-1"}, "--speed", nil, "a negative speed"},
		{[]string{"--rate", "2"}, "--rate", nil, "a rate above 1"},
		{[]string{"--mode", "selective"}, "names no endpoints", nil, "selective needs the spec's endpoints"},
		{[]string{"--rate", "0.1"}, "--rate 0.1 applies to the sampled mode, and the mode is full: add --mode sampled", nil,
			"a rate in the full mode was ignored: every request sent where the job asked for a tenth"},
		{[]string{"--mode", "replay", "--rate", "0.5"}, "the mode is replay", nil, "nor does the replay mode sample"},
		{[]string{"--mode", "sampled"}, "--mode sampled needs a rate", nil, "the flag sampled everything where the spec form is refused"},
		// A job passing --rate "${RATE:-1}" to every spec was refused on a
		// full-mode one (redteam9): a rate of 1 is what full sends.
		{[]string{"--rate", "1"}, "", func(p *framework.Plan, o runner.FeedOptions) bool { return p.Mirror.Mode == "full" }, "--rate 1 in the full mode"},
	}
	for _, tt := range tests {
		fs := newFlagSet("run", "", "", io.Discard, io.Discard)
		var o feedOptions
		o.register(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		plan := &framework.Plan{Mirror: framework.Mirror{Mode: "full", Rate: 1, Speed: 1}}
		opt, err := o.apply(plan, io.Discard)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got %v, want an error about %s", tt.reason, err, tt.wantErr)
			}
		case err != nil || !tt.check(plan, opt):
			t.Errorf("%s: err %v, mirror %+v, feed %+v", tt.reason, err, plan.Mirror, opt)
		}
	}
}
