// Package redact hides secrets where they stand before anything recorded is
// written out: the values of sensitive headers, cookies, query parameters,
// form fields, JSON members, XML elements and attributes and HTML
// attributes (by name, see scrub.Names), the values of name/value pairs
// whose name is secret (see isLabel), string literals a script assigns to
// a secret name (see scriptText), the body paths a spec lists under
// report.redact, and bodies that cannot be parsed for those rules
// (withheld: size and SHA-256 only).
//
// Every value it masks is also registered with the run's scrub.Scrubber,
// which removes it, by value, from every byte of every output: a token the
// shadow echoes somewhere else is caught there too. Every output that
// carries recorded bytes (the discrepancy log, the results' examples, the
// JUnit, the HTML report) goes through one Redactor. It does not escape
// anything for a particular format; each writer does.
package redact

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// Mask replaces every redacted value.
const Mask = scrub.Mask

// sensitiveHeaders are always redacted, whatever the spec says; names
// whose words look secret (scrub.Names) are redacted too.
var sensitiveHeaders = [...]string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Key", "Api-Key", "X-Auth-Token", "X-Csrf-Token", "X-Amz-Security-Token",
}

// SensitiveHeaders returns the headers that are always redacted, whatever
// the spec says (a copy: the list cannot be changed at run time).
func SensitiveHeaders() []string { return append([]string(nil), sensitiveHeaders[:]...) }

// MaxDecodedBytes bounds the decoded size of a body that is redacted; a
// body that decodes to more is withheld.
const MaxDecodedBytes = 16 << 20

// Options configure a Redactor.
type Options struct {
	// Paths are the spec's report.redact paths: body paths are masked in
	// JSON bodies and in differences, header paths add sensitive headers.
	Paths []string
	// Names are more secret names, matched by words (report.secrets.names).
	Names []string
	// Allow are names that look secret but are not (report.secrets.allow).
	Allow []string
	// Scrubber, when set, receives every value masked, so that it is
	// removed wherever else it appears.
	Scrubber *scrub.Scrubber
}

// Redactor hides sensitive headers and body fields. The zero value is not
// usable; build one with New or Build. A Redactor is safe for concurrent
// use.
type Redactor struct {
	headers map[string]bool
	body    fieldpath.Set
	keyed   []string // key members named by [field=value] in body paths
	names   *scrub.Names
	values  *scrub.Scrubber
	// extraNames is set when the spec adds secret names: a script is
	// then lexed whatever words it holds.
	extraNames bool
	// batch is set on the copy that learns what one request carries
	// (Learn): its values take the scrubber's room for them (AddSent),
	// at most scrub.RequestValues of them.
	batch *scrub.Batch
}

// New returns a Redactor for the spec's report.redact paths.
func New(paths []string) (*Redactor, error) { return Build(Options{Paths: paths}) }

// Build returns a Redactor for opt.
func Build(opt Options) (*Redactor, error) {
	r := &Redactor{headers: map[string]bool{}, names: scrub.NewNames(opt.Names, opt.Allow), values: opt.Scrubber, extraNames: len(opt.Names) > 0}
	for _, h := range sensitiveHeaders {
		r.headers[http.CanonicalHeaderKey(h)] = true
	}
	var body []fieldpath.Path
	keyed := map[string]bool{}
	for _, s := range opt.Paths {
		p, err := fieldpath.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("report.redact: %w", err)
		}
		if p.IsHeader() {
			r.headers[p.Header()] = true
			continue
		}
		body = append(body, p)
		for _, label := range p.KeyedLabels() {
			if field, _, _, ok := label.KeyedBy(); ok && !keyed[field] {
				keyed[field] = true
				r.keyed = append(r.keyed, field)
			}
		}
	}
	r.body = fieldpath.NewSet(body...)
	return r, nil
}

// Default redacts sensitive headers and secret names only.
func Default() *Redactor {
	r, _ := New(nil)
	return r
}

// Names returns the names the Redactor treats as secret.
func (r *Redactor) Names() *scrub.Names { return r.names }

