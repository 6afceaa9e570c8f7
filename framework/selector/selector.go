// Package selector decides which spec endpoint covers a recorded request:
// the first endpoint, in spec order, whose method and path template match
// and whose query and header predicates (Endpoint.Query, Endpoint.Header)
// all hold.
//
// It only matches; it does not sample, shard or apply write policies.
package selector

import (
	"fmt"
	"net/url"
	pathpkg "path"
	"regexp"
	"slices"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// Selector matches requests against a plan's endpoints.
type Selector struct {
	endpoints []compiled
}

type compiled struct {
	index         int
	grpc          string // the method pattern of a gRPC endpoint
	method        string
	segments      []string
	params        []bool // params[i]: segment i is a {param}
	query, header []framework.Predicate
}

// New compiles the endpoints' path templates. The index Match returns refers
// to the given slice.
func New(endpoints []framework.Endpoint) *Selector {
	s := &Selector{endpoints: make([]compiled, 0, len(endpoints))}
	for i, e := range endpoints {
		parts := splitPath(e.Path)
		params := make([]bool, len(parts))
		for j, p := range parts {
			params[j] = len(p) >= 2 && strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}")
		}
		s.endpoints = append(s.endpoints, compiled{index: i, grpc: e.GRPC, method: e.Method, segments: parts, params: params, query: e.Query, header: e.Header})
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
	var segments [16]string // the usual path's segments, without an allocation
	parts := appendSegments(segments[:0], path)
	var query url.Values // parsed once, when a predicate needs it
	for _, e := range s.endpoints {
		if (e.grpc != "") != (req.RPC != nil) {
			continue // an RPC goes to gRPC endpoints only, and HTTP to HTTP
		}
		if req.RPC != nil {
			if !MatchMethod(e.grpc, req.RPC.Method) {
				continue
			}
		} else if e.method != req.Method || !segmentsMatch(e.segments, e.params, parts) {
			continue
		}
		if len(e.query) > 0 && query == nil {
			query = parseQuery(req.URL)
		}
		if predicatesHold(e.query, func(name string) []string { return query[name] }) &&
			predicatesHold(e.header, req.Header.Values) {
			return e.index
		}
	}
	return -1
}

// MatchMethod reports whether a gRPC full method ("pkg.Service/Method")
// matches an endpoint's pattern, where * matches any run of characters
// other than "/" ("acme.users.v1.UserService/*", "acme.*/Get*"). A leading
// slash on either is ignored.
func MatchMethod(pattern, method string) bool {
	ok, err := pathpkg.Match(strings.TrimPrefix(pattern, "/"), strings.TrimPrefix(method, "/"))
	return ok && err == nil
}

func parseQuery(rawURL string) url.Values {
	_, rawQuery, _ := strings.Cut(rawURL, "?")
	rawQuery, _, _ = strings.Cut(rawQuery, "#")
	query, _ := url.ParseQuery(rawQuery) // keeps the pairs it could parse
	if query == nil {
		query = url.Values{}
	}
	return query
}

// predicatesHold reports whether every predicate holds for the values that
// lookup returns for its name. A value predicate holds when any of the
// request's values for the name is one of the predicate's.
func predicatesHold(predicates []framework.Predicate, lookup func(string) []string) bool {
	for _, p := range predicates {
		values := lookup(p.Name)
		switch {
		case p.Present:
			if len(values) == 0 {
				return false
			}
		case p.Absent:
			if len(values) > 0 {
				return false
			}
		default:
			if !slices.ContainsFunc(values, func(v string) bool { return slices.Contains(p.Values, v) }) {
				return false
			}
		}
	}
	return true
}

func segmentsMatch(template []string, params []bool, parts []string) bool {
	if len(template) != len(parts) {
		return false
	}
	for i, t := range template {
		if params[i] {
			if parts[i] == "" {
				return false // a parameter never matches an empty segment
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
	return appendSegments(nil, p)
}

// appendSegments appends the segments of p to dst, as splitPath splits
// them.
func appendSegments(dst []string, p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return dst
	}
	for segment := range strings.SplitSeq(p, "/") {
		dst = append(dst, segment)
	}
	return dst
}

// Template returns the request's path with numeric ids, UUIDs and long hex
// hashes replaced by {id} and dates (2026-11-25) by {date}: the label
// unmatched traffic is counted under, and the path templates of init.
func Template(rawURL string) string {
	path := rawURL
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = TemplateSegment(p)
	}
	return strings.Join(parts, "/")
}

// expressParam is a segment written as other routers write a parameter.
var expressParam = regexp.MustCompile(`^:[A-Za-z_][A-Za-z0-9_]*$`)

// SegmentProblem says why a segment of a path template is matched
// literally though it reads as a parameter or a wildcard in other routers'
// syntax (":id", "*", "{name}.json", "{id"), "" for an ordinary segment or
// a {param}. A spec refuses such a template; a template learned from
// traffic turns the segment into a parameter.
func SegmentProblem(seg string) string {
	switch {
	case expressParam.MatchString(seg):
		return fmt.Sprintf("segment %q would be matched literally: a parameter is written {%s} (one path segment)", seg, seg[1:])
	case seg == "*" || seg == "**":
		return fmt.Sprintf("segment %q would be matched literally: a parameter is written {name} (one path segment); there are no wildcards", seg)
	case strings.ContainsAny(seg, "{}") && !(len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && !strings.ContainsAny(seg[1:len(seg)-1], "{}")):
		return fmt.Sprintf("segment %q would be matched literally: a parameter is a whole segment, {name}", seg)
	}
	return ""
}

// TemplateSegment returns "{date}" for an ISO date, "{id}" for a numeric
// id, UUID or long hex hash, and the segment itself otherwise.
func TemplateSegment(seg string) string {
	switch {
	case looksLikeDate(seg):
		return "{date}"
	case looksLikeID(seg):
		return "{id}"
	}
	return seg
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

// looksLikeDate reports an ISO 8601 date, YYYY-MM-DD.
func looksLikeDate(seg string) bool {
	if len(seg) != 10 || seg[4] != '-' || seg[7] != '-' {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if i != 4 && i != 7 && (seg[i] < '0' || seg[i] > '9') {
			return false
		}
	}
	return true
}
