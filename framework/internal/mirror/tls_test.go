package mirror

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// TestHTTPSTargetsUseTheSpecsTLS serves HTTPS with a certificate the
// system does not trust and checks that an https:// target verifies it
// against the spec's tls.ca (relative to the spec directory) and serverName,
// and accepts any certificate only when told insecureSkipVerify: the tls
// block was read for grpcs:// targets only, so an https:// target with its
// own CA failed every request.
func TestHTTPSTargetsUseTheSpecsTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "not-a-ca.pem"), []byte("machine example.com password x\n"), 0o600)
	cases := []struct {
		reason string
		tls    framework.TLS
		ok     bool
		kind   string // the failure's kind when not ok
	}{
		{"the spec's CA, relative to the spec directory", framework.TLS{CA: "ca.pem"}, true, ""},
		{"the spec's CA and a name the certificate holds", framework.TLS{CA: "ca.pem", ServerName: "example.com"}, true, ""},
		{"the certificate is not valid for the name", framework.TLS{CA: "ca.pem", ServerName: "users-v2.internal"}, false, "tls"},
		{"the system's CAs do not know the test CA", framework.TLS{}, false, "tls"},
		{"insecureSkipVerify, only when said", framework.TLS{InsecureSkipVerify: true}, true, ""},
		{"a CA file that holds no certificate", framework.TLS{CA: "not-a-ca.pem"}, false, "tls"},
	}
	for _, tc := range cases {
		tg := framework.Target{Name: "shadow", URL: srv.URL, Timeout: 30 * time.Second, TLS: tc.tls}
		resp := NewClient(tg, dir, 1, 0).Do(context.Background(), &framework.Request{Method: "GET", URL: "/"})
		if tc.ok && (resp.Err != nil || string(resp.Body) != "ok") {
			t.Errorf("%s: got %v %q, want the answer", tc.reason, resp.Err, resp.Body)
		}
		if !tc.ok && (resp.Err == nil || resp.ErrKind != tc.kind) {
			t.Errorf("%s: got kind %q (%v), want a %s failure", tc.reason, resp.ErrKind, resp.Err, tc.kind)
		}
		if tc.tls.CA == "not-a-ca.pem" && (resp.Err == nil || !strings.Contains(resp.Err.Error(), "tls.ca") || strings.Contains(resp.Err.Error(), "password")) {
			t.Errorf("%s: err %v, want one naming tls.ca without the file's content", tc.reason, resp.Err)
		}
	}
}