// IsSensitiveHeader reports whether a header's values are hidden: the
// always-redacted headers, header paths of report.redact, and names whose
// words look secret (X-Authorization, Api_Key, X-Session-Id).
func (r *Redactor) IsSensitiveHeader(name string) bool {
	return r.headers[http.CanonicalHeaderKey(name)] || r.names.Secret(name)
}

// learn registers a masked value (and the credential inside a scheme,
// Basic credentials decoded) with the scrubber.
func (r *Redactor) learn(value string) {
	if r.values == nil || len(value) < scrub.MinLen || bareScheme(value) {
		return
	}
	add := r.values.Add
	if r.batch != nil {
		add = r.batch.Add
	}
	add(value)
	scheme, cred, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	add(cred)
	if strings.EqualFold(scheme, "Basic") {
		if plain, err := base64.StdEncoding.DecodeString(cred); err == nil {
			add(string(plain))
			if _, password, ok := strings.Cut(string(plain), ":"); ok {
				add(password)
			}
		}
	}
}

// bareScheme reports whether value is an authentication scheme without
// credentials ("Bearer ", which a logged-out browser app sends, or
// "Bearer ${SHADOW_TOKEN:-}" with the variable unset): learned, it masked
// the scheme's name in every output (WWW-Authenticate: Bearer realm=...,
// "token_type":"Bearer ").
func bareScheme(value string) bool {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "bearer", "digest", "negotiate", "basic", "token", "apikey":
		return true
	}
	return false
}

