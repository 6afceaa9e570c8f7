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

// TestTags checks that -t works as in `cue export -t`: a key=value tag sets
// the fields declared with @tag(key), a bare tag selects @if files, and an
// undeclared tag is an error; prod= and shadow= still set the urls.
func TestTags(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"t.jsonl": "",
		"spec.cue": `package shadow

_env: *"dev" | "staging" | "prod" @tag(env)
_port: *8082 | int @tag(port,type=int)

traffic: [{jsonl: "t.jsonl"}]
targets: {
	prod: url: *"http://127.0.0.1:8081" | string @tag(prod)
	shadow: {
		url: "http://127.0.0.1:\(_port)"
		headers: "X-Env": _env
	}
}
endpoints: a: path: "/a"
`,
		"canary.cue": `@if(canary)

package shadow

endpoints: canary: path: "/canary"
`,
	})
	for _, tc := range []struct {
		reason    string
		tags      []string
		env       string
		shadow    string
		prod      string
		endpoints int
		err       string
	}{
		{reason: "no tags: the defaults", env: "dev", shadow: "http://127.0.0.1:8082", prod: "http://127.0.0.1:8081", endpoints: 1},
		{reason: "a string and a typed tag", tags: []string{"env=staging", "port=9000"}, env: "staging", shadow: "http://127.0.0.1:9000", prod: "http://127.0.0.1:8081", endpoints: 1},
		{reason: "a bare tag selects the @if file", tags: []string{"canary"}, env: "dev", shadow: "http://127.0.0.1:8082", prod: "http://127.0.0.1:8081", endpoints: 2},
		{reason: "prod= is a tag here and a target override", tags: []string{"prod=http://10.0.0.1:80"}, env: "dev", shadow: "http://127.0.0.1:8082", prod: "http://10.0.0.1:80", endpoints: 1},
		{reason: "shadow= without @tag(shadow) still replaces the url", tags: []string{"shadow=http://10.0.0.2:80"}, env: "dev", shadow: "http://10.0.0.2:80", prod: "http://127.0.0.1:8081", endpoints: 1},
		{reason: "a value the field does not allow", tags: []string{"env=qa"}, err: "env"},
		{reason: "a tag no file declares", tags: []string{"region=eu"}, err: "-t region: no field of the spec declares @tag(region)"},
		{reason: "a bare tag no file uses", tags: []string{"nightly"}, err: `tag "nightly" not used in any file`},
		{reason: "an invalid target url", tags: []string{"prod=localhost"}, err: "invalid -t prod"},
	} {
		plan, err := Load(dir, Options{Tags: tc.tags})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error with %q", tc.reason, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if got := plan.Shadow.Headers["X-Env"]; got != tc.env || plan.Shadow.URL != tc.shadow || plan.Prod.URL != tc.prod || len(plan.Endpoints) != tc.endpoints {
			t.Errorf("%s: env %q shadow %q prod %q, %d endpoints; want %q %q %q, %d", tc.reason, got, plan.Shadow.URL, plan.Prod.URL, len(plan.Endpoints), tc.env, tc.shadow, tc.prod, tc.endpoints)
		}
	}
}
