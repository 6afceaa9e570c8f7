// Package selector decides which spec endpoint covers a recorded request:
// the first endpoint, in spec order, whose method and path template match.
//
// It only matches; it does not sample, shard or apply write policies.
package selector

import (
	"net/url"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// Selector matches requests against a plan's endpoints.
type Selector struct {
	endpoints []compiled
}

type compiled struct {
	index    int
	method   string
	segments []string // "" marks a {param} segment
}

// New compiles the endpoints' path templates. The index Match returns refers
// to the given slice.
func New(endpoints []framework.Endpoint) *Selector {
	s := &Selector{endpoints: make([]compiled, 0, len(endpoints))}
	for i, e := range endpoints {
		parts := splitPath(e.Path)
		for j, p := range parts {
			if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
				parts[j] = ""
			}
		}
		s.endpoints = append(s.endpoints, compiled{index: i, method: e.Method, segments: parts})
	}
	return s
}

// Match returns the index of the first endpoint covering req, or -1.
func (s *Selector) Match(req *framework.Request) int {
	path := req.URL
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if unescaped, err := url.PathUnescape(path); err == nil {
		path = unescaped
	}
	parts := splitPath(path)
	for _, e := range s.endpoints {
		if e.method == req.Method && segmentsMatch(e.segments, parts) {
			return e.index
		}
	}
	return -1
}

func segmentsMatch(template, parts []string) bool {
	if len(template) != len(parts) {
		return false
	}
	for i, t := range template {
		if t == "" {
			if parts[i] == "" {
				return false
			}
			continue
		}
		if t != parts[i] {
			return false
		}
	}
	return true
}

// splitPath splits "/a/b/" into ["a", "b"]; a trailing slash is not a
// segment of its own.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Template returns the request's path with numeric ids, UUIDs and long hex
// hashes replaced by {id}: the label unmatched traffic is counted under.
func Template(rawURL string) string {
	path := rawURL
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if looksLikeID(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

func looksLikeID(seg string) bool {
	if seg == "" {
		return false
	}
	digits, hex := 0, 0
	for _, r := range seg {
		switch {
		case r >= '0' && r <= '9':
			digits++
			hex++
		case r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
			hex++
		case r == '-':
			hex++
		default:
			return false
		}
	}
	if digits == len(seg) {
		return true
	}
	return len(seg) >= 16 && hex == len(seg) && digits > 0
}