// learnCookies registers the values of a Cookie or Set-Cookie header.
func (r *Redactor) learnCookies(value string) {
	for part := range strings.SplitSeq(value, ";") {
		if _, v, ok := strings.Cut(part, "="); ok {
			r.learn(strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
}

// Header returns a copy of h with the values of sensitive headers masked
// and, in every other header, URL credentials and the values of secret
// query parameters (Referer: ...?token=, Location: ...?access_token=).
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		masked := make([]string, len(values))
		for i, v := range values {
			masked[i] = r.headerValue(name, v)
		}
		out[name] = masked
	}
	return out
}

// headerValue learns the secrets of one value of header name and returns
// it as printed: Mask for a sensitive header or a value shaped like a
// credential (credentialValue), else the value with URL credentials and
// secret query parameters masked.
func (r *Redactor) headerValue(name, value string) string {
	if !r.IsSensitiveHeader(name) && !credentialValue(value) {
		return r.Text(value)
	}
	r.learn(value)
	if strings.EqualFold(name, "Cookie") || strings.EqualFold(name, "Set-Cookie") {
		r.learnCookies(value)
	}
	return Mask
}

// learnHeader learns what Header would mask in h, without building the
// masked copy: it runs for every header of every pair.
func (r *Redactor) learnHeader(h http.Header) {
	for name, values := range h {
		for _, v := range values {
			r.headerValue(name, v)
		}
	}
}

// learnCredentials learns the whole values of h's sensitive headers,
// Authorization, Proxy-Authorization and Cookie first, then the others
// by name: ranging over the map, a Cookie of 300 cookies or 300 other
// credential-shaped headers came before Authorization about half the
// time and took the request's room (scrub.RequestValues), so its token
// was not learned. The Cookie header's cookies come next, before the
// other headers.
func (r *Redactor) learnCredentials(h http.Header) {
	names := make([]string, 0, 4)
	for name := range h {
		if r.IsSensitiveHeader(name) {
			names = append(names, name)
		}
	}
	rank := func(name string) int {
		switch {
		case strings.EqualFold(name, "Authorization"):
			return 0
		case strings.EqualFold(name, "Proxy-Authorization"):
			return 1
		case strings.EqualFold(name, "Cookie"):
			return 2
		}
		return 3
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		for _, v := range h[name] {
			r.learn(v)
		}
	}
	for _, name := range names {
		if strings.EqualFold(name, "Cookie") {
			for _, v := range h[name] {
				r.learnCookies(v) // a session cookie before other headers' values
			}
		}
	}
}

// Learn registers the secrets of a request (sensitive headers, cookies,
// URL credentials, secret query parameters and form or JSON fields) and of
// responses (sensitive headers, Set-Cookie) with the scrubber, so that an
// echo of them anywhere is scrubbed. A request teaches at most
// scrub.RequestValues values (the Scrubber's Capped counts the rest, still
// masked by name where they stand). It writes nothing.
func (r *Redactor) Learn(req *framework.Request, responses ...*framework.Response) {
	if r.values == nil {
		return
	}
	if req != nil {
		// What a request carries keeps its room in the scrubber: answers
		// cannot crowd it out (scrub.SentRoom), and one request (a bulk
		// upload of 20,000 passwords) cannot fill it for the later ones
		// (scrub.RequestValues). Its credential headers come first, in a
		// fixed order, then its other headers.
		s := *r
		s.batch = r.values.Batch()
		s.learnCredentials(req.Header)
		s.learnHeader(req.Header)
		s.URL(req.URL)
		if len(req.Body) > 0 && len(req.Body) <= 1<<20 {
			s.BodyOf(req.Header, req.Body)
		}
	}
	for _, resp := range responses {
		if resp != nil {
			r.learnHeader(resp.Header)
		}
	}
}

// Body returns body with the configured fields and secret names masked when
// it is a JSON document; otherwise it returns body unchanged. Use BodyOf
// when the headers are known.
func (r *Redactor) Body(body []byte) []byte {
	out, _ := r.value(body, nil)
	return out
}

// ErrWithheld says a body was not printed: it could not be decoded or
// parsed, so the redaction rules could not be applied to it.
var ErrWithheld = errors.New("withheld")

// BodyOf returns a body ready to print: its Content-Encoding undone, then
// JSON members and form fields masked by the report.redact paths and by
// name, XML elements and attributes, HTML attributes and scripts,
// JavaScript by name, and plain text (text/*, YAML, no Content-Type) by
// the text rule (textPairs). decoded names the encoding undone ("" when none). When the body
// cannot be decoded, or is JSON, XML or a form (by Content-Type or by its
// first bytes) that cannot be parsed (a BOM, several documents, too deep, a bad
// escape), it returns an error wrapping ErrWithheld saying why, and the
// body must not be printed: only its size and digest.
func (r *Redactor) BodyOf(header http.Header, body []byte) (out []byte, decoded string, err error) {
	if len(body) == 0 {
		return body, "", nil
	}
	if enc := header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		plain, err := framework.DecodeContent(header, body, MaxDecodedBytes)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cannot decode (%v)", ErrWithheld, err)
		}
		body, decoded = plain, strings.ToLower(enc)
	}
	media, params, _ := mime.ParseMediaType(header.Get("Content-Type"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case strings.HasPrefix(media, "multipart/"):
		out, err := r.multipartBody(body, params["boundary"])
		if err != nil {
			return nil, decoded, fmt.Errorf("%w: multipart body does not parse (%v)", ErrWithheld, err)
		}
		return out, decoded, nil
	case media == "application/x-www-form-urlencoded":
		out, err := r.form(body)
		if err != nil {
			r.params(string(body), "&") // what looks secret is still learned
			return nil, decoded, fmt.Errorf("%w: form body does not parse (%v)", ErrWithheld, err)
		}
		return out, decoded, nil
	case strings.HasSuffix(media, "json") || strings.HasSuffix(media, "+json") || media == "application/json-seq" ||
		!csvMedia(media) && (len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[' || trimmed[0] == 0x1e) || bytes.HasPrefix(body, []byte("\xef\xbb\xbf"))):
		// A table (text/csv) is read as one whatever its first bytes: Excel
		// writes a BOM before the header, and a header may start with "[".
		// A JSON text sequence (RFC 7464: records after 0x1E) is several
		// documents: withheld below, as JSON Lines are, never shown as text.
		out, err := r.document(body)
		if err != nil {
			r.learnDocuments(body) // a shadow may echo it: what is secret is still learned
			return nil, decoded, fmt.Errorf("%w: JSON body does not parse as one document (%v)", ErrWithheld, err)
		}
		return out, decoded, nil
	case isXML(media) || media == "" && bytes.HasPrefix(trimmed, []byte("<?xml")):
		out, err := r.xmlDocument(body)
		if err != nil {
			return nil, decoded, fmt.Errorf("%w: XML body does not parse as one document (%v)", ErrWithheld, err)
		}
		return out, decoded, nil
	case media == "" && len(trimmed) > 0 && trimmed[0] == '<':
		// Markup without a Content-Type (a SOAP envelope recorded without
		// headers): masked as XML when it is XML, else left as text, as
		// bodyText does.
		if out, err := r.xmlDocument(body); err == nil {
			return out, decoded, nil
		}
		return r.htmlDocument(body), decoded, nil
	case media == "text/html":
		return r.htmlDocument(body), decoded, nil
	case media == "text/javascript" || media == "application/javascript" || strings.HasSuffix(media, "ecmascript"):
		out, _ := r.scriptText(body)
		return out, decoded, nil
	case media == "" && looksLikeForm(string(trimmed)):
		// No Content-Type: name=value pairs are masked as in a form.
		return []byte(r.params(string(body), "&")), decoded, nil
	case media == "" && utf8.Valid(body) || strings.HasPrefix(media, "text/") || strings.HasSuffix(media, "yaml") || csvMedia(media):
		// Plain text: token=..., api_key: ..., Authorization: Bearer ...
		// (bytes without a Content-Type that are not UTF-8 are data, left
		// as they are). A table (CSV) has its secret columns masked first.
		out, _ := r.csvTable(body, !csvMedia(media))
		out, _ = r.textPairs(out)
		// URL credentials, secret query parameters, escaped known secrets,
		// credentials by shape ("rejected Bearer …", a JWT in a log line).
		out = []byte(r.Text(string(out)))
		return out, decoded, nil
	}
	return body, decoded, nil
}

// document masks one JSON document, or returns why it cannot.
func (r *Redactor) document(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() || dec.InputOffset() < int64(len(bytes.TrimRight(body, " \t\r\n"))) {
		return nil, errors.New("more than one document")
	}
	v, changed := r.walk(v, nil)
	if labelledPair(v) && !jsontext.Value(body).IsValid(jsontext.AllowInvalidUTF8(true)) {
		// A name given twice in an object: the decoded object kept the last
		// label ({"name":"token","value":"...","name":"x"}), so its pair
		// was not masked, and the body as written still shows it.
		return nil, errPairHidden
	}
	if !changed && bytes.IndexByte(body, '\\') >= 0 {
		// A string written with escapes ("\u0041" for "A") hides a secret
		// known by value from the scrubber, which matches bytes: what
		// decodes to one is masked, and the body written again.
		v, changed = r.maskKnown(v)
	}
	if !changed {
		return body, nil
	}
	return json.Marshal(v)
}

// maskKnown masks the secrets known by value in the member names and
// string leaves of a decoded JSON document.
func (r *Redactor) maskKnown(v any) (any, bool) {
	if r.values == nil || r.values.Len() == 0 {
		return v, false
	}
	changed := false
	switch t := v.(type) {
	case string:
		if s := r.values.String(t); s != t {
			return s, true
		}
	case map[string]any:
		for k, child := range t {
			if nv, c := r.maskKnown(child); c {
				t[k], changed = nv, true
			}
			if masked := r.values.String(k); masked != k {
				child := t[k]
				delete(t, k)
				t[masked], changed = child, true
			}
		}
	case []any:
		for i, child := range t {
			if nv, c := r.maskKnown(child); c {
				t[i], changed = nv, true
			}
		}
	}
	return v, changed
}

// errPairHidden: a JSON document with name/value pairs gives a member
// name twice in an object, which may hide a pair's secret label.
var errPairHidden = errors.New("an object gives a member name twice, in a document with name/value pairs: a label given twice may hide a secret")

// labelledPair reports whether v holds an object with a label member
// (isLabel) and an unmasked value member (isValue): the pairs whose
// label a member given twice may hide.
func labelledPair(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		label, value := false, false
		for k, child := range t {
			if isLabel(k) {
				label = true
			} else if isValue(k) && child != Mask {
				value = true
			}
			if labelledPair(child) {
				return true
			}
		}
		return label && value
	case []any:
		for _, child := range t {
			if labelledPair(child) {
				return true
			}
		}
	}
	return false
}

// learnDocuments walks the JSON documents of a body that document refused
// (a BOM before it, several documents one after the other) so that the
// values it would have masked are learned by value; it stops at the first
// thing that does not parse.
func (r *Redactor) learnDocuments(body []byte) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))))
	dec.UseNumber()
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			return
		}
		r.walk(v, nil)
	}
}

