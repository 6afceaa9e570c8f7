package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework/disclog"
)

// TestEveryExampleIsItsOwnPair: a runner worker reads pair after pair
// into the same body memory (mirror.Sender), so anything an output keeps
// from a body must be a copy. One worker replays requests whose answers
// all differ (distinct ids, lengths crossing the read buffer's size, JSON
// and text), and every example in the log, results, JUnit and HTML must
// show its own request's bytes, never a later pair's.
func TestEveryExampleIsItsOwnPair(t *testing.T) {
	const n = 80
	size := func(i int) int { return []int{10, 40000, 300, 70000, 5, 33000}[i%6] + i }
	answer := func(side string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := strconv.Atoi(r.URL.Query().Get("id"))
			pad := strings.Repeat(fmt.Sprintf("%c", 'a'+id%26), size(id))
			if strings.HasPrefix(r.URL.Path, "/text") {
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprintf(w, "head\n%s%d says %s %d\n%s\n", side, id, side, id, pad)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if id%2 == 0 { // unknown length: read by growing
				w.(http.Flusher).Flush()
			}
			fmt.Fprintf(w, `{"id":%d,"v%d":"%s%d","pad":"%s","only%s%d":1}`, id, id, side, id, pad, side, id)
		}))
	}
	prod, shadow := answer("P"), answer("S")
	defer prod.Close()
	defer shadow.Close()

	dir := t.TempDir()
	var traffic strings.Builder
	for i := 1; i <= n; i++ {
		path := "/json"
		if i%3 == 0 {
			path = "/text"
		}
		fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"%s?id=%d"}}`+"\n", path, i)
	}
	os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(traffic.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow

targets: {prod: url: "`+prod.URL+`", shadow: url: "`+shadow.URL+`"}
traffic: [{jsonl: "traffic.jsonl"}]
mirror: {concurrency: 1, maxBodyBytes: 1048576}
report: examples: 1000
defaults: thresholds: {matchRate: 0.99, minSamples: 1}
endpoints: {
	json: {method: "GET", path: "/json"}
	text: {method: "GET", path: "/text"}
}
`), 0o644)
	code, outputs := runOutputs(t, dir, nil, "run", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, outputs["stdout"], outputs["stderr"])
	}

	// The log: every pair line's request, bodies and diffs name one id.
	ids := regexp.MustCompile(`([PS])(\d+)`)
	own := func(where string, id int, texts ...string) {
		for _, text := range texts {
			for _, m := range ids.FindAllStringSubmatch(text, -1) {
				if m[2] != strconv.Itoa(id) {
					t.Errorf("%s of request id=%d shows %s%s: another pair's bytes: %.200q", where, id, m[1], m[2], text)
					return
				}
			}
		}
	}
	examples := 0
	sc := bufio.NewScanner(bytes.NewReader(outputs["log"]))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e disclog.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != disclog.TypePair {
			continue
		}
		line, _ := strconv.Atoi(e.Origin[strings.LastIndex(e.Origin, " ")+1:])
		for _, d := range e.Diffs {
			own("log diff "+d.Path, line, d.Path, d.Prod, d.Shadow, d.Excerpt)
		}
		if e.Example {
			examples++
			if !strings.HasSuffix(e.Request.URL, "id="+strconv.Itoa(line)) {
				t.Errorf("log example from line %d shows request %s", line, e.Request.URL)
			}
			for _, r := range []*disclog.Response{e.Prod, e.Shadow} {
				if r.Body == nil {
					t.Fatalf("log example %d without a body", line)
				}
				own("log body", line, r.Body.Text)
			}
		}
	}
	if examples != n {
		t.Errorf("%d examples in the log, want %d", examples, n)
	}

	// Results, JUnit and HTML: each category's example diff names one id,
	// the id of its origin's line.
	var results struct {
		Endpoints []struct {
			Categories map[string]struct {
				Example struct{ Path, Prod, Shadow string }
				Origin  string
			}
		}
	}
	if err := json.Unmarshal(outputs["results"], &results); err != nil {
		t.Fatalf("results: %v", err)
	}
	if len(results.Endpoints) == 0 || len(results.Endpoints[0].Categories) == 0 {
		t.Fatalf("results without categories")
	}
	for _, e := range results.Endpoints {
		for _, c := range e.Categories {
			line, _ := strconv.Atoi(c.Origin[strings.LastIndex(c.Origin, " ")+1:])
			own("results example", line, c.Example.Path, c.Example.Prod, c.Example.Shadow)
		}
	}
	for _, name := range []string{"junit", "html"} {
		found := regexp.MustCompile(`\$\.v(\d+)[^PS]{0,120}[PS](\d+)`).FindAllSubmatch(outputs[name], -1)
		if len(found) == 0 {
			t.Errorf("%s shows no difference at $.vN", name)
		}
		for _, m := range found {
			if !bytes.Equal(m[1], m[2]) {
				t.Errorf("%s: the difference at $.v%s shows the value of id %s", name, m[1], m[2])
			}
		}
	}
}
