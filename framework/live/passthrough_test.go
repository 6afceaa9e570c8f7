package live

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProxyPassesProdBytesExactly: what prod sends is what the client
// gets, for the answers a proxy most easily alters.
func TestProxyPassesProdBytesExactly(t *testing.T) {
	for _, c := range ProdClients {
		t.Run(strings.ReplaceAll(c, "/", "-"), func(t *testing.T) { testProxyPassesProdBytesExactly(t, c) })
	}
}

func testProxyPassesProdBytesExactly(t *testing.T, prodClient string) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"path":"/items/gz","name":"widget"}`)
	zw.Close()
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/items/trailer":
			w.Header().Set("Trailer", "X-Checksum")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"a":1}`)
			w.(http.Flusher).Flush()
			w.Header().Set("X-Checksum", "abc123")
		case "/items/gz":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		case "/items/nocontent":
			w.Header()["X-Multi"] = []string{"one", "two"}
			w.WriteHeader(http.StatusNoContent)
		case "/items/notmodified":
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		case "/items/head":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "12345")
			if r.Method != http.MethodHead {
				w.Write(bytes.Repeat([]byte("x"), 12345))
			}
		}
	})
	shadow := serve(t, item("12.5"))
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{ProdClient: prodClient})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	do := func(method, path string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, front.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp, body
	}
	resp, body := do("GET", "/items/trailer")
	if string(body) != `{"a":1}` || resp.Trailer.Get("X-Checksum") != "abc123" {
		t.Errorf("trailer: body %q, trailer %v", body, resp.Trailer)
	}
	resp, body = do("GET", "/items/gz")
	if !bytes.Equal(body, gz.Bytes()) || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("gzip: prod's encoded bytes altered: %q %v", body, resp.Header)
	}
	resp, _ = do("GET", "/items/nocontent")
	if resp.StatusCode != 204 || strings.Join(resp.Header["X-Multi"], ",") != "one,two" {
		t.Errorf("204: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do("GET", "/items/notmodified")
	if resp.StatusCode != 304 || resp.Header.Get("ETag") != `"v1"` {
		t.Errorf("304: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = do("HEAD", "/items/head")
	if resp.StatusCode != 200 || resp.ContentLength != 12345 || len(body) != 0 {
		t.Errorf("HEAD: %d, length %d, body %d bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
}

// TestUnmatchedPathSecretsStayOutOfMetrics: an unmatched request whose
// path carries a credential (a password-reset token, a JWT, an API key)
// is counted under a label that does not show it.
func TestUnmatchedPathSecretsStayOutOfMetrics(t *testing.T) {
	prod := serve(t, item("12.5"))
	shadow := serve(t, item("12.5"))
	s, front := session(t, testPlan(prod.URL, shadow.URL), Options{})
	secrets := []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
		"Zx8vQm2KpL9nR4tW7yB1cD5fG3hJ6kM0",
	}
	for _, secret := range secrets {
		resp, err := http.Get(front.URL + "/reset/" + secret + "?api_key=" + secret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	admin := httptest.NewServer(Admin(s, ""))
	defer admin.Close()
	resp, err := http.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, secret := range secrets {
		if bytes.Contains(metrics, []byte(secret[:16])) {
			t.Errorf("/metrics shows a secret from an unmatched path: %s", grepLine(metrics, secret[:16]))
		}
	}
}

func grepLine(b []byte, s string) string {
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
