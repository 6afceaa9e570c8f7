package scrub

import (
	"fmt"
	"strings"
	"testing"
)

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
		// Written as two words, password was not secret (redteam9).
		{"pass_word", true, "pass and word"},
		{"Pass Word", true, "pass and word, a space"},
		{"PassWord", true, "pass and word, camelCase"},
		{"userPassWord", true, "pass and word inside"},
		{"PASS_WORD", true, "pass and word, upper case"},
		{"pass-wd", true, "pass and wd"},
		{"pass_weight", false, "pass and another word"},
		{"bypass_window", false, "not pass"},
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
		for round := range 2 { // the second answer comes from the cache
			if got := n.Secret(tc.name); got != tc.secret {
				t.Errorf("round %d: Secret(%q) = %v, want %v (%s)", round, tc.name, got, tc.secret, tc.reason)
			}
		}
	}
}

// TestNamesCacheBounded: a shadow inventing names cannot grow the cache of
// decisions past maxDecided, and names beyond it are still decided right.
func TestNamesCacheBounded(t *testing.T) {
	n := NewNames(nil, nil)
	for i := range maxDecided + 1000 {
		for _, tc := range []struct {
			name   string
			secret bool
		}{{fmt.Sprintf("x-token-%d", i), true}, {fmt.Sprintf("x-page-%d", i), false}} {
			if got := n.Secret(tc.name); got != tc.secret {
				t.Fatalf("Secret(%q) = %v, want %v", tc.name, got, tc.secret)
			}
		}
	}
	if got := n.cached.Load(); got > maxDecided {
		t.Errorf("%d decisions cached, want at most %d", got, maxDecided)
	}
	if !n.Secret("x-token-4500") || n.Secret("x-page-4500") {
		t.Error("a name past the bound is decided wrong the second time")
	}
}

// TestNamesCacheKeepsNoLongName: names of a megabyte (a hostile JSON
// body's members) are decided but never kept, so the cache's bytes stay
// bounded as well as its count.
func TestNamesCacheKeepsNoLongName(t *testing.T) {
	n := NewNames(nil, nil)
	long := strings.Repeat("a", 1<<20)
	for i := range 64 {
		name := fmt.Sprintf("%s-token-%d", long, i)
		if !n.Secret(name) || n.Secret(long+fmt.Sprintf("-page-%d", i)) {
			t.Fatalf("a long name is decided wrong")
		}
	}
	if got := n.cached.Load(); got != 0 {
		t.Errorf("%d names of a megabyte cached, want none", got)
	}
	if !n.Secret("x-token") || n.cached.Load() != 1 {
		t.Errorf("a short name is not cached")
	}
}

func TestPathTokens(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"GET /reset/Zx8vQm2KpL9nR4tW7yB1cD5fG3hJ6kM0", "GET /reset/" + Mask, "a reset token"},
		{"/k/sk_live_51HqLyjWDarjtT1zdp7dcXYZ/x", "/k/" + Mask + "/x", "an API key between segments"},
		{"/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dozjgNryP4J3jVmN", "/t/" + Mask, "a JWT"},
		{"/users/{id}/orders", "/users/{id}/orders", "templates and words stay"},
		{"/api/v2/healthcheck-endpoint", "/api/v2/healthcheck-endpoint", "a long word with one digit stays"},
	}
	for _, tt := range tests {
		if got := PathTokens(tt.in); got != tt.want {
			t.Errorf("PathTokens(%q) = %q, want %q (%s)", tt.in, got, tt.want, tt.reason)
		}
	}
}
