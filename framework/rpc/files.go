package rpc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Caps on the files a spec names for gRPC: a .proto, a descriptor set, a
// CA file. Real ones are far smaller.
const (
	maxProtoBytes         = 16 << 20
	maxDescriptorSetBytes = 64 << 20
	maxCABytes            = 1 << 20
)

// errNotRegular says a path names something other than a regular file.
var errNotRegular = errors.New("not a regular file (a device, FIFO, directory or /proc, /sys or /dev entry)")

// openRegular opens a file a spec names, refusing anything but a regular
// file outside the kernel's pseudo file systems, through symlinks too:
// /dev/zero or /dev/urandom would be read forever (the run's memory grows
// until it is killed), a FIFO would block it, and /proc/self/environ holds
// the CI job's secrets. The file is read at most limit bytes.
func openRegular(path string, limit int64) (io.ReadCloser, error) {
	info, err := os.Stat(path) // not Open: opening a FIFO blocks
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // as os.Open says it
		}
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		if abs, err := filepath.Abs(resolved); err == nil {
			for _, dir := range []string{"/proc/", "/sys/", "/dev/"} {
				if strings.HasPrefix(abs, dir) {
					return nil, fmt.Errorf("%s: %w", path, errNotRegular)
				}
			}
		}
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a spec's file may hold", path, info.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, limit), f}, nil
}

// readRegular reads a file a spec names (see openRegular).
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := openRegular(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// SourceRoot is the directory a spec's .proto files must stay inside: the
// nearest directory at or above dir that holds .git or cue.mod (the
// repository or CUE module the spec belongs to, so that specs can share a
// repository's proto/ tree), or dir itself when there is none.
func SourceRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	for d := abs; ; {
		for _, marker := range []string{".git", "cue.mod"} {
			if _, err := os.Lstat(filepath.Join(d, marker)); err == nil {
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return abs
		}
		d = parent
	}
}

// CheckInside returns an error when p, a path a spec names (relative to
// dir unless absolute), is not inside root (see SourceRoot), before or
// after following symlinks.
func CheckInside(root, dir, p string) error {
	path := resolve(dir, p)
	if !within(root, path) {
		return fmt.Errorf("%s is outside the spec's repository (the nearest directory above the spec that holds .git or cue.mod, else the spec directory): .proto files and import paths must be inside it", p)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil // nothing can be read under a root that does not resolve
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && !within(realRoot, real) {
		return fmt.Errorf("%s leads through a symlink outside the spec's repository (the nearest directory above the spec that holds .git or cue.mod, else the spec directory): .proto files and import paths must be inside it", p)
	}
	return nil
}

// within reports whether path is root or under it (both absolute or both
// relative to the working directory).
func within(root, path string) bool {
	absRoot, err1 := filepath.Abs(root)
	abs, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(absRoot, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
