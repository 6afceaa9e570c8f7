package traffic

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/shadowtest/shadowtest/framework/scrub"
)

// fieldError reports a problem with one field of a record, for example
// "request.method: missing".
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

// missing reports a required field that is absent or empty.
func missing(field string) error { return fieldError(field, "missing") }

// describeDecodeError turns encoding/json's errors about one record into a
// message that names the field and the expected JSON type.
func describeDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		msg := fmt.Sprintf("want %s, got %s", jsonKind(typeErr.Type), typeErr.Value)
		if typeErr.Field == "" {
			return errors.New(msg)
		}
		return fieldError(typeErr.Field, "%s", msg)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	}
	return err
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Bool:
		return "boolean"
	}
	return t.String()
}

// parseTime parses an optional RFC 3339 timestamp; "" is the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldError(field, "%s is not an RFC 3339 time", scrub.Snippet([]byte(s), nil))
	}
	return t, nil
}

// decodeBase64 decodes a standard, padded base64 body.
func decodeBase64(field, s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fieldError(field, "bad base64: %v", err)
	}
	return nonEmpty(b), nil
}

// nonEmpty returns nil for an empty body, so that "no body" has one
// representation whatever the source.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// checkMethod validates an HTTP method and returns it in upper case.
func checkMethod(field, method string) (string, error) {
	if method == "" {
		return "", missing(field)
	}
	if !isToken(method) {
		return "", fieldError(field, "%s is not an HTTP method", scrub.Snippet([]byte(method), nil))
	}
	return strings.ToUpper(method), nil
}

// originForm reduces a recorded URL to the request target in origin form:
// path and query, without the fragment. A URL that is already in origin
// form (starts with "/") is kept as written; otherwise it must be absolute.
// The path and query keep their recorded escaping.
func originForm(field, raw string) (string, error) {
	if raw == "" {
		return "", missing(field)
	}
	target, _, _ := strings.Cut(raw, "#")
	if strings.ContainsAny(target, " \t\r\n\x00\x7f") {
		return "", fieldError(field, "%s contains white space or control characters", scrub.Snippet([]byte(raw), nil))
	}
	if strings.HasPrefix(target, "/") {
		return target, nil
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fieldError(field, "%s is neither an absolute URL nor a path", scrub.Snippet([]byte(raw), nil))
	}
	_, rest, _ := strings.Cut(target, "://")
	i := strings.IndexAny(rest, "/?")
	if i < 0 {
		return "/", nil
	}
	if rest[i] == '?' {
		return "/" + rest[i:], nil
	}
	return rest[i:], nil
}

// headerList builds an http.Header from recorded name/value pairs,
// validating each one; nil when there are none.
type headerList struct {
	field  string // "request.headers"
	header http.Header
}

// add validates and adds one header; index is its position in a HAR
// array, or -1 for a JSONL object.
func (h *headerList) add(index int, name, value string) error {
	at := h.field
	if index >= 0 {
		at = fmt.Sprintf("%s[%d]", h.field, index)
		if name == "" {
			return missing(at + ".name")
		}
	}
	if !isToken(name) {
		return fieldError(at, "%s is not a valid header name", scrub.Snippet([]byte(name), nil))
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fieldError(at, "value of %s contains CR, LF or NUL", name)
	}
	if h.header == nil {
		h.header = http.Header{}
	}
	h.header.Add(name, value)
	return nil
}

// hopByHop lists the headers that describe one connection, not the
// request, plus Host (the target decides it) and Content-Length (the
// client computes it from the body, which a recording may have re-encoded).
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Host", "Content-Length",
}

// requestHost returns the Host a request was recorded with: its Host
// header, else fallback (a HAR's ":authority", a raw request's Host line);
// empty when there is none or when it is not a valid Host, in which case
// the targets get the host of their own url.
func requestHost(h http.Header, fallback string) string {
	host := strings.TrimSpace(h.Get("Host"))
	if host == "" {
		host = strings.TrimSpace(fallback)
	}
	if !httpguts.ValidHostHeader(host) {
		return ""
	}
	return host
}

// cleanRequestHeader removes the headers a replayed request must not
// carry: hop-by-hop headers, those named by Connection, Host and
// Content-Length. It returns nil when nothing is left.
func cleanRequestHeader(h http.Header) http.Header {
	for _, listed := range h.Values("Connection") {
		for name := range strings.SplitSeq(listed, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
	return nilIfEmpty(h)
}

func nilIfEmpty(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	return h
}

// isPseudoHeader reports an HTTP/2 or HTTP/3 pseudo-header such as
// ":authority", which some tools record alongside the real headers.
func isPseudoHeader(name string) bool { return strings.HasPrefix(name, ":") }

// isToken reports whether s is a non-empty RFC 9110 token, the syntax of
// methods and header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChar[c] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// millis converts a recorded latency in milliseconds, rounded to the
// nanosecond so that JSONL round trips are exact.
func millis(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}
