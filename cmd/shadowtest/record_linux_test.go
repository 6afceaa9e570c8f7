package main

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// TestProxyRecordingOnAFullDiskKeepsServingProd mounts a tmpfs: Linux only.
func TestProxyRecordingOnAFullDiskKeepsServingProd(t *testing.T) {
	dir := t.TempDir()
	// A real full disk: a 64 KiB tmpfs (needs root and a kernel that lets
	// the test mount one).
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v): the full disk is covered by framework/live's tests", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	s := liveWithSpec(t, reloadSpec+"endpoints: items: {path: \"/items/{id}\", thresholds: minSamples: 5}\n", "--record", dir+"/", "--record-max-size", "8KiB")
	for i := range 300 {
		if got, want := s.get(fmt.Sprintf("/items/%d", i)), fmt.Sprintf(`{"path":"/items/%d","price":12.5,"note":%q}`, i, noteOf(fmt.Sprintf("/items/%d", i))); got != want {
			t.Fatalf("client got %q with the recording disk full, want prod's answer", got)
		}
	}
	if code := s.stop(syscall.SIGTERM); code != exitInvalid { // the recording is not whole
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
	log := s.stderr.String()
	if n := strings.Count(log, "no space left on device"); n < 1 || n > 20 {
		t.Fatalf("the full disk logged %d times, want once per failing streak:\n%s", n, log)
	}
	var written, lost int
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "shadowtest: recorded ") {
			fmt.Sscanf(line[strings.Index(line, "recorded "):], "recorded %d exchange(s)", &written)
			fmt.Sscanf(line[strings.Index(line, "; ")+2:], "%d lost: write failed", &lost)
		}
	}
	if lost == 0 || written+lost > 300 {
		t.Fatalf("want the lost exchanges counted (%d written, %d lost):\n%s", written, lost, log)
	}
	files, plain := plainRecordings(t, dir)
	if n := bytes.Count(plain, []byte("\n")); n != written {
		t.Fatalf("%d lines in %d whole files, the summary says %d", n, len(files), written)
	}
	t.Logf("%d exchanges in %d files, %d lost; the proxy said:\n%s", written, len(files), lost, log)
}
