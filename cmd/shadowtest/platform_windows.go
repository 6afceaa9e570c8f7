//go:build windows

package main

import (
	"os"
	"path/filepath"
)

// Windows has no SIGUSR1, SIGUSR2 or SIGHUP: the kill switch is tripped
// there through the kill file or the proxy's admin endpoint, and the spec
// is not reloaded by signal.
var (
	killSignal   os.Signal
	resumeSignal os.Signal
	reloadSignal os.Signal
)

// pendingFile is an output being written to a temporary file beside its
// target, renamed over the target when whole (renameio is Unix-only; on
// Windows os.Rename replaces the target with MoveFileEx).
type pendingFile struct {
	*os.File
	target string
}

func newPendingFile(target string) (*pendingFile, error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target))
	if err != nil {
		return nil, err
	}
	return &pendingFile{File: f, target: target}, nil
}

// CloseAtomicallyReplace syncs and closes the temporary file and renames
// it over the target.
func (p *pendingFile) CloseAtomicallyReplace() error {
	if err := p.Sync(); err != nil {
		return err
	}
	if err := p.Close(); err != nil {
		return err
	}
	return os.Rename(p.Name(), p.target)
}

// Cleanup closes and removes the temporary file; the target is untouched.
func (p *pendingFile) Cleanup() error {
	p.Close()
	return os.Remove(p.Name())
}

// writeFileAtomically replaces path with data through a temporary file.
func writeFileAtomically(path string, data []byte, perm os.FileMode) error {
	p, err := newPendingFile(path)
	if err != nil {
		return err
	}
	if err := p.Chmod(perm); err != nil {
		p.Cleanup()
		return err
	}
	if _, err := p.Write(data); err != nil {
		p.Cleanup()
		return err
	}
	return p.CloseAtomicallyReplace()
}

// survivePipeReaders: a closed pipe is already an error on Windows.
func survivePipeReaders() {}
