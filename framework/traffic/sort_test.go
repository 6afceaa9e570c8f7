package traffic

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// shuffledHAR returns a HAR document of n entries whose startedDateTime
// are out of order, with many equal times, and the URLs in the order a
// stable sort by time must yield.
func shuffledHAR(n int, seed uint64) (string, []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	type entry struct {
		second int
		url    string
	}
	entries := make([]entry, n)
	var parts []string
	for i := range entries {
		entries[i] = entry{second: rng.IntN(n/4 + 1), url: fmt.Sprintf("/items/%d", i)}
		when := base.Add(time.Duration(entries[i].second) * time.Second).Format(time.RFC3339)
		parts = append(parts, fmt.Sprintf(`{"startedDateTime":%q,"request":{"method":"GET","url":"http://h%s","headers":[]},"response":{"status":200,"headers":[],"content":{"text":"body %d"}}}`, when, entries[i].url, i))
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.second - b.second })
	want := make([]string, n)
	for i, e := range entries {
		want[i] = e.url
	}
	return harOf(parts...), want
}

func TestSortStableByTime(t *testing.T) {
	doc, want := shuffledHAR(1000, 7)
	tests := []struct {
		opt    SortOptions
		reason string
	}{
		{SortOptions{}, "the whole file fits in one run: sorted in memory"},
		{SortOptions{RunRecords: 64, TempDir: t.TempDir()}, "16 runs spilled to disk and merged"},
		{SortOptions{RunRecords: 999, TempDir: t.TempDir()}, "one full run spilled, one in memory"},
		{SortOptions{RunBytes: 1, TempDir: t.TempDir()}, "the byte budget spills every exchange"},
	}
	for _, tt := range tests {
		r := Sort(NewHARReader(strings.NewReader(doc), "s.har"), tt.opt)
		var got []string
		for {
			ex, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.reason, err)
			}
			if ex.Recorded == nil || !strings.HasPrefix(string(ex.Recorded.Body), "body ") {
				t.Fatalf("%s: recorded response lost: %+v", tt.reason, ex.Recorded)
			}
			got = append(got, ex.Request.URL)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", tt.reason, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: order differs from a stable sort by startedDateTime", tt.reason)
		}
		if tt.opt.TempDir != "" {
			if left, _ := os.ReadDir(tt.opt.TempDir); len(left) != 0 {
				t.Errorf("%s: %d temporary files left behind", tt.reason, len(left))
			}
		}
	}
}

func TestSortPassesRecordErrorsOn(t *testing.T) {
	doc := harOf(
		`{"startedDateTime":"2026-11-25T10:00:02Z","request":{"method":"GET","url":"http://h/b"}}`,
		`{"startedDateTime":"2026-11-25T10:00:01Z","request":{"url":"http://h/bad"}}`,
		`{"startedDateTime":"2026-11-25T10:00:00Z","request":{"method":"GET","url":"http://h/a"}}`,
	)
	got := readAll(t, Sort(NewHARReader(strings.NewReader(doc), "e.har"), SortOptions{}), 10)
	want := []result{
		fails("e.har: entry 2: request.method: missing"),
		ok(exchange("e.har: entry 3", "2026-11-25T10:00:00Z", "GET", "/a", nil, "", nil)),
		ok(exchange("e.har: entry 1", "2026-11-25T10:00:02Z", "GET", "/b", nil, "", nil)),
	}
	checkResults(t, got, want)
}

func TestOpenSortsHAROnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	doc, want := shuffledHAR(50, 3)
	os.WriteFile(dir+"/s.har", []byte(doc), 0o644)
	src := framework.TrafficSource{Format: "har", Path: "s.har"}
	for _, tt := range []struct {
		open   func(framework.TrafficSource, string) (Reader, error)
		sorted bool
	}{{Open, true}, {OpenInFileOrder, false}} {
		r, err := tt.open(src, dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			ex, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ex.Request.URL)
		}
		r.Close()
		if slices.Equal(got, want) != tt.sorted {
			t.Errorf("sorted=%v: got %v", tt.sorted, got[:5])
		}
	}
}
