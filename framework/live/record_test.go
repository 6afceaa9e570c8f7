package live

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// newTestRecorder records to target with the session's redactor and
// scrubber, as the proxy command does.
func newTestRecorder(t *testing.T, target string, opt RecordOptions) (*Recorder, *scrub.Scrubber) {
	t.Helper()
	sc := scrub.New()
	red, err := redact.Build(redact.Options{Scrubber: sc})
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRecorder(target, opt, red, sc)
	if err != nil {
		t.Fatal(err)
	}
	return r, sc
}

// randomHex is n incompressible characters.
func randomHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// readRecordings reads every finished file of dir with the traffic
// package's own reader, as init --from and run do, and returns the
// exchanges in order.
func readRecordings(t *testing.T, dir string) []framework.Exchange {
	t.Helper()
	reader, err := traffic.Open(framework.TrafficSource{Format: "jsonl", Path: dir}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var out []framework.Exchange
	for {
		ex, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the recordings: %v", err)
		}
		out = append(out, ex)
	}
}

func TestRecorderRotatesBySizeWithProxiedTraffic(t *testing.T) {
	const maxSize, requests, bodySize = 16 << 10, 120, 2000
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"blob":%q}`, r.URL.Path, randomHex(bodySize)) // incompressible: the files grow
	})
	shadow := serve(t, item("1"))
	dir := filepath.Join(t.TempDir(), "rec") + "/" // does not exist yet
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxSize: maxSize})
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{Record: rec.Record})
	for i := range requests {
		get(t, fmt.Sprintf("%s/items/%d", front.URL, i))
	}
	eventually(t, "every exchange queued and written", func() bool {
		return rec.written.Load()+rec.pending.Load() == requests
	})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := RecordFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Each exchange is about 1 KB compressed: 120 KB makes several files
	// of 16 KiB.
	if len(files) < 3 {
		t.Fatalf("%d files, want the recording rotated into several of %d bytes", len(files), maxSize)
	}
	if c := rec.Counts(); c.Written != requests || c.Files != int64(len(files)) || c.Failed+c.Dropped+c.Withheld != 0 {
		t.Fatalf("counts %+v, want %d written in %d files", c, requests, len(files))
	}
	for i, f := range files {
		info, _ := os.Stat(f)
		// A file is finished before a line would take it past the size:
		// it is never larger, and short of it by less than a line.
		if info.Size() > maxSize || (i < len(files)-1 && info.Size() < maxSize-3*bodySize) {
			t.Errorf("%s: %d bytes, want about %d", filepath.Base(f), info.Size(), maxSize)
		}
		if !strings.HasPrefix(filepath.Base(f), RecordFilePrefix) {
			t.Errorf("file name %s", f)
		}
	}
	exchanges := readRecordings(t, dir)
	if len(exchanges) != requests {
		t.Fatalf("read %d exchanges back, want %d", len(exchanges), requests)
	}
	for i, ex := range exchanges { // in order across files
		if want := fmt.Sprintf("/items/%d", i); ex.Request.URL != want {
			t.Fatalf("exchange %d is %s, want %s: the files are not read in time order", i, ex.Request.URL, want)
		}
	}
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(hidden) != 1 || filepath.Base(hidden[0]) != RecordLockName {
		t.Fatalf("hidden files left: %v, want only the lock", hidden)
	}
}

func TestRecorderKeepsAtMostMaxFiles(t *testing.T) {
	dir := t.TempDir()
	// A recording of an earlier session, and a file that is not one.
	os.WriteFile(filepath.Join(dir, RecordFilePrefix+"20200101T000000.000Z-000001"+RecordFileSuffix), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me"), 0o644)
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxSize: 1024, MaxFiles: 3})
	for i := range 100 {
		rec.Record(testExchange(fmt.Sprintf("/items/%d", i), randomHex(2000)))
		if i%10 == 9 {
			eventually(t, "the queue written", func() bool { return rec.written.Load()+rec.pending.Load() == int64(i+1) })
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := RecordFiles(dir)
	if len(files) != 3 {
		t.Fatalf("%d recordings kept, want 3: %v", len(files), files)
	}
	if rec.Counts().Files < 4 {
		t.Fatalf("%d files written, want more than --record-max-files", rec.Counts().Files)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("pruning deleted a file that is not a recording")
	}
	// The newest are kept: the last exchange is in the last file.
	exchanges := readRecordings(t, dir)
	if last := exchanges[len(exchanges)-1].Request.URL; last != "/items/99" {
		t.Fatalf("the last exchange kept is %s, want /items/99", last)
	}
}

func TestRecorderClosesOldFilesWhileQuiet(t *testing.T) {
	dir := t.TempDir()
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxAge: 50 * time.Millisecond})
	defer rec.Close()
	rec.Record(testExchange("/items/1", "{}"))
	eventually(t, "the old file finished without more traffic", func() bool { return rec.Counts().Files == 1 })
	if got := readRecordings(t, dir); len(got) != 1 {
		t.Fatalf("%d exchanges", len(got))
	}
}

func testExchange(path, body string) *framework.Exchange {
	return &framework.Exchange{
		Time:     time.Now(),
		Request:  framework.Request{Method: "GET", URL: path, Header: http.Header{"Accept": {"application/json"}}},
		Recorded: &framework.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"blob":"` + body + `"}`)},
	}
}

