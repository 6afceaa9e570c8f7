package selector

import (
	"net/http"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestMatch(t *testing.T) {
	endpoints := []framework.Endpoint{
		{Name: "health", Method: "GET", Path: "/health"},
		{Name: "user-orders", Method: "GET", Path: "/users/{id}/orders"},
		{Name: "get-user", Method: "GET", Path: "/users/{id}"},
		{Name: "any-user", Method: "GET", Path: "/users/{name}"},
		{Name: "delete-user", Method: "DELETE", Path: "/users/{id}"},
		{Name: "list", Method: "GET", Path: "/products"},
		{Name: "empty-segment", Method: "GET", Path: "/a//b"},
	}
	s := New(endpoints)
	tests := []struct {
		method, url, want, reason string
	}{
		{"GET", "/health", "health", "literal path"},
		{"GET", "/health/", "health", "a trailing slash is not a segment"},
		{"GET", "/users/7", "get-user", "a parameter matches one segment; the first match wins over any-user"},
		{"GET", "/users/7/orders", "user-orders", "a longer template matches a longer path"},
		{"DELETE", "/users/7", "delete-user", "the method selects the endpoint"},
		{"POST", "/users/7", "", "no endpoint for the method"},
		{"GET", "/users/", "", "a parameter never matches an empty segment"},
		{"GET", "/products?category=books&page=2", "list", "the query is not part of the match"},
		{"GET", "/users/a%2Fb", "", "an escaped slash is unescaped before matching and adds a segment"},
		{"GET", "/unknown", "", "unmatched"},
		{"GET", "/a//b", "empty-segment", "an empty segment matches an empty literal segment"},
	}
	for _, tt := range tests {
		i := s.Match(&framework.Request{Method: tt.method, URL: tt.url})
		got := ""
		if i >= 0 {
			got = endpoints[i].Name
		}
		if got != tt.want {
			t.Errorf("%s %s: got %q, want %q (%s)", tt.method, tt.url, got, tt.want, tt.reason)
		}
	}
}

func TestTemplate(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"/users/123", "/users/{id}", "numeric id"},
		{"/users/123/orders?x=1", "/users/{id}/orders", "query dropped"},
		{"/o/3f2b1c1e-9a7d-4c1e-8b1e-1234567890ab", "/o/{id}", "UUID"},
		{"/products", "/products", "words stay"},
		{"/cafe", "/cafe", "a hex-looking word stays"},
		{"/reports/2026-11-25/daily", "/reports/{date}/daily", "a date"},
		{"/blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "/blobs/{id}", "a SHA-256 hash"},
	}
	for _, tt := range tests {
		if got := Template(tt.in); got != tt.want {
			t.Errorf("Template(%q) = %q, want %q (%s)", tt.in, got, tt.want, tt.reason)
		}
	}
}

func TestMatchPredicates(t *testing.T) {
	endpoints := []framework.Endpoint{
		{Name: "export-csv", Method: "GET", Path: "/export", Query: []framework.Predicate{{Name: "format", Values: []string{"csv", "tsv"}}}},
		{Name: "export-debug", Method: "GET", Path: "/export", Query: []framework.Predicate{{Name: "debug", Present: true}}},
		{Name: "export-v2", Method: "GET", Path: "/export", Header: []framework.Predicate{{Name: "x-api-version", Values: []string{"2"}}}},
		{Name: "export-plain", Method: "GET", Path: "/export", Query: []framework.Predicate{{Name: "format", Absent: true}}},
	}
	s := New(endpoints)
	tests := []struct {
		url    string
		header http.Header
		want   string
		reason string
	}{
		{"/export?format=csv", nil, "export-csv", "a value predicate"},
		{"/export?format=tsv&debug=1", nil, "export-csv", "one of the listed values; the first endpoint wins"},
		{"/export?format=json&debug", nil, "export-debug", "present, even without a value"},
		{"/export?format=json", http.Header{"X-Api-Version": {"2"}}, "export-v2", "header names are case-insensitive"},
		{"/export?format=json", http.Header{"X-Api-Version": {"1"}}, "", "no predicate holds: unmatched"},
		{"/export", nil, "export-plain", "absent"},
		{"/export?format=a%3Bb&format=csv", nil, "export-csv", "any of the repeated values"},
	}
	for _, tt := range tests {
		i := s.Match(&framework.Request{Method: "GET", URL: tt.url, Header: tt.header})
		got := ""
		if i >= 0 {
			got = endpoints[i].Name
		}
		if got != tt.want {
			t.Errorf("%s %v: got %q, want %q (%s)", tt.url, tt.header, got, tt.want, tt.reason)
		}
	}
}
