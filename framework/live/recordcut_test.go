package live

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/redact"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// readLive reads a recording that may still be written, as run does:
// a cut tail is a warning, never an error. warnings is -1 when there is
// nothing to read yet.
func readLive(t *testing.T, path string) (urls []string, warnings int) {
	t.Helper()
	r, err := traffic.Open(framework.TrafficSource{Format: "jsonl", Path: path}, "")
	if err != nil {
		return nil, -1 // a directory whose first file is not there yet
	}
	defer r.Close()
	r = traffic.WarnCutShort(r, func(error) { warnings++ })
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			return urls, warnings
		}
		if err != nil {
			t.Fatalf("reading %s while it is recorded: %v", path, err)
		}
		urls = append(urls, ex.Request.URL)
	}
}

// poll waits for cond, checking every 50 ms for at most 20 s (a loaded
// machine); it returns how long it took.
func poll(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// What a recorder wrote is readable from its files within about a second,
// before any file is finished: a proxy killed then loses at most that.
func TestRecorderFlushesSoThatAKilledProxyLosesAtMostASecond(t *testing.T) {
	for _, target := range []string{t.TempDir() + "/", filepath.Join(t.TempDir(), "live.jsonl.gz"), filepath.Join(t.TempDir(), "live.jsonl")} {
		rec, _ := newTestRecorder(t, target, RecordOptions{})
		for i := range 20 {
			rec.Record(testExchange(fmt.Sprintf("/items/%d", i), randomHex(300)))
		}
		took := poll(t, "the 20 exchanges readable", func() bool {
			urls, _ := readLive(t, strings.TrimSuffix(target, "/"))
			return len(urls) == 20
		})
		t.Logf("%s: readable %s after they were recorded", target, took.Round(time.Millisecond))
		if c := rec.Counts(); c.Files != 0 {
			t.Fatalf("%s: %+v: the file was finished, the test proves nothing", target, c)
		}
		if _, warnings := readLive(t, strings.TrimSuffix(target, "/")); strings.HasSuffix(target, ".gz") || strings.HasSuffix(target, "/") {
			if warnings != 1 {
				t.Fatalf("%s: %d warnings, want the unfinished gzip stream said once", target, warnings)
			}
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		if urls, warnings := readLive(t, strings.TrimSuffix(target, "/")); len(urls) != 20 || warnings != 0 {
			t.Fatalf("%s after Close: %d exchanges, %d warnings", target, len(urls), warnings)
		}
	}
}

func TestASecondRecorderOnTheSameTargetIsRefused(t *testing.T) {
	for _, target := range []string{t.TempDir() + "/", filepath.Join(t.TempDir(), "live.jsonl.gz")} {
		first, _ := newTestRecorder(t, target, RecordOptions{})
		first.Record(testExchange("/items/1", "{}"))
		sc, red := newTestRecorderParts(t)
		_, err := OpenRecorder(target, RecordOptions{}, red, sc)
		var locked *RecordLockedError
		if !errors.As(err, &locked) || locked.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
			t.Fatalf("%s: a second recorder: %v, want a RecordLockedError naming pid %d", target, err, os.Getpid())
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		if urls, _ := readLive(t, strings.TrimSuffix(target, "/")); len(urls) != 1 {
			t.Fatalf("%s: the refused recorder touched the first one's recording: %v", target, urls)
		}
		again, _ := newTestRecorder(t, target, RecordOptions{}) // free once the first is closed
		again.Close()
	}
	// A link in the lock file's place is refused, not followed (the lock
	// file is truncated to hold the pid).
	dir, victim := t.TempDir(), filepath.Join(t.TempDir(), "precious")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	os.Symlink(victim, filepath.Join(dir, RecordLockName))
	sc, red := newTestRecorderParts(t)
	if _, err := OpenRecorder(dir, RecordOptions{}, red, sc); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a link as the lock file: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Fatalf("the link's target was written: %q", data)
	}
	// A hard link is a regular file to Lstat: it is refused once open,
	// before the pid is written over the file it shares (redteam5).
	dir = t.TempDir()
	if err := os.Link(victim, filepath.Join(dir, RecordLockName)); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if _, err := OpenRecorder(dir, RecordOptions{}, red, sc); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a hard link as the lock file: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Fatalf("the hard link's file was written: %q", data)
	}
}

