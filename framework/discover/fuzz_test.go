package discover

import (
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/selector"
)

// FuzzTemplate checks that the endpoint init writes for a request covers
// that request: the selector built from the template matches the URL it
// came from.
//
//	go test ./framework/discover -run '^$' -fuzz FuzzTemplate -fuzztime 1m
func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{"/users/7", "/users/7/orders/8?x=1", "/files/a%20b", "/q/%7Bx%7D", "/", "//a//b/", "/r/2026-11-25", "/a%2Fb/1", "/%ff/9f86d081884c7d65"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, url string) {
		if !strings.HasPrefix(url, "/") || strings.ContainsAny(url, " \t\r\n\x00\x7f#") {
			return // not a URL a reader yields
		}
		path := Template(url)
		if !strings.HasPrefix(path, "/") {
			t.Fatalf("Template(%q) = %q does not start with /", url, path)
		}
		sel := selector.New([]framework.Endpoint{{Name: "e", Method: "GET", Path: path}})
		if sel.Match(&framework.Request{Method: "GET", URL: url}) != 0 {
			t.Fatalf("the template %q of %q does not match it", path, url)
		}
	})
}
