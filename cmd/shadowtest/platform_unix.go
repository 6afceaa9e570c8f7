//go:build !windows

package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

// The signals that trip and reset the kill switch and reload the proxy's
// spec. Windows has none of them (see platform_windows.go).
var (
	killSignal   os.Signal = syscall.SIGUSR1
	resumeSignal os.Signal = syscall.SIGUSR2
	reloadSignal os.Signal = syscall.SIGHUP
)

// pendingFile is an output being written to a temporary file beside its
// target, renamed over the target when whole.
type pendingFile = renameio.PendingFile

func newPendingFile(target string) (*pendingFile, error) {
	return renameio.NewPendingFile(target, renameio.WithTempDir(filepath.Dir(target)), renameio.WithPermissions(0o666))
}

// writeFileAtomically replaces path with data through a temporary file.
func writeFileAtomically(path string, data []byte, perm os.FileMode) error {
	return renameio.WriteFile(path, data, perm)
}

// survivePipeReaders makes a write to a closed pipe an error (EPIPE)
// instead of the end of the process: `run --log - | head` killed it with
// SIGPIPE before the JUnit and the other outputs were written, with no
// message and exit 141. The output whose reader left is then reported
// as not written (exit 2), and the others are written.
func survivePipeReaders() { signal.Ignore(syscall.SIGPIPE) }
