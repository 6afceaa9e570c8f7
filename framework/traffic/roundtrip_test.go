package traffic

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestHARToJSONL converts valid.har to JSONL, compares the result with a
// golden file, and reads it back: the exchanges must be equal.
func TestHARToJSONL(t *testing.T) {
	f, err := os.Open("testdata/valid.har")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var jsonl bytes.Buffer
	var fromHAR []framework.Exchange
	for _, r := range readAll(t, NewHARReader(f, "valid.har"), 100) {
		if r.err != nil {
			t.Fatal(r.err)
		}
		fromHAR = append(fromHAR, r.exchange)
		if err := WriteJSONL(&jsonl, r.exchange); err != nil {
			t.Fatal(err)
		}
	}
	const golden = "testdata/valid.har.golden.jsonl"
	if *update {
		if err := os.WriteFile(golden, jsonl.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jsonl.Bytes(), want) {
		t.Errorf("JSONL differs from %s (run with -update to accept):\n%s", golden, jsonl.Bytes())
	}
	checkRoundTrip(t, fromHAR, jsonl.Bytes())
}

// TestJSONLRoundTrip writes generated exchanges, with random headers,
// text and binary bodies, zones and optional responses, and reads them
// back.
func TestJSONLRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var jsonl bytes.Buffer
	var want []framework.Exchange
	for range 500 {
		ex := randomExchange(rng)
		if err := WriteJSONL(&jsonl, ex); err != nil {
			t.Fatal(err)
		}
		ex.Request.Host = requestHost(ex.Request.Header, "")
		ex.Request.Header = cleanRequestHeader(ex.Request.Header)
		want = append(want, ex)
	}
	checkRoundTrip(t, want, jsonl.Bytes())
}

func checkRoundTrip(t *testing.T, want []framework.Exchange, jsonl []byte) {
	t.Helper()
	got := readAll(t, NewJSONLReader(bytes.NewReader(jsonl), "t.jsonl"), len(want)+1)
	if len(got) != len(want) {
		t.Fatalf("read back %d exchanges, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.err != nil {
			t.Fatalf("line %d: %v", i+1, r.err)
		}
		if diff := sameExchange(r.exchange, want[i]); diff != "" {
			t.Errorf("line %d: %s", i+1, diff)
		}
	}
}

func TestWriteJSONLRejects(t *testing.T) {
	tests := []struct {
		ex     framework.Exchange
		want   string
		reason string
	}{
		{framework.Exchange{Origin: "a.har: entry 1", Request: framework.Request{URL: "/"}},
			"write JSONL a.har: entry 1: request method and URL are required", "no method"},
		{framework.Exchange{Origin: "a.har: entry 2", Request: framework.Request{Method: "GET", URL: "/"},
			Recorded: &framework.Response{Err: fmt.Errorf("refused")}},
			"write JSONL a.har: entry 2: recorded response has no HTTP status (status 0, error refused)", "a transport failure is not a recording"},
	}
	for _, tt := range tests {
		err := WriteJSONL(&bytes.Buffer{}, tt.ex)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.reason, err, tt.want)
		}
	}
}

func randomExchange(rng *rand.Rand) framework.Exchange {
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "PROPFIND"}
	ex := framework.Exchange{Request: framework.Request{
		Method: methods[rng.IntN(len(methods))],
		URL:    "/" + randomString(rng, "abc/%20-_.~é", 12),
		Header: randomHeader(rng),
		Body:   randomBody(rng),
	}}
	if rng.IntN(2) == 0 {
		ex.Request.URL += "?" + randomString(rng, "ab=&%2F+", 8)
	}
	if rng.IntN(3) > 0 {
		zone := time.FixedZone("", (rng.IntN(48)-24)*1800)
		ex.Time = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zone)
	}
	if rng.IntN(3) > 0 {
		ex.Recorded = &framework.Response{Status: 100 + rng.IntN(500), Header: randomHeader(rng), Body: randomBody(rng)}
	}
	return ex
}

func randomHeader(rng *rand.Rand) http.Header {
	names := []string{"Accept", "X-Trace-Id", "content-type", "Host", "Connection", "x_odd.name!"}
	h := http.Header{}
	for range rng.IntN(5) {
		h.Add(names[rng.IntN(len(names))], randomString(rng, "ab ;=,\"\t\\ü", 10))
	}
	return nilIfEmpty(h)
}

func randomBody(rng *rand.Rand) []byte {
	switch rng.IntN(3) {
	case 0:
		return nil
	case 1:
		return nonEmpty([]byte(randomString(rng, "{}\":, abc\n\t<>&\u2028😀\x00", 40)))
	}
	b := make([]byte, 1+rng.IntN(40))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

func randomString(rng *rand.Rand, alphabet string, maxLen int) string {
	runes := []rune(alphabet)
	var b strings.Builder
	for range rng.IntN(maxLen + 1) {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}