// fullDisk is a temporary file that fails every write, as a full disk does.
type fullDisk struct {
	*os.File
	mu *sync.Mutex
	n  *int
}

func (f fullDisk) Write([]byte) (int, error) {
	f.mu.Lock()
	*f.n++
	f.mu.Unlock()
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func TestRecorderOnAFullDiskCountsAndLogsAndRecovers(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var full = true
	var writes int
	var log bytes.Buffer
	var logMu sync.Mutex
	clock := time.Now()
	opt := RecordOptions{MaxSize: 1024, Log: lockedWriter{&logMu, &log}, now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }}
	opt.create = func(path string) (writeFile, error) {
		f, err := createFile(path)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || !full {
			return f, err
		}
		return fullDisk{File: f.(*os.File), mu: &sync.Mutex{}, n: &writes}, nil
	}
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"blob":%q}`, r.URL.Path, randomHex(80<<10)) // more than the write buffer: the failure shows at once
	})
	shadow := serve(t, item("1"))
	rec, _ := newTestRecorder(t, dir, opt)
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{Record: rec.Record})
	// The disk is full: prod's answers still reach the client, at once.
	for i := range 30 {
		start := time.Now()
		resp, body := get(t, fmt.Sprintf("%s/items/%d", front.URL, i))
		if resp.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf(`"/items/%d"`, i)) {
			t.Fatalf("client got %d %q", resp.StatusCode, body)
		}
		if took := time.Since(start); took > 10*time.Second { // generous: the machine may be loaded; a stuck prod path would hang
			t.Fatalf("a request took %s with the recorder's disk full", took)
		}
	}
	eventually(t, "the lost exchanges counted", func() bool { return rec.Counts().Failed == 30 })
	logMu.Lock()
	logged := log.String()
	logMu.Unlock()
	if strings.Count(logged, "no space left on device") != 1 || !strings.Contains(logged, "prod is not affected") {
		t.Fatalf("want the failure logged once, got:\n%s", logged)
	}
	if c := rec.Counts(); c.Written != 0 || c.Files != 0 || rec.writeErrors.Load() == 0 {
		t.Fatalf("counts %+v, write errors %d", c, rec.writeErrors.Load())
	}
	if files, _ := RecordFiles(dir); len(files) != 0 {
		t.Fatalf("broken files left: %v", files)
	}

	// Space is back: after the hold-off the recorder writes again.
	mu.Lock()
	full = false
	clock = clock.Add(2 * recordHoldOff)
	mu.Unlock()
	for i := range 10 {
		get(t, fmt.Sprintf("%s/items/%d", front.URL, 100+i))
	}
	eventually(t, "recording again", func() bool { return rec.Counts().Files >= 1 })
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if c := rec.Counts(); c.Written != 10 || c.Failed != 30 {
		t.Fatalf("after recovery: %+v, want 10 written and 30 lost", c)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(log.String(), "writing again after 30 exchange(s) lost") {
		t.Fatalf("no recovery line:\n%s", log.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRecorderToDevFullIsCountedAndLogged(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	var log bytes.Buffer
	rec, _ := newTestRecorder(t, "/dev/full", RecordOptions{Log: &log})
	for i := range 200 {
		rec.Record(testExchange(fmt.Sprintf("/items/%d", i), randomHex(1000)))
	}
	err := rec.Close()
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Close: %v, want the failure", err)
	}
	if c := rec.Counts(); c.Written != 0 || c.Failed != 200 {
		t.Fatalf("counts %+v, want all 200 lost", c)
	}
	if strings.Count(log.String(), "no space left on device") != 1 {
		t.Fatalf("log:\n%s", log.String())
	}
}

func TestRecorderFloodOfDistinctPathsStaysBounded(t *testing.T) {
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"blob":%q}`, r.URL.Path, strings.Repeat("x", 20<<10))
	})
	shadow := serve(t, item("1"))
	dir := t.TempDir()
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxSize: 4 << 10, MaxFiles: 4})
	_, front := session(t, testPlan(prod.URL, shadow.URL), Options{Record: rec.Record})
	const clients, each = 16, 60
	var wg sync.WaitGroup
	var failures sync.Map
	var tokensMu sync.Mutex
	var tokens []string
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				token := randomHex(24)
				tokensMu.Lock()
				tokens = append(tokens, token)
				tokensMu.Unlock()
				resp, err := client.Get(fmt.Sprintf("%s/items/%d-%d-%s?token=%s", front.URL, c, i, randomHex(16), token))
				if err != nil {
					failures.Store(err.Error(), true)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Store(resp.Status, true)
				}
			}
		})
	}
	wg.Wait()
	failures.Range(func(k, _ any) bool { t.Errorf("client: %v", k); return true })
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	c := rec.Counts()
	if c.Written+c.Dropped != clients*each {
		t.Fatalf("counts %+v: every exchange is written or counted as dropped", c)
	}
	if files, _ := RecordFiles(dir); len(files) > 4 {
		t.Fatalf("%d files kept, want at most 4", len(files))
	}
	exchanges := readRecordings(t, dir)
	if len(exchanges) == 0 {
		t.Fatal("nothing recorded")
	}
	t.Logf("%+v; first URL kept: %s", c, exchanges[0].Request.URL)
	var all strings.Builder
	for _, ex := range exchanges {
		all.WriteString(ex.Request.URL + "\n")
	}
	for _, token := range tokens {
		if strings.Contains(all.String(), token) {
			t.Fatalf("a token reached the recording: %s", token)
		}
	}
}