// form masks the values of secret fields of a form-encoded body.
func (r *Redactor) form(body []byte) ([]byte, error) {
	if _, err := url.ParseQuery(string(body)); err != nil {
		return nil, err
	}
	return []byte(r.params(string(body), "&")), nil
}

// params masks the values of secret names in name=value pairs separated by
// sep, keeping everything else as written; and the values of pairs whose
// label names a secret (name=password&value=..., p[0][key]=token&p[0][value]=...);
// then the runs that percent-decode to a known secret (percentKnown).
func (r *Redactor) params(s, sep string) string {
	return r.percentKnown(r.secretParams(s, sep))
}

// secretParams is params without percentKnown, for Text, which runs
// percentKnown over the whole text once its queries are masked.
func (r *Redactor) secretParams(s, sep string) string {
	secret, pairs := r.scanParams(s, sep)
	if !secret {
		return s // most queries and forms: nothing to split, learn or build
	}
	parts := strings.Split(s, sep)
	changed := false
	for i, p := range parts {
		name, value, ok := strings.Cut(p, "=")
		if !ok || value == "" {
			continue
		}
		if !r.names.Secret(name) {
			if pairs == nil {
				continue
			}
			if prefix, last := formField(name); !pairs[prefix] || !isValue(last) {
				continue
			}
		}
		if plain, err := url.QueryUnescape(value); err == nil {
			r.learn(plain)
		}
		r.learn(value)
		parts[i] = name + "=" + Mask
		changed = true
	}
	if !changed {
		return s
	}
	return strings.Join(parts, sep)
}

