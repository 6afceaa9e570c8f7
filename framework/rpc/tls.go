package rpc

import (
	"crypto/tls"

	"github.com/shadowtest/shadowtest/framework"
)

// TLSConfig is the TLS configuration the client uses for a grpcs://
// target: the spec's CA file (resolved against dir) or the system's
// roots, its server name, and no verification only when the spec says
// insecureSkipVerify. The live proxy dials prod with it too.
func TLSConfig(t framework.TLS, dir string) (*tls.Config, error) {
	return tlsConfig(t, dir)
}
