package spec

import (
	"errors"
	"strings"
	"testing"
)

// TestTLSCAIsCheckedWhenTheSpecLoads checks that a target's tls.ca that
// cannot be read or holds no certificate is a spec error at its position,
// for https:// targets as for grpcs:// ones (it was read for grpcs:// only,
// when the first call was made), and that the error quotes nothing of the
// file: a spec may name any file.
func TestTLSCAIsCheckedWhenTheSpecLoads(t *testing.T) {
	for _, tc := range []struct{ url, endpoint, ca, want string }{
		{"https://10.0.0.6:8443", `path: "/x"`, "nope.pem", "shadow.cue:5:7: targets.shadow.tls.ca: open "},
		{"https://10.0.0.6:8443", `path: "/x"`, "netrc", "shadow.cue:5:7: targets.shadow.tls.ca: netrc holds no PEM certificate"},
		{"grpcs://10.0.0.6:8443", `grpc: "a.B/C"`, "netrc", "shadow.cue:5:7: targets.shadow.tls.ca: netrc holds no PEM certificate"},
	} {
		text := "package shadow\n\ntargets: shadow: {\n\turl: \"" + tc.url + "\"\n\ttls: ca: \"" + tc.ca + "\"\n}\nendpoints: x: {" + tc.endpoint + "}\n"
		dir := writeFiles(t, map[string]string{"shadow.cue": text, "netrc": "machine example.com login bot password hunter2hunter2\n"})
		_, err := Load(dir, Options{})
		var specErr *Error
		if !errors.As(err, &specErr) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("tls.ca %q on %s: err %v, want %q", tc.ca, tc.url, err, tc.want)
		}
	}
}
