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