// scanParams reports whether one of the name=value pairs of s that params
// masks has a secret name or is the value of a secret pair, and the
// prefixes of the pairs whose label names a secret (see formField).
func (r *Redactor) scanParams(s, sep string) (secret bool, pairs map[string]bool) {
	for p := range strings.SplitSeq(s, sep) {
		name, value, ok := strings.Cut(p, "=")
		if !ok || value == "" {
			continue
		}
		if r.names.Secret(name) {
			secret = true
		}
		if !isLabel(name) && !mayBeGrouped(name) {
			continue // not a label: formField would say so, at a cost per parameter
		}
		if prefix, last := formField(name); isLabel(last) {
			if plain, err := url.QueryUnescape(value); err == nil && r.secretLabel(plain) {
				if pairs == nil {
					pairs = map[string]bool{}
				}
				pairs[prefix], secret = true, true
			}
		}
	}
	return secret, pairs
}

// mayBeGrouped reports whether a form field's name may have a prefix
// (formField): it holds ".", "]" or a percent-escape.
func mayBeGrouped(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '.' || c == ']' || c == '%' {
			return true
		}
	}
	return false
}

// formField splits a form field's name, percent-decoded, into the prefix
// that groups a pair's fields and its last part: "p[0][name]" gives "p[0]"
// and "name", "header.value" gives "header" and "value", "name" gives ""
// and "name".
func formField(name string) (prefix, last string) {
	if strings.ContainsAny(name, "%+") {
		if plain, err := url.QueryUnescape(name); err == nil {
			name = plain
		}
	}
	if strings.HasSuffix(name, "]") {
		if i := strings.LastIndexByte(name, '['); i >= 0 {
			return name[:i], name[i+1 : len(name)-1]
		}
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// Value masks a rendered value found at path (a concrete location such as
// "$.user" or "header:Set-Cookie"): entirely when the location is redacted
// or named like a secret, inside it when it is a JSON value holding
// redacted fields; URL credentials and secret parameters in other text.
func (r *Redactor) Value(path, value string) string {
	if value == "" {
		return value
	}
	if name, ok := headerName(path); ok {
		if r.IsSensitiveHeader(name) {
			r.learn(value)
			return Mask
		}
		return r.Text(value)
	}
	loc, ok := fieldpath.ParseLocation(path)
	if !ok {
		return r.bodyText(value)
	}
	if r.redacted(loc) {
		r.learnJSON(value)
		return Mask
	}
	out, changed := r.value([]byte(value), loc)
	if !changed {
		var s string
		if strings.HasPrefix(value, `"`) && json.Unmarshal([]byte(value), &s) == nil && credentialString(s) {
			r.learn(s) // a difference at a string shaped like a credential
			return Mask
		}
		return r.Text(value)
	}
	return string(out)
}

// headerName returns the header a difference's path names, parsed by
// fieldpath; a header name fieldpath rejects is still a header.
func headerName(path string) (string, bool) {
	if p, err := fieldpath.Parse(path); err == nil {
		return p.Header(), p.IsHeader()
	}
	return strings.CutPrefix(path, "header:")
}

// bodyText masks a whole body shown as text (the "body" of a pair whose
// bodies are not compared as JSON): a JSON document or a form is masked
// like BodyOf does, and one that does not parse is withheld.
func (r *Redactor) bodyText(value string) string {
	trimmed := strings.TrimLeft(strings.TrimPrefix(value, "\ufeff"), " \t\r\n")
	switch {
	case trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') || len(trimmed) < len(value) && strings.HasPrefix(value, "\ufeff"):
		out, err := r.document([]byte(value))
		if err != nil {
			return withheld([]byte(value), "JSON text does not parse as one document")
		}
		return string(out)
	case looksLikeForm(trimmed):
		return r.params(trimmed, "&")
	case strings.HasPrefix(trimmed, "<"):
		out, err := r.xmlDocument([]byte(value))
		switch {
		case err == nil:
			return r.Text(string(out))
		case strings.HasPrefix(trimmed, "<?xml"):
			return withheld([]byte(value), "XML text does not parse as one document")
		}
		// Markup that is not XML (an HTML page): masked as HTML, then as text.
	}
	if strings.Contains(value, "<") {
		value = string(r.htmlDocument([]byte(value))) // a line of an HTML page
	}
	// A line of a script (window.csrfToken = "...") or of any text that
	// assigns a string to a secret name: the script rule.
	if out, ok := r.scriptText([]byte(value)); ok {
		value = string(out)
	}
	// A line of plain text: token=..., Authorization: Bearer ...
	if out, ok := r.textPairs([]byte(value)); ok {
		value = string(out)
	}
	return r.Text(value)
}

// Message returns free text ready to print or record (an RPC's status
// message, an error a target sent): the text rule (token=…,
// Authorization: Bearer …), credentials by shape ("rejected Bearer …", a
// JWT), URL credentials and secret query parameters masked, and the
// secrets known by value scrubbed.
func (r *Redactor) Message(s string) string {
	return r.values.String(r.messageText(s))
}

// messageText is Message without the scrubber's pass: the text rules,
// which learn what they mask.
func (r *Redactor) messageText(s string) string {
	if out, ok := r.textPairs([]byte(s)); ok {
		s = string(out)
	}
	return r.Text(s)
}

// looksLikeForm reports whether text could be a form-encoded body:
// name=value pairs without white space.
func looksLikeForm(text string) bool {
	return strings.Contains(text, "=") && !strings.ContainsAny(text, " \t\r\n{}<>\"")
}

// withheld is what is shown instead of a value that cannot be redacted.
func withheld(b []byte, why string) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("(withheld: %s; %d bytes, sha256 %s)", why, len(b), hex.EncodeToString(sum[:8]))
}

// redacted reports whether the value at loc is hidden: a report.redact
// path matches it, or one of its member names is a secret.
func (r *Redactor) redacted(loc []fieldpath.Step) bool {
	if len(loc) == 0 {
		return false
	}
	if last := loc[len(loc)-1]; !last.IsIndex && r.names.Secret(last.Key) || r.pairValueStep(loc) {
		return true
	}
	return r.body.Match(loc)
}

// learnJSON registers a masked value: a JSON string's content, or the
// text.
func (r *Redactor) learnJSON(value string) {
	var s string
	if json.Unmarshal([]byte(value), &s) == nil {
		r.learn(s)
		return
	}
	r.learn(value)
}

// value masks the redacted fields of a JSON document found at loc.
func (r *Redactor) value(doc []byte, loc []fieldpath.Step) ([]byte, bool) {
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
	if r.redacted(loc) {
		r.learnAny(v)
		return Mask, true
	}
	changed := false
	switch t := v.(type) {
	case map[string]any:
		pair := false           // a label member names a secret: the pair rule (pairs.go)
		var valueKeys [2]string // the members that hold the pair's value
		values := valueKeys[:0]
		for k, child := range t {
			if isLabel(k) {
				if s, ok := child.(string); ok && r.secretLabel(s) {
					pair = true
				}
			} else if isValue(k) {
				values = append(values, k)
			}
			if nv, c := r.walk(child, append(loc, fieldpath.Key(k))); c {
				t[k], changed = nv, true
			}
		}
		if pair {
			for _, k := range values {
				r.learnPairJSON(t[k]) // {"name":"Cookie","value":"..."}
				t[k], changed = Mask, true
			}
		}
	case []any:
		if element := len(loc) > 0 && loc[len(loc)-1].IsIndex; element && r.secretTuple(t) {
			for i := 1; i < len(t); i++ { // [["Authorization","Bearer ..."]], [["Cookie","a=...","b=..."]]
				r.learnPairJSON(t[i])
				t[i], changed = Mask, true
			}
		} else if len(loc) == 0 && r.loneTuple(t) {
			for i := 1; i < len(t); i++ { // ["Authorization","Bearer ..."], ["Cookie","a=...","b=..."]: the whole document
				r.learnPair(t[i].(string))
				t[i], changed = Mask, true
			}
		}
		for i, child := range t {
			if nv, c := r.walk(child, append(loc, r.elementStep(i, child))); c {
				t[i], changed = nv, true
			}
		}
	case string:
		if credentialString(t) { // {"a":"Bearer ..."}, a JWT: masked whatever the member's name
			r.learn(t)
			return Mask, true
		}
		if text, ok := r.carried(t); ok { // JSON or a form carried as text
			return text, true
		}
		if text := r.Text(t); text != t {
			return text, true
		}
	}
	return v, changed
}

// elementStep is the step into element i of an array: the keyed-set
// element [field=value] when a report.redact path names elements by a key
// member the element has, so that $.users[id=7].password is found in a
// document, else the index.
func (r *Redactor) elementStep(i int, elem any) fieldpath.Step {
	obj, ok := elem.(map[string]any)
	if !ok {
		return fieldpath.Index(i)
	}
	for _, field := range r.keyed {
		switch k := obj[field].(type) {
		case string:
			return fieldpath.KeyedIndex(i, field, k, true)
		case json.Number:
			return fieldpath.KeyedIndex(i, field, k.String(), false)
		case bool:
			return fieldpath.KeyedIndex(i, field, fmt.Sprint(k), false)
		}
	}
	return fieldpath.Index(i)
}

// learnAny registers the string leaves of a masked JSON value.
func (r *Redactor) learnAny(v any) { jsonLeaves(v, r.learn) }

// jsonLeaves calls fn with every string and number of a decoded JSON
// value.
func jsonLeaves(v any, fn func(string)) {
	switch t := v.(type) {
	case string:
		fn(t)
	case json.Number:
		fn(t.String())
	case map[string]any:
		for _, c := range t {
			jsonLeaves(c, fn)
		}
	case []any:
		for _, c := range t {
			jsonLeaves(c, fn)
		}
	}
}

// urlInText finds URLs with credentials (scheme://user:pass@) and query
// strings in free text.
var (
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\s"'<>]+)@`)
	query    = regexp.MustCompile(`\?[^\s"'<>#]*`)
)

// Text masks URL credentials and the values of secret query parameters
// wherever they appear in text: a header value (Referer, Location, Link),
// an error message, a string in a body; and there, credentials by their
// shape ("rejected Bearer …: expired", a JWT; see inlineCredentials) and
// secrets known by value written with other percent-escapes (see
// percentKnown).
func (r *Redactor) Text(s string) string {
	if mayHoldCredential(s) {
		if out, ok := r.inlineCredentials([]byte(s)); ok {
			s = string(out)
		}
	}
	if strings.Contains(s, "@") {
		s = userinfo.ReplaceAllStringFunc(s, func(m string) string {
			sub := userinfo.FindStringSubmatch(m)
			r.learn(sub[2])
			if user, pass, ok := strings.Cut(sub[2], ":"); ok {
				r.learn(pass)
				if u, err := url.PathUnescape(pass); err == nil {
					r.learn(u)
				}
				_ = user
			}
			return sub[1] + Mask + "@"
		})
	}
	if strings.Contains(s, "?") && strings.Contains(s, "=") {
		s = query.ReplaceAllStringFunc(s, func(m string) string {
			return "?" + r.secretParams(m[1:], "&") // percentKnown below reads the queries too
		})
	}
	return r.percentKnown(s)
}

// percentKnown masks the runs of s written with percent-escapes
// (%51w01… for a token "Qw01…") that decode to a secret known by value:
// the scrubber matches the escapes url.QueryEscape and url.PathEscape
// write, not every way to write them. A run is what lies between the
// separators of a URL, a query and text ("/", "?", "&", "=", "#", ";",
// ",", white space and quotes).
func (r *Redactor) percentKnown(s string) string {
	if strings.IndexByte(s, '%') < 0 || r.values.Len() == 0 {
		return s
	}
	var b strings.Builder
	copied := 0
	for i := 0; i < len(s); {
		if percentSeparator(s[i]) {
			i++
			continue
		}
		start, escaped := i, false
		for i < len(s) && !percentSeparator(s[i]) {
			escaped = escaped || s[i] == '%'
			i++
		}
		if !escaped {
			continue
		}
		decoded := percentDecode(s[start:i])
		known := r.knownIn(decoded)
		if !known && strings.IndexByte(decoded, '%') >= 0 {
			// Escaped twice: a URL carried in another URL's query
			// (%2541 for %41, for A).
			known = r.knownIn(percentDecode(decoded))
		}
		if !known {
			continue
		}
		b.WriteString(s[copied:start])
		b.WriteString(Mask)
		copied = i
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// percentSeparator reports whether c ends a run that percentKnown decodes.
func percentSeparator(c byte) bool {
	switch c {
	case '/', '?', '&', '=', '#', ';', ',', ' ', '\t', '\r', '\n', '"', '\'', '<', '>':
		return true
	}
	return false
}

// percentDecode undoes the valid percent-escapes of s and keeps
// everything else as written ("%zz" and "+" included): a stray bad escape
// does not hide the rest.
func percentDecode(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			if b == nil {
				b = append(make([]byte, 0, len(s)), s[:i]...)
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		if b != nil {
			b = append(b, s[i])
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// URL masks the values of query parameters whose names look like secrets
// (api_key, token, password, pwd, jwt, tok%65n...) and URL credentials in
// a URL, absolute or in origin form.
func (r *Redactor) URL(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if !ok {
		return r.Text(u)
	}
	query, fragment, hasFragment := strings.Cut(query, "#")
	textBase, masked := r.Text(base), r.params(query, "&")
	if !hasFragment && textBase == base && masked == query {
		return u // nothing masked: no copy
	}
	out := textBase + "?" + masked
	if hasFragment {
		out += "#" + fragment
	}
	return out
}
