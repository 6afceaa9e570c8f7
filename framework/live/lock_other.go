//go:build !unix && !windows

package live

import "os"

// lockFile does not lock where the platform has no file locks.
func lockFile(*os.File) (bool, error) { return true, nil }

// openLockFile opens (or creates) the lock file at path.
func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
