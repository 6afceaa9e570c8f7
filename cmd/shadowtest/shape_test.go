package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoService is a loopback service of three endpoints, each answering
// with a random requestId (a UUID) and the current time (RFC 3339):
//
//   - /echo/{id} also echoes the client's address, "origin": "127.0.0.1:40224",
//     whose port changes only when a request comes on a new connection; the
//     shadow drops the port ("127.0.0.1"), a real API change;
//   - /stamp/{id} has nothing else: its differences are all noise;
//   - /broken/{id}: the shadow returns "req-ID" instead of a UUID for one
//     id in three;
//   - /page/{id} is the same as HTML (text, not JSON): the shadow writes
//     "ID" instead of "id" in the fixed text for one id in five.
func echoService(shadow bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, idText, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		id, err := strconv.Atoi(idText)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		b := make([]byte, 16)
		rand.Read(b)
		b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
		body := map[string]any{
			"id":        id,
			"requestId": fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]),
			"at":        time.Now().UTC().Format(time.RFC3339Nano),
		}
		switch kind {
		case "echo":
			body["origin"] = r.RemoteAddr
			if shadow {
				body["origin"], _, _ = net.SplitHostPort(r.RemoteAddr)
			}
		case "stamp":
		case "page":
			label := "id"
			if shadow && id%5 == 0 {
				label = "ID"
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><body>\n<p>%s %d</p>\n<p>request %s at %s</p>\n</body></html>\n", label, id, body["requestId"], body["at"])
			return
		case "broken":
			if shadow && id%3 == 0 {
				body["requestId"] = "req-" + idText
			}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	})
}

// shapeSpec writes a spec with no ignore, tolerance or shape rule at all,
// only a noise probe, and n requests per endpoint.
func shapeSpec(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var traffic strings.Builder
	for i := range n {
		for _, kind := range []string{"echo", "stamp", "broken", "page"} {
			fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/%s/%d"}}`+"\n", kind, i)
		}
	}
	spec := `package shadow

traffic: [{jsonl: "traffic.jsonl"}]
mirror: concurrency: 4
defaults: {
	noise: probe: 1
	thresholds: {matchRate: 0.99, minSamples: 10}
}
endpoints: echo: path:   "/echo/{id}"
endpoints: stamp: path:  "/stamp/{id}"
endpoints: broken: path: "/broken/{id}"
endpoints: page: path:   "/page/{id}"
`
	for name, data := range map[string]string{"traffic.jsonl": traffic.String(), "shadow.cue": spec} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// categoryLine matches a category line of a failure message: "  shape
// $.origin: 30 pairs, e.g. ...". The example's values are random.
var categoryLine = regexp.MustCompile(`(?m)^\s+(\S+ \S+): (\d+) pairs`)

// TestShapeVerdictsAreStable is the end-to-end case: prod echoes
// the client's host:port, which changes only with the connection, and the
// shadow drops the port. The same run, repeated ten times, gives the same
// JUnit verdicts, and reports the change as "shape $.origin" every time;
// the UUID and the timestamp are learned as noise with zero rules, and a
// shadow that returns a non-UUID requestId is caught. In an HTML page, the
// varying tokens are learned the same way and a change in the fixed text
// still counts: the whole body is never noise.
func TestShapeVerdictsAreStable(t *testing.T) {
	prod := httptest.NewServer(echoService(false))
	defer prod.Close()
	shadow := httptest.NewServer(echoService(true))
	defer shadow.Close()
	const n = 30
	dir := shapeSpec(t, n)
	want := map[string]string{
		"shadowtest.echo/echo: match rate >= 0.99 (min 10 pairs)":     "failed shape $.origin: 30",
		"shadowtest.stamp/stamp: match rate >= 0.99 (min 10 pairs)":   "passed",
		"shadowtest.broken/broken: match rate >= 0.99 (min 10 pairs)": "failed shape $.requestId: 10",
		"shadowtest.page/page: match rate >= 0.99 (min 10 pairs)":     "failed value body:2:4: 6",
		"shadowtest.run/run: replays all traffic":                     "passed",
	}
	var first map[string]string
	for run := range 10 {
		junit := filepath.Join(t.TempDir(), "junit.xml")
		r := shadowtest(t, "run", dir, "-t", "prod="+prod.URL, "-t", "shadow="+shadow.URL, "--junit", junit, "--quiet")
		if r.code != 1 {
			t.Fatalf("run %d: exit %d, want 1 (the origin lost its port)\n%s\n%s", run, r.code, r.stdout, r.stderr)
		}
		verdicts := map[string]string{}
		for name, c := range readJUnit(t, junit).cases() {
			switch {
			case c.Failure != nil:
				var cats []string
				for _, m := range categoryLine.FindAllStringSubmatch(c.Failure.Data, -1) {
					cats = append(cats, m[1]+": "+m[2])
				}
				slices.Sort(cats)
				verdicts[name] = strings.TrimSpace("failed " + strings.Join(cats, ", "))
			case c.Error != nil:
				verdicts[name] = "error"
			case c.Skipped != nil:
				verdicts[name] = "skipped"
			default:
				verdicts[name] = "passed"
			}
		}
		for name, state := range want {
			if verdicts[name] != state {
				t.Errorf("run %d: %s: %q, want %q", run, name, verdicts[name], state)
			}
		}
		if first == nil {
			first = verdicts
		} else if fmt.Sprint(verdicts) != fmt.Sprint(first) {
			t.Fatalf("run %d: verdicts differ from run 0:\n%v\n%v", run, verdicts, first)
		}
		for _, line := range []string{
			"stamp $.requestId: noise, shape uuid",
			"stamp $.at: noise, shape rfc3339",
			"echo $.requestId: noise, shape uuid",
			"broken $.requestId: noise, shape uuid",
			"page body:3:6: noise, shape uuid",
			"page body:3:10: noise, shape rfc3339",
		} {
			if !strings.Contains(r.stdout, line) {
				t.Errorf("run %d: stdout lacks %q:\n%s", run, line, r.stdout)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}
