package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jsonShop is a small JSON service as two versions would run it: the same
// answers, but prod says Content-Type "application/json" and the shadow
// "application/json; charset=utf-8" (the same meaning), and both build
// absolute links from the Host they are asked with and echo it.
func jsonShop(contentType string) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		reply(w, 200, map[string]any{"id": id, "name": "item " + id, "self": "http://" + r.Host + "/items/" + id})
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"items": []string{"1", "2"}, "next": "http://" + r.Host + "/items?page=2"})
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"host": r.Host})
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 201, map[string]any{"id": "3"})
	})
	mux.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	})
	return mux
}

// TestStarterSpecsPassOnJSONService is a new user's first day: record
// traffic of a JSON service (reads and writes, with the Host it was
// served under), `init --from` it, and `run` the starter specs unedited
// against two versions that differ only in how they spell the JSON
// Content-Type. The run passes; the write endpoints, which the starter's
// writes: "skip" does not send, are skipped with the count, not failed.
func TestStarterSpecsPassOnJSONService(t *testing.T) {
	prod := httptest.NewServer(jsonShop("application/json"))
	defer prod.Close()
	shadow := httptest.NewServer(jsonShop("application/json; charset=utf-8"))
	defer shadow.Close()

	dir := t.TempDir()
	recording := filepath.Join(dir, "shop.jsonl")
	var lines strings.Builder
	record := func(method, url, body string) {
		req := map[string]any{"method": method, "url": url, "headers": map[string][]string{"Host": {"shop.example.com"}, "Accept": {"application/json"}}}
		if body != "" {
			req["body"] = body
		}
		line, _ := json.Marshal(map[string]any{"request": req})
		lines.Write(append(line, '\n'))
	}
	for i := range 5 {
		record("GET", fmt.Sprintf("/items/%d", i+1), "")
		record("GET", "/items", "")
		record("GET", "/whoami", "")
		record("POST", "/items", `{"name":"new"}`)
	}
	record("DELETE", "/items/2", "")
	record("DELETE", "/items/3", "")
	if err := os.WriteFile(recording, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	specs := filepath.Join(dir, "specs")
	if r := shadowtest(t, "init", "--from", recording, specs); r.code != 0 {
		t.Fatalf("init exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	junit := filepath.Join(dir, "junit.xml")
	r := shadowtest(t, "run", specs, "-t", "prod="+prod.URL, "-t", "shadow="+shadow.URL, "--junit", junit)
	if r.code != 0 {
		t.Fatalf("run of the unedited starter specs: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	readJUnit(t, junit) // valid against the JUnit schema
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(data, &parsed); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // endpoint → "" (passed) or the skip message
		"get-items-id":    "",
		"get-items":       "",
		"get-whoami":      "",
		"post-items":      "skipped: 5 requests not sent under writes: skip",
		"delete-items-id": "skipped: 2 requests not sent under writes: skip",
	}
	seen := map[string]bool{}
	for _, c := range parsed.Cases {
		endpoint := strings.TrimPrefix(c.Classname, "shadowtest.")
		skip, ok := want[endpoint]
		if !ok {
			continue
		}
		seen[endpoint] = true
		switch {
		case c.Failure != nil:
			t.Errorf("%s failed: %s", c.Name, c.Failure.Message)
		case skip == "" && c.Skipped != nil:
			t.Errorf("%s skipped (%s), want passed", c.Name, c.Skipped.Message)
		case skip != "" && (c.Skipped == nil || c.Skipped.Message != skip):
			t.Errorf("%s: skipped %+v, want %q", c.Name, c.Skipped, skip)
		}
	}
	for endpoint := range want {
		if !seen[endpoint] {
			t.Errorf("no test case for %s in the JUnit:\n%s", endpoint, data)
		}
	}
	if !strings.Contains(r.stdout, "post-items: 3 threshold(s) skipped: 5 requests not sent under writes: skip") {
		t.Errorf("the summary does not say why post-items was skipped:\n%s", r.stdout)
	}
}
