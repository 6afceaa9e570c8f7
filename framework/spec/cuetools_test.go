package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFiles writes files into a new spec directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDurations checks #Duration against Go's time.ParseDuration: what Go
// accepts (".5s", "1.5h", "0") passes, what it rejects or a negative value
// does not.
func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		value  string
		want   time.Duration
		reason string
	}{
		{".5s", 500 * time.Millisecond, "a leading dot, as Go writes it"},
		{"1.5h", 90 * time.Minute, "a fraction"},
		{"1m30s", 90 * time.Second, "several units"},
		{"250us", 250 * time.Microsecond, "us"},
		{"250µs", 250 * time.Microsecond, "µs"},
		{"3 seconds", -1, "words"},
		{"-1s", -1, "negative"},
		{"5", -1, "no unit"},
		{"9999999999h", -1, "beyond time.Duration"},
	} {
		dir := writeFiles(t, map[string]string{"t.jsonl": "", "spec.cue": `package shadow
traffic: [{jsonl: "t.jsonl"}]
targets: shadow: timeout: "` + tc.value + `"
endpoints: a: path: "/a"
`})
		plan, err := Load(dir, Options{})
		switch {
		case tc.want < 0 && err == nil:
			t.Errorf("%s: timeout %q accepted as %v", tc.reason, tc.value, plan.Shadow.Timeout)
		case tc.want < 0 && !strings.Contains(err.Error(), "invalid duration"):
			t.Errorf("%s: timeout %q: %v, want an invalid duration", tc.reason, tc.value, err)
		case tc.want >= 0 && err != nil:
			t.Errorf("%s: timeout %q: %v", tc.reason, tc.value, err)
		case tc.want >= 0 && plan.Shadow.Timeout != tc.want:
			t.Errorf("%s: timeout %q = %v, want %v", tc.reason, tc.value, plan.Shadow.Timeout, tc.want)
		}
	}
}
