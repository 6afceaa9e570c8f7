// Package disclog writes the discrepancy log: JSON Lines, one line per
// differing pair, with the request and both responses for the first pairs
// of every discrepancy category and the differences alone for the rest,
// then one line per category with its counts.
//
// Everything recorded goes through a redact.Redactor first (sensitive
// headers, query secrets, configured body fields); long bodies are cut and
// carry the SHA-256 digest and size of the whole body. Memory is bounded by
// the number of categories times the example cap, never by traffic.
//
// It does not decide what differs (compare) or count matches (observe).
package disclog

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/redact"
)

// Version is the log format's version, carried by every category line.
const Version = 1

// DefaultExamples is how many pairs per endpoint and category are logged
// in full unless the spec's report.examples says otherwise.
const DefaultExamples = 5

// DefaultMaxBodyBytes is how much of each body a log line keeps.
const DefaultMaxBodyBytes = 4096

// MaxExamples is how many pairs one run logs in full, over all endpoints
// and categories: the per-category cap alone would let a shadow that
// invents categories log (and show in the HTML report) every pair.
const MaxExamples = 200

// MaxLineDiffs is how many differences a pair line that is not an example
// lists; the rest are counted in MoreDiffs.
const MaxLineDiffs = 10

// MaxRedactBytes is the largest body an example shows: a larger one is
// withheld (its size and SHA-256 only), since redacting it would parse the
// whole document into memory.
const MaxRedactBytes = 1 << 20

// Entry types.
const (
	// TypePair is a line describing one differing pair.
	TypePair = "pair"
	// TypeCategory is a closing line with one category's counts.
	TypeCategory = "category"
)

// Entry is one line of the log.
type Entry struct {
	// Type is TypePair or TypeCategory.
	Type string `json:"type"`
	// Endpoint is the spec endpoint's name.
	Endpoint string `json:"endpoint"`

	// Origin names the recorded request (pair lines).
	Origin string `json:"origin,omitempty"`
	// Categories lists the pair's discrepancy categories (pair lines).
	Categories []string `json:"categories,omitempty"`
	// Example reports that the request and both responses are included,
	// because one of the pair's categories was still under its cap.
	Example bool `json:"example,omitempty"`
	// Request is the mirrored request (examples only).
	Request *Request `json:"request,omitempty"`
	// Prod and Shadow are the two responses (examples only).
	Prod   *Response `json:"prod,omitempty"`
	Shadow *Response `json:"shadow,omitempty"`
	// Diffs are the differences, values redacted (pair lines): at most
	// compare.MaxDiffs on an example, MaxLineDiffs on other lines.
	Diffs []framework.Diff `json:"diffs,omitempty"`
	// MoreDiffs counts the pair's differences not listed in Diffs.
	MoreDiffs int `json:"moreDiffs,omitempty"`

	// Category is the category a TypeCategory line counts.
	Category string `json:"category,omitempty"`
	// Pairs is how many pairs showed the category.
	Pairs int64 `json:"pairs,omitempty"`
	// Examples is how many of them were logged in full.
	Examples int64 `json:"examples,omitempty"`
	// Omitted is how many were logged without request and responses.
	Omitted int64 `json:"omitted,omitempty"`
	// Version is the log format version (category lines).
	Version int `json:"version,omitempty"`
}

// Request is a redacted request.
type Request struct {
	// Method is the HTTP method.
	Method string `json:"method"`
	// URL is the path and query, secret-looking parameters masked.
	URL string `json:"url"`
	// Header holds the request headers, sensitive ones masked.
	Header http.Header `json:"headers,omitempty"`
	// Body is the request body, nil when empty.
	Body *Body `json:"body,omitempty"`
}

// Response is a redacted response, or the transport error in its place.
type Response struct {
	// Status is the HTTP status; 0 when Error is set.
	Status int `json:"status,omitempty"`
	// Header holds the response headers, sensitive ones masked.
	Header http.Header `json:"headers,omitempty"`
	// Body is the response body, nil when empty.
	Body *Body `json:"body,omitempty"`
	// LatencyMs is the time to the whole response, in milliseconds.
	LatencyMs float64 `json:"latencyMs"`
	// Error is the transport failure ("timeout: ..."), empty when answered.
	Error string `json:"error,omitempty"`
}