// A recording whose directory is removed (or replaced by a file) in the
// middle of a session counts what it loses while the session runs, and
// says so once; the failure is not mistaken for a finished file.
func TestRecorderCountsADirectoryRemovedMidSession(t *testing.T) {
	for _, replace := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "rec")
		var log bytes.Buffer
		var mu sync.Mutex
		rec, _ := newTestRecorder(t, dir+"/", RecordOptions{Log: lockedWriter{&mu, &log}})
		for i := range 5 {
			rec.Record(testExchange(fmt.Sprintf("/items/%d", i), randomHex(100)))
		}
		poll(t, "the first exchanges flushed", func() bool { urls, _ := readLive(t, dir); return len(urls) == 5 })
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if replace {
			os.WriteFile(dir, []byte("not a directory"), 0o644)
		}
		for i := range 5 {
			rec.Record(testExchange(fmt.Sprintf("/items/%d", 5+i), randomHex(100)))
		}
		poll(t, "the lost exchanges counted", func() bool { return rec.Counts().Failed == 10 })
		rec.Close()
		c := rec.Counts()
		if c.Written != 0 || c.Files != 0 || rec.writeErrors.Load() == 0 {
			t.Fatalf("replaced %v: %+v, want all 10 lost and none written", replace, c)
		}
		mu.Lock()
		if n := strings.Count(log.String(), "shadowtest: --record"); n != 1 || !strings.Contains(log.String(), "deleted or replaced") {
			t.Fatalf("replaced %v: want the loss logged once, got:\n%s", replace, log.String())
		}
		mu.Unlock()
	}
}

// Files never pass MaxSize, whatever the lines (compressible or not, small
// or large, many writers at once), except a file holding a single line
// larger than MaxSize; every line is read back, in order.
func TestRotationNeverPassesMaxSize(t *testing.T) {
	const maxSize = 4096
	dir := t.TempDir()
	rec, _ := newTestRecorder(t, dir, RecordOptions{MaxSize: maxSize})
	rng := rand.New(rand.NewPCG(1, 2))
	const writers, each = 4, 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := range writers {
		var bodies []string
		for i := range each {
			n := rng.IntN(3000)
			switch {
			case w == 0 && i == 50:
				bodies = append(bodies, randomHex(3*maxSize)) // a line larger than a file
			case i%2 == 0:
				bodies = append(bodies, randomHex(n)) // does not compress
			default:
				bodies = append(bodies, strings.Repeat("abc", n)) // compresses well
			}
		}
		wg.Go(func() {
			for i, body := range bodies {
				mu.Lock() // one order for the check below; the recorder's queue is shared
				rec.Record(testExchange(fmt.Sprintf("/w%d/%d", w, i), body))
				mu.Unlock()
				if i%20 == 19 {
					poll(t, "the queue written", func() bool { return rec.Counts().Dropped > 0 || len(rec.queue) == 0 })
				}
			}
		})
	}
	wg.Wait()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	c := rec.Counts()
	if c.Written+c.Dropped != writers*each || c.Failed != 0 {
		t.Fatalf("counts %+v", c)
	}
	files, _ := RecordFiles(dir)
	huge := 0
	for _, f := range files {
		info, _ := os.Stat(f)
		if info.Size() <= maxSize {
			continue
		}
		if urls, _ := readLive(t, f); len(urls) != 1 {
			t.Errorf("%s: %d bytes, over the %d limit, with %d lines", filepath.Base(f), info.Size(), maxSize, len(urls))
		}
		huge++
	}
	if huge > 1 || len(files) < 20 {
		t.Fatalf("%d files, %d over the limit", len(files), huge)
	}
	if urls, warnings := readLive(t, dir); int64(len(urls)) != c.Written || warnings != 0 {
		t.Fatalf("read %d exchanges back (%d warnings), %d written", len(urls), warnings, c.Written)
	}
}

// newTestRecorderParts is the scrubber and redactor newTestRecorder uses.
func newTestRecorderParts(t *testing.T) (*scrub.Scrubber, *redact.Redactor) {
	t.Helper()
	sc := scrub.New()
	red, err := redact.Build(redact.Options{Scrubber: sc})
	if err != nil {
		t.Fatal(err)
	}
	return sc, red
}

// Two names of one file (a symbolic link to it, or a link to a file not
// created yet) are one recording: the lock is the file's, not the name's,
// else two proxies truncate and write the same file (redteam5).
func TestARecordingReachedThroughALinkIsLockedAsItsFile(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "live.jsonl")
	link := filepath.Join(dir, "alias.jsonl")
	if err := os.Symlink("live.jsonl", link); err != nil {
		t.Skip(err)
	}
	for _, names := range [][2]string{{link, real}, {real, link}} {
		os.Remove(real) // the second round: the link is dangling when the first recorder opens it
		first, _ := newTestRecorder(t, names[0], RecordOptions{})
		sc, red := newTestRecorderParts(t)
		second, err := OpenRecorder(names[1], RecordOptions{}, red, sc)
		var locked *RecordLockedError
		if !errors.As(err, &locked) {
			if err == nil {
				second.Close()
			}
			first.Close()
			t.Fatalf("%s then %s: the second recorder: %v, want a RecordLockedError", names[0], names[1], err)
		}
		first.Close()
	}
}
