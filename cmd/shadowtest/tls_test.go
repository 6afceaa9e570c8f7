package main

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunVerifiesAnHTTPSShadowWithTheSpecsCA runs against an https://
// shadow whose certificate only the spec's tls.ca trusts: the gate passes
// with every pair compared. The tls block was applied to grpcs:// targets
// only, so every request to an https:// target with a private CA failed
// with "certificate signed by unknown authority" and the gate failed.
func TestRunVerifiesAnHTTPSShadowWithTheSpecsCA(t *testing.T) {
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":7}`)
	})
	prod := httptest.NewServer(answer)
	defer prod.Close()
	shadow := httptest.NewTLSServer(answer)
	defer shadow.Close()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: shadow.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	spec := `package shadow

targets: prod: url: "` + prod.URL + `"
targets: shadow: {url: "` + shadow.URL + `", tls: ca: "ca.pem"}
traffic: [{synthetic: requests: [{url: "/items/{id}", params: id: {from: 1, to: 20}}]}]
defaults: headers: ["Content-Type"]
endpoints: item: path: "/items/{id}"
`
	if err := os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	res := shadowtest(t, "run", dir, "--junit", "none")
	if res.code != 0 || !strings.Contains(res.stdout, "item  ") || !strings.Contains(res.stdout, "20     1.0000") {
		t.Fatalf("run against an https shadow with the spec's CA: exit %d, want 0 with 20 pairs matching\n%s%s", res.code, res.stdout, res.stderr)
	}
}