// The recording's gzip stream is whole: a reader that checks the trailer
// (gzip.Reader does at EOF) finds no error in any file.
func TestRecordFilesAreWholeGzip(t *testing.T) {
	dir := t.TempDir()
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxSize: 2048})
	for i := range 20 {
		rec.Record(testExchange(fmt.Sprintf("/items/%d", i), randomHex(600)))
	}
	rec.Close()
	files, _ := RecordFiles(dir)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// stuckDisk is a temporary file whose writes hang until released, as a
// hung network file system does.
type stuckDisk struct {
	*os.File
	release chan struct{}
}

func (f stuckDisk) Write(p []byte) (int, error) {
	<-f.release
	return f.File.Write(p)
}

// stuckDiskOptions records (1 KiB files) to stuckDisks released by
// release.
func stuckDiskOptions(release chan struct{}) RecordOptions {
	opt := RecordOptions{MaxSize: 1024}
	opt.create = func(path string) (writeFile, error) {
		f, err := createFile(path)
		if err != nil {
			return nil, err
		}
		return stuckDisk{File: f.(*os.File), release: release}, nil
	}
	return opt
}

func TestRecorderOnAStuckDiskNeverHoldsProd(t *testing.T) {
	release := make(chan struct{})
	opt := stuckDiskOptions(release)
	prod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"blob":%q}`, r.URL.Path, strings.Repeat("x", 200<<10))
	})
	shadow := serve(t, item("1"))
	rec, _ := newTestRecorder(t, t.TempDir(), opt)
	sess, front := session(t, testPlan(prod.URL, shadow.URL), Options{Record: rec.Record})
	sess.Switch().Trip(TriggerAdmin, "only the prod path and the recorder are under test")
	client := &http.Client{Timeout: 20 * time.Second} // a held prod path fails here
	for i := range 400 {                              // more than the recorder's queue holds: 64 MiB
		resp, err := client.Get(fmt.Sprintf("%s/items/%d", front.URL, i))
		if err != nil {
			t.Fatalf("request %d with the recorder's disk stuck: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if c := rec.Counts(); c.Dropped == 0 {
		t.Fatalf("counts %+v: want the exchanges past the queue dropped and counted", c)
	}
	close(release)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderRemovesWhatKilledRecordersLeft(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "."+RecordFilePrefix+"20200101T000000.000Z-000001"+RecordFileSuffix+".123")
	fresh := filepath.Join(dir, "."+RecordFilePrefix+"20200101T000000.000Z-000002"+RecordFileSuffix+".456") // another proxy's, being written
	other := filepath.Join(dir, ".keep-me")
	for _, f := range []string{stale, fresh, other} {
		os.WriteFile(f, []byte("half a gzip"), 0o644)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	os.Chtimes(other, old, old)
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxAge: 10 * time.Minute})
	rec.Close()
	for f, want := range map[string]bool{stale: false, fresh: true, other: true} {
		if _, err := os.Stat(f); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(f), err == nil, want)
		}
	}
}