// Body is a body as logged: text when it is UTF-8, base64 otherwise, cut at
// the cap, with the size and SHA-256 digest of the whole (redacted) body.
type Body struct {
	// Text is the (possibly cut) body when it is valid UTF-8.
	Text string `json:"text,omitempty"`
	// Base64 is the (possibly cut) body otherwise, standard encoding.
	Base64 string `json:"base64,omitempty"`
	// Size is the length of the whole body in bytes.
	Size int `json:"size"`
	// SHA256 is the hex digest of the whole body.
	SHA256 string `json:"sha256"`
	// Truncated reports that Text or Base64 holds only the first bytes.
	Truncated bool `json:"truncated,omitempty"`
	// CutAtCapture reports that the body was already cut by
	// mirror.maxBodyBytes when it was received.
	CutAtCapture bool `json:"cutAtCapture,omitempty"`
	// Decoded names the Content-Encoding undone before logging (gzip,
	// br...): Text or Base64 hold the decoded body, Size and SHA256
	// describe it.
	Decoded string `json:"decoded,omitempty"`
	// Withheld says why the body is not shown at all (it could not be
	// decoded or parsed for redaction): only Size and SHA256 of the body
	// as received are kept.
	Withheld string `json:"withheld,omitempty"`
}

// Options tune a Writer.
type Options struct {
	// Examples is the number of pairs per endpoint and category logged in
	// full (DefaultExamples when <= 0).
	Examples int
	// MaxBodyBytes caps each logged body (DefaultMaxBodyBytes when <= 0).
	MaxBodyBytes int
	// Redactor hides secrets (redact.Default() when nil).
	Redactor *redact.Redactor
}

type key struct{ endpoint, category string }

type counts struct{ pairs, examples int64 }

// Writer writes the log. It is safe for concurrent use; Add may be used
// directly as a runner.Observer.
type Writer struct {
	mu       sync.Mutex
	out      *bufio.Writer
	opt      Options
	counts   map[key]*counts
	examples []Entry // at most MaxExamples
	err      error
}

