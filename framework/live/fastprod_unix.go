//go:build unix

package live

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// fastProdSupported: the fast prod client peeks at idle connections
// (idleConnAlive), so it may carry requests here.
const fastProdSupported = true

// idleConnAlive reports whether an idle connection to prod may carry a
// request: prod has neither closed it nor sent anything on it since its
// last answer. One non-blocking peek, no wait.
func idleConnAlive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, err := unix.Recvfrom(int(fd), buf[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		// EAGAIN: nothing to read, the connection is idle and open; 0 bytes
		// is prod's close, a byte is an answer nobody asked for.
		alive = err == unix.EAGAIN || err == unix.EWOULDBLOCK || err == unix.EINTR
		return true
	})
	return err == nil && alive
}
