// Package redact hides secrets before anything recorded is written out:
// sensitive headers (Authorization, Cookie, Set-Cookie, API keys...) and the
// JSON body fields a spec lists under report.redact.
//
// Every output that carries recorded bytes (the discrepancy log, the
// results' examples, the JUnit, the HTML report) goes through one Redactor.
// It does not escape anything for a particular format; each writer does.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// Mask replaces every redacted value.
const Mask = "[REDACTED]"

// SensitiveHeaders are always redacted, whatever the spec says.
var SensitiveHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Key", "Api-Key", "X-Auth-Token", "X-Csrf-Token", "X-Amz-Security-Token",
}

// Redactor hides sensitive headers and configured body fields. The zero
// value is not usable; build one with New. A Redactor is safe for
// concurrent use.
type Redactor struct {
	headers map[string]bool
	body    fieldpath.Set
}

// New returns a Redactor for the spec's report.redact paths: body paths are
// redacted in JSON bodies and in differences, header paths add to
// SensitiveHeaders.
func New(paths []string) (*Redactor, error) {
	r := &Redactor{headers: map[string]bool{}}
	for _, h := range SensitiveHeaders {
		r.headers[http.CanonicalHeaderKey(h)] = true
	}
	var body []fieldpath.Path
	for _, s := range paths {
		p, err := fieldpath.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("report.redact: %w", err)
		}
		if p.IsHeader() {
			r.headers[p.Header()] = true
			continue
		}
		body = append(body, p)
	}
	r.body = fieldpath.NewSet(body...)
	return r, nil
}

// Default redacts only the sensitive headers.
func Default() *Redactor {
	r, _ := New(nil)
	return r
}

// IsSensitiveHeader reports whether a header's values are hidden. Names
// containing "token", "secret", "password" or "api-key" are sensitive too.
func (r *Redactor) IsSensitiveHeader(name string) bool {
	if r.headers[http.CanonicalHeaderKey(name)] {
		return true
	}
	lower := strings.ToLower(name)
	for _, word := range []string{"token", "secret", "password", "api-key", "apikey", "session"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

// Header returns a copy of h with the values of sensitive headers masked.
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		if r.IsSensitiveHeader(name) {
			masked := make([]string, len(values))
			for i := range masked {
				masked[i] = Mask
			}
			out[name] = masked
			continue
		}
		out[name] = append([]string(nil), values...)
	}
	return out
}

// Body returns body with the configured fields masked when it is a JSON
// document that holds any of them; otherwise it returns body unchanged.
func (r *Redactor) Body(body []byte) []byte {
	out, _ := r.value(body, nil)
	return out
}

// Value masks a rendered value found at path (a concrete location such as
// "$.user" or "header:Set-Cookie"): entirely when the location is
// redacted, inside it when it is a JSON value holding redacted fields.
func (r *Redactor) Value(path, value string) string {
	if value == "" {
		return value
	}
	if name, ok := strings.CutPrefix(path, "header:"); ok {
		if r.IsSensitiveHeader(name) {
			return Mask
		}
		return value
	}
	if r.body.Len() == 0 {
		return value
	}
	loc, ok := Location(path)
	if !ok {
		return value
	}
	if r.body.Match(loc) {
		return Mask
	}
	out, changed := r.value([]byte(value), loc)
	if !changed {
		return value
	}
	return string(out)
}

// value masks the redacted fields of a JSON document found at loc.
func (r *Redactor) value(doc []byte, loc []fieldpath.Step) ([]byte, bool) {
	if r.body.Len() == 0 {
		return doc, false
	}
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return doc, false
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return doc, false
	}
	v, changed := r.walk(v, append([]fieldpath.Step(nil), loc...))
	if !changed {
		return doc, false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return doc, false
	}
	return out, true
}

func (r *Redactor) walk(v any, loc []fieldpath.Step) (any, bool) {
	if len(loc) > 0 && r.body.Match(loc) {
		return Mask, true
	}
	changed := false
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if nv, c := r.walk(child, append(loc, fieldpath.Key(k))); c {
				t[k], changed = nv, true
			}
		}
	case []any:
		for i, child := range t {
			if nv, c := r.walk(child, append(loc, fieldpath.Index(i))); c {
				t[i], changed = nv, true
			}
		}
	}
	return v, changed
}

// Location parses a concrete body location as the comparator writes it
// ("$", "$.a.b", `$."odd key"[3]`) into steps; ok is false for anything
// else (header paths, "status", "body").
func Location(path string) (loc []fieldpath.Step, ok bool) {
	if !strings.HasPrefix(path, "$") {
		return nil, false
	}
	s := path[1:]
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, `."`):
			end := closingQuote(s[1:])
			if end < 0 {
				return nil, false
			}
			var name string // quoted names are JSON strings
			if json.Unmarshal([]byte(s[1:end+2]), &name) != nil {
				return nil, false
			}
			loc = append(loc, fieldpath.Key(name))
			s = s[end+2:]
		case s[0] == '.':
			n := 1
			for n < len(s) && s[n] != '.' && s[n] != '[' {
				n++
			}
			loc = append(loc, fieldpath.Key(s[1:n]))
			s = s[n:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, false
			}
			i, err := strconv.Atoi(s[1:end])
			if err != nil {
				return nil, false
			}
			loc = append(loc, fieldpath.Index(i))
			s = s[end+1:]
		default:
			return nil, false
		}
	}
	return loc, true
}

// closingQuote returns the index of the quote closing the JSON string that
// starts at s[0], or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// URL masks the values of query parameters whose names look like secrets
// (api_key, token, password, secret, signature...) in an origin-form URL.
func (r *Redactor) URL(u string) string {
	path, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	params := strings.Split(query, "&")
	changed := false
	for i, p := range params {
		name, _, hasValue := strings.Cut(p, "=")
		if hasValue && sensitiveParam(name) {
			params[i] = name + "=" + Mask
			changed = true
		}
	}
	if !changed {
		return u
	}
	return path + "?" + strings.Join(params, "&")
}

func sensitiveParam(name string) bool {
	lower := strings.ToLower(name)
	for _, word := range []string{"key", "token", "secret", "password", "passwd", "signature", "sig", "auth", "session"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}
