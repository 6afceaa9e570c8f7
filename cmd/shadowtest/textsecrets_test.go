package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestTextAndTupleSecretsNeverPrinted: secrets under innocent names, in
// a header list written as tuples ([["Authorization","Bearer ..."]]) and
// in plain-text bodies (token=..., Authorization: Bearer ...), differ in
// every pair; only the first pair is an example with its bodies, the
// others' differences are written with their values alone. No output (the
// JUnit, the results, the log, the HTML report, stdout and stderr) shows
// one. Before, they were masked only when learned somewhere else.
func TestTextAndTupleSecretsNeverPrinted(t *testing.T) {
	s := secrets{}
	var mu sync.Mutex
	server := func(side string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			first, second := s.new(side+" "+r.URL.Path+" first"), s.new(side+" "+r.URL.Path+" second")
			mu.Unlock()
			if strings.HasPrefix(r.URL.Path, "/tuple/") {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"headers":[["Accept","*/*"],["Authorization","Bearer %s"],["X-Api-Key",%q]],"side":%q}`, first, second, side)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "side=%s\nlevel=info access_token=%s user=bob\nAuthorization: Bearer %s\n", side, first, second)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	prod, shadow := server("prod"), server("shadow")
	dir := t.TempDir()
	var jsonl strings.Builder
	for i := range 4 {
		fmt.Fprintf(&jsonl, `{"request":{"method":"GET","url":"/tuple/%d"}}`+"\n", i)
		fmt.Fprintf(&jsonl, `{"request":{"method":"GET","url":"/text/%d"}}`+"\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(jsonl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `package shadow

targets: {prod: url: "` + prod.URL + `", shadow: url: "` + shadow.URL + `"}
traffic: [{jsonl: "traffic.jsonl"}]
defaults: thresholds: {matchRate: 0.99, minSamples: 1}
endpoints: {
	tuple: {method: "GET", path: "/tuple/{id}"}
	text: {method: "GET", path: "/text/{id}"}
}
report: examples: 1
`
	if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the targets differ)\nstdout:\n%s\nstderr:\n%s", code, outputs["stdout"], outputs["stderr"])
	}
	for _, want := range []string{`$.headers[1][1]`, `$.headers[2][1]`, `side=prod`} {
		if !bytes.Contains(outputs["log"], []byte(want)) {
			t.Errorf("the log should show %s:\n%.3000s", want, outputs["log"])
		}
	}
	assertNoSecret(t, outputs, s)
}
