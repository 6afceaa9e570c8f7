package scrub

import "testing"

func TestNamesByWords(t *testing.T) {
	n := NewNames([]string{"pin", "x-internal"}, []string{"keyboard-layout", "tokenizer"})
	for _, tc := range []struct {
		name   string
		secret bool
		reason string
	}{
		{"Authorization", true, "auth prefix"},
		{"X-Authorization", true, "split on -"},
		{"Api_Key", true, "split on _"},
		{"apikey", true, "key at the end of a word"},
		{"pwd", true, "word"},
		{"jwt", true, "word"},
		{"tok%65n", true, "percent-decoded first"},
		{"tok%2565n", true, "doubly encoded"},
		{"access_token", true, "token"},
		{"accessToken", true, "camelCase"},
		{"APIKey", true, "upper-case run then a word"},
		{"X-Amz-Signature", true, "signature"},
		{"sig", true, "sig as a word"},
		{"SESSIONID", true, "session inside"},
		{"passwd", true, "passw"},
		{"client.secret", true, "split on ."},
		{"WWW-Authenticate", true, "auth prefix (harmless to mask)"},
		{"userPin", true, "spec-added word"},
		{"X-Internal-Id", true, "spec-added word sequence"},
		{"author", false, "not auth"},
		{"authority", false, "not auth"},
		{"keyboard", false, "key only at the end"},
		{"keyword", false, "key only at the end"},
		{"design", false, "sig only as a word"},
		{"Keyboard_Layout", false, "allowed by the spec, normalised"},
		{"tokenizer", false, "allowed by the spec"},
		{"Content-Type", false, "ordinary header"},
		{"page", false, "ordinary parameter"},
		{"", false, "empty"},
	} {
		if got := n.Secret(tc.name); got != tc.secret {
			t.Errorf("Secret(%q) = %v, want %v (%s)", tc.name, got, tc.secret, tc.reason)
		}
	}
}
