//go:build !unix && !windows

package live

import "os"

// lockFile does not lock where the platform has no file locks.
func lockFile(*os.File) (bool, error) { return true, nil }