// NewWriter returns a Writer on w (io.Discard keeps only the in-memory
// examples, for the HTML report).
func NewWriter(w io.Writer, opt Options) *Writer {
	if opt.Examples <= 0 {
		opt.Examples = DefaultExamples
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.Redactor == nil {
		opt.Redactor = redact.Default()
	}
	return &Writer{out: bufio.NewWriter(w), opt: opt, counts: map[key]*counts{}}
}

// Add logs one compared pair; a pair without differences is not logged.
func (w *Writer) Add(pair *framework.Pair, diffs []framework.Diff) {
	if len(diffs) == 0 {
		return
	}
	red := w.opt.Redactor
	e := Entry{Type: TypePair, Endpoint: pair.Endpoint, Origin: pair.Exchange.Origin, MoreDiffs: pair.MoreDiffs}
	// The aggregates' names (folded, capped) when the runner has them.
	e.Categories = pair.Categories
	if len(e.Categories) == 0 {
		seen := map[string]bool{}
		for _, d := range diffs {
			if c := d.Category(); !seen[c] {
				seen[c] = true
				e.Categories = append(e.Categories, c)
			}
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range e.Categories {
		n := w.counts[key{pair.Endpoint, c}]
		if n == nil {
			n = &counts{}
			w.counts[key{pair.Endpoint, c}] = n
		}
		n.pairs++
		if n.examples < int64(w.opt.Examples) && len(w.examples) < MaxExamples {
			n.examples++
			e.Example = true
		}
	}
	listed := diffs
	if !e.Example && len(listed) > MaxLineDiffs {
		e.MoreDiffs += len(listed) - MaxLineDiffs
		listed = listed[:MaxLineDiffs]
	}
	for _, d := range listed {
		d.Prod = red.Value(d.Path, d.Prod)
		d.Shadow = red.Value(d.Path, d.Shadow)
		if e.Example {
			d.Excerpt = red.Value(d.Path, d.Excerpt)
		} else {
			d.Excerpt = "" // examples only: the log's size must not grow by excerpts per pair
		}
		e.Diffs = append(e.Diffs, d)
	}
	if e.Example {
		req := &pair.Exchange.Request
		e.Request = &Request{Method: req.Method, URL: red.URL(req.URL), Header: red.Header(req.Header), Body: w.body(req.Header, req.Body, false)}
		e.Prod = w.response(&pair.Prod)
		e.Shadow = w.response(&pair.Shadow)
		w.examples = append(w.examples, e)
	}
	w.write(e)
}

func (w *Writer) response(r *framework.Response) *Response {
	out := &Response{LatencyMs: float64(r.Latency) / float64(time.Millisecond)}
	if r.Failed() {
		out.Error = r.ErrKind
		if r.Err != nil {
			out.Error = r.ErrKind + ": " + r.Err.Error()
		}
		return out
	}
	out.Status = r.Status
	out.Header = w.opt.Redactor.Header(r.Header)
	out.Body = w.body(r.Header, r.Body, r.Truncated)
	return out
}

func (w *Writer) body(header http.Header, b []byte, cutAtCapture bool) *Body {
	if len(b) == 0 {
		return nil
	}
	if len(b) > MaxRedactBytes {
		// Redaction parses the whole document into memory (a dense 10 MB
		// array takes hundreds of MB), and the log keeps only its first
		// bytes anyway.
		sum := sha256.Sum256(b)
		return &Body{Size: len(b), SHA256: hex.EncodeToString(sum[:]), CutAtCapture: cutAtCapture,
			Withheld: fmt.Sprintf("%s: larger than %d bytes, not parsed for redaction", redact.ErrWithheld, MaxRedactBytes)}
	}
	redacted, decoded, err := w.opt.Redactor.BodyOf(header, b)
	if err != nil {
		sum := sha256.Sum256(b)
		return &Body{Size: len(b), SHA256: hex.EncodeToString(sum[:]), CutAtCapture: cutAtCapture, Withheld: err.Error()}
	}
	b = redacted
	sum := sha256.Sum256(b)
	out := &Body{Size: len(b), SHA256: hex.EncodeToString(sum[:]), CutAtCapture: cutAtCapture, Decoded: decoded}
	kept := b
	if len(kept) > w.opt.MaxBodyBytes {
		kept = kept[:w.opt.MaxBodyBytes]
		out.Truncated = true
	}
	if utf8.Valid(b) {
		for len(kept) > 0 && !utf8.Valid(kept) { // do not split a rune
			kept = kept[:len(kept)-1]
		}
		out.Text = string(kept)
	} else {
		out.Base64 = base64.StdEncoding.EncodeToString(kept)
	}
	return out
}

func (w *Writer) write(e Entry) {
	if w.err != nil {
		return
	}
	line, err := json.Marshal(e)
	if err == nil {
		line = append(line, '\n')
		_, err = w.out.Write(line)
	}
	w.err = err
}

// Examples returns the pairs logged in full so far, in log order.
func (w *Writer) Examples() []Entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Entry(nil), w.examples...)
}

// Close writes one category line per endpoint and category (sorted) with
// its counts, flushes, and returns the first write error.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.summary() {
		w.write(e)
	}
	if w.err == nil {
		w.err = w.out.Flush()
	}
	return w.err
}

func (w *Writer) summary() []Entry {
	keys := make([]key, 0, len(w.counts))
	for k := range w.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].endpoint != keys[j].endpoint {
			return keys[i].endpoint < keys[j].endpoint
		}
		return keys[i].category < keys[j].category
	})
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		n := w.counts[k]
		out = append(out, Entry{Type: TypeCategory, Endpoint: k.endpoint, Category: k.category, Pairs: n.pairs, Examples: n.examples, Omitted: n.pairs - n.examples, Version: Version})
	}
	return out
}

// Read calls fn for every entry of a log, in order. A malformed line stops
// with an error naming the line.
func Read(r io.Reader, name string, fn func(Entry) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		if e.Type != TypePair && e.Type != TypeCategory {
			return fmt.Errorf("%s: line %d: type %q: want %q or %q", name, line, e.Type, TypePair, TypeCategory)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	return nil
}

// String returns the body as displayable text: the text itself, or the
// base64 form marked as such.
func (b *Body) String() string {
	if b == nil {
		return ""
	}
	if b.Withheld != "" {
		return fmt.Sprintf("(body withheld: %s; %d bytes, sha256 %s)", b.Withheld, b.Size, b.SHA256)
	}
	if b.Base64 != "" {
		return "base64:" + b.Base64
	}
	return b.Text
}
