//go:build !unix

package live

import "net"

// fastProdSupported: without a peek at an idle connection (Windows,
// Plan 9, WASI), a connection prod closed or wrote on while it was idle
// is found out only after a request is written on it: a POST would be
// lost or answered with bytes meant for no request. net/http's Transport,
// whose read goroutine watches idle connections, carries every request
// here (ProdClientFast is ProdClientNetHTTP).
const fastProdSupported = false

// idleConnAlive is not used where fastProdSupported is false.
func idleConnAlive(net.Conn) bool { return false }
