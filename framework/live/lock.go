package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RecordLockName is the lock file a recorder keeps in its recording
// directory; a single-file recording's lock is ".NAME.lock" beside it.
// It holds the pid of the process that locked it, and is left in place
// (an unlocked lock file is free).
const RecordLockName = ".shadowtest-record.lock"

// RecordLockedError says another recorder, in this process or another,
// records to the same directory or file: two would corrupt each other's
// files (the same names, interleaved gzip streams, each pruning the
// other's recordings).
type RecordLockedError struct {
	// Target is the recording directory or file.
	Target string
	// Lock is the lock file.
	Lock string
	// PID is the process holding the lock, 0 when unknown.
	PID int
}

// Error names the holder.
func (e *RecordLockedError) Error() string {
	holder := "pid unknown"
	if e.PID > 0 {
		holder = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another shadowtest proxy (%s) is recording to %s (it holds %s): give each proxy its own recording directory or file", holder, e.Target, e.Lock)
}

// lockRecording takes the exclusive lock of a recording target for the
// recorder's life, without waiting; release drops it. A target that is
// not a regular file (a device, a pipe) is not locked.
func lockRecording(target string, dir bool) (release func(), err error) {
	path := filepath.Join(target, RecordLockName)
	if !dir {
		if info, err := os.Stat(target); err == nil && !info.Mode().IsRegular() {
			return func() {}, nil
		}
		file := linkTarget(target) // the file written, whatever name leads to it
		path = filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".lock")
	}
	// The lock file is truncated to hold the pid: never through a link
	// someone put in its place.
	if info, err := os.Lstat(path); err == nil && !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: remove it", path)
	}
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	locked, err := lockFile(f)
	if err != nil || !locked {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		pid, _ := os.ReadFile(path)
		n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
		return nil, &RecordLockedError{Target: target, Lock: path, PID: n}
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil // closing the file drops the lock
}

// linkTarget follows path's last element while it is a symbolic link
// (created or not yet: OpenFile follows a dangling link and creates its
// target), so that two names of one recording share its lock.
func linkTarget(path string) string {
	for range 40 { // the kernel's own bound on links followed
		link, err := os.Readlink(path)
		if err != nil {
			break
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return path
}
