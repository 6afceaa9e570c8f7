package traffic

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// GorSeparator is the line that ends every record of a GoReplay file.
const GorSeparator = "🐵🙈🙉"

// MaxRecordBytes is the largest GoReplay record a reader accepts; a larger
// one is a *RecordError and reading goes on with the next record.
const MaxRecordBytes = 64 << 20

// gorPending bounds how many requests wait for their response: a request
// whose response has not come after this many later records is yielded
// without one, so memory does not grow with the file.
const gorPending = 1024

// NewGorReader returns a Reader over a GoReplay capture (.gor); name is
// used in Exchange.Origin and in errors ("x.gor: record 3", records
// numbered from 1 in file order).
//
// Each record is a meta line "TYPE ID TIMESTAMP_NS [LATENCY_NS]" (type 1
// a request, 2 the original response, 3 a replayed response, which is
// ignored) and a raw HTTP/1.x message, and ends with the line
// GorSeparator. A request and its response share the ID: the exchange is
// yielded when the response arrives, or without a recorded response when
// it has not come within a bounded number of records. Chunked bodies are
// de-chunked; a gzipped recorded response is decoded and its
// Content-Encoding and Content-Length dropped (like HAR); the response's
// LATENCY_NS is its recorded latency. A request body is kept as recorded,
// with its Content-Encoding.
func NewGorReader(r io.Reader, name string) Reader {
	return &gorReader{lines: newLines(r, 64<<10, MaxRecordBytes+1), name: name, maxRecord: MaxRecordBytes,
		waiting: map[string]*gorRequest{}, early: map[string]gorResponse{}}
}

type gorReader struct {
	lines     *lines
	name      string
	maxRecord int
	record    int    // number of the last record read
	start     int64  // byte offset where the last record read starts
	buf       []byte // the current record, reused
	eof       bool
	err       error // sticky: a read failed

	queue   []*gorRequest          // requests in file order, oldest first
	waiting map[string]*gorRequest // requests without a response, by ID
	early   map[string]gorResponse // responses that came before their request
	bad     []error                // record errors to report before more exchanges
	// capture is set once a record's meta line parsed: until then the
	// file may be anything a spec names (a token, a credentials file), and
	// an error quotes none of it.
	capture bool

	msg    bytes.Reader  // the message being parsed, reused
	msgBuf *bufio.Reader // reads msg, reused
}

// parser returns a bufio.Reader over message, reusing the reader's
// buffers: net/http parses from a bufio.Reader.
func (g *gorReader) parser(message []byte) *bufio.Reader {
	g.msg.Reset(message)
	if g.msgBuf == nil {
		g.msgBuf = bufio.NewReaderSize(&g.msg, 4096)
	} else {
		g.msgBuf.Reset(&g.msg)
	}
	return g.msgBuf
}

type gorResponse struct {
	message []byte
	latency time.Duration
	record  int   // the response's own record number
	offset  int64 // and its 1-based byte offset
}

type gorRequest struct {
	id       string
	record   int
	ex       framework.Exchange
	response []byte // raw response message, nil until it arrives
	latency  time.Duration
	// responseRecord and responseOffset are the response's record number
	// and byte offset: a bad response is reported there, not at its
	// request.
	responseRecord int
	responseOffset int64
	done           bool
}

func (g *gorReader) Next() (framework.Exchange, error) {
	for {
		if len(g.bad) > 0 {
			err := g.bad[0]
			g.bad = g.bad[1:]
			return framework.Exchange{}, err
		}
		if len(g.queue) > 0 && (g.queue[0].done || g.eof || g.err != nil || len(g.queue) > gorPending) {
			return g.yield()
		}
		if g.err != nil {
			return framework.Exchange{}, g.err
		}
		if g.eof {
			return framework.Exchange{}, io.EOF
		}
		g.readRecord()
	}
}

func (g *gorReader) Close() error { return nil }

// yield returns the oldest request with its response, if any.
func (g *gorReader) yield() (framework.Exchange, error) {
	req := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	delete(g.waiting, req.id)
	if req.response != nil {
		recorded, err := parseGorResponse(g.parser(req.response), req.ex.Request.Method)
		if err != nil {
			return framework.Exchange{}, &RecordError{File: g.name, Record: req.responseRecord, Unit: "record", Offset: req.responseOffset, Err: err}
		}
		recorded.Latency = req.latency
		req.ex.Recorded = recorded
	}
	return req.ex, nil
}

// readRecord reads one record and files it: a request joins the queue, a
// response its request.
func (g *gorReader) readRecord() {
	payload, tooLong, err := g.readPayload()
	if err != nil {
		if errors.Is(err, io.EOF) {
			g.eof = true
		} else {
			g.err = fmt.Errorf("%s: record %d: %w", g.name, g.record+1, err)
		}
		return
	}
	if tooLong {
		g.bad = append(g.bad, g.recordError(fmt.Errorf("longer than %s", byteSize(g.maxRecord))))
		return
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return // an empty record, such as a trailing separator
	}
	meta, message, _ := bytes.Cut(payload, []byte("\n"))
	kind, id, when, latency, err := parseGorMeta(string(bytes.TrimSuffix(meta, []byte("\r"))))
	if err != nil && !g.capture {
		// A spec may name any file as a capture, and the error reaches the
		// CI log and the JUnit: quoting a file's first line there would
		// publish a token or a password file's first 32 bytes.
		err = fieldError("meta line", `not a GoReplay capture: the first record does not start with "TYPE ID TIMESTAMP [LATENCY]" (its content is not shown)`)
	}
	if err != nil {
		g.bad = append(g.bad, g.recordError(err))
		return
	}
	g.capture = true
	switch kind {
	case '1':
		ex, err := parseGorRequest(g.parser(message))
		if err != nil {
			g.bad = append(g.bad, g.recordError(err))
			return
		}
		ex.Time = when
		ex.Origin = origin(g.name, "record", g.record)
		req := &gorRequest{id: id, record: g.record, ex: ex}
		if resp, ok := g.early[id]; ok {
			delete(g.early, id)
			req.response, req.latency, req.responseRecord, req.responseOffset, req.done = resp.message, resp.latency, resp.record, resp.offset, true
		} else {
			g.waiting[id] = req
		}
		g.queue = append(g.queue, req)
	case '2':
		if req := g.waiting[id]; req != nil && !req.done {
			req.response, req.latency, req.responseRecord, req.responseOffset, req.done = bytes.Clone(message), latency, g.record, g.start+1, true
			delete(g.waiting, id)
		} else if len(g.early) < gorPending {
			g.early[id] = gorResponse{bytes.Clone(message), latency, g.record, g.start + 1}
		}
	}
}

func (g *gorReader) recordError(err error) error {
	return &RecordError{File: g.name, Record: g.record, Unit: "record", Offset: g.start + 1, Err: err}
}

// readPayload reads up to and including the next separator line and
// returns what came before it, without the newline that precedes the
// separator. The last record may lack a separator.
func (g *gorReader) readPayload() (payload []byte, tooLong bool, err error) {
	g.start = g.lines.offset
	g.buf = g.buf[:0]
	read := false
	for {
		line, long, err := g.lines.next()
		if errors.Is(err, io.EOF) {
			if !read {
				return nil, false, io.EOF
			}
			g.record++
			return g.lastTrimmed(), tooLong, nil
		}
		if err != nil {
			return nil, false, err
		}
		read = true
		if !long && isGorSeparator(line) {
			g.record++
			return g.trimmed(), tooLong, nil
		}
		tooLong = g.keep(line, tooLong || long)
	}
}

func (g *gorReader) keep(line []byte, tooLong bool) bool {
	if tooLong || len(g.buf)+len(line) > g.maxRecord+1 {
		g.buf = g.buf[:0]
		return true
	}
	g.buf = append(g.buf, line...)
	return false
}

// trimmed drops the newline GoReplay writes before the separator.
func (g *gorReader) trimmed() []byte {
	return trimEOL(g.buf)
}

// lastTrimmed is trimmed for a last record that ends the file without a
// separator: the newline written before a separator may be missing too,
// so a message that ends with its blank line (a request or response
// without a body) keeps it.
func (g *gorReader) lastTrimmed() []byte {
	if bytes.HasSuffix(g.buf, []byte("\n\r\n")) || bytes.HasSuffix(g.buf, []byte("\n\n")) {
		return g.buf
	}
	return g.trimmed()
}

func isGorSeparator(line []byte) bool {
	return string(trimEOL(line)) == GorSeparator
}

// parseGorMeta parses "TYPE ID TIMESTAMP_NS [LATENCY_NS]"; the latency
// of a response is how long the original request took.
func parseGorMeta(meta string) (kind byte, id string, when time.Time, latency time.Duration, err error) {
	fields := strings.Fields(meta)
	if len(fields) != 3 && len(fields) != 4 {
		return 0, "", time.Time{}, 0, fieldError("meta line", "%s: want \"TYPE ID TIMESTAMP [LATENCY]\"", scrub.Snippet([]byte(meta), nil))
	}
	if len(fields[0]) != 1 || fields[0][0] < '1' || fields[0][0] > '3' {
		return 0, "", time.Time{}, 0, fieldError("meta line", "type %s: want 1 (request), 2 (response) or 3 (replayed response)", scrub.Snippet([]byte(fields[0]), nil))
	}
	ns, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || ns < 0 {
		return 0, "", time.Time{}, 0, fieldError("meta line", "timestamp %s: want nanoseconds since 1970", scrub.Snippet([]byte(fields[2]), nil))
	}
	if len(fields) == 4 {
		l, err := strconv.ParseInt(fields[3], 10, 64)
		if err != nil || l < 0 || l >= 1e15 {
			return 0, "", time.Time{}, 0, fieldError("meta line", "latency %s: want nanoseconds (under 11 days)", scrub.Snippet([]byte(fields[3]), nil))
		}
		latency = time.Duration(l)
	}
	return fields[0][0], fields[1], time.Unix(0, ns).UTC(), latency, nil
}

// parseGorRequest parses a raw HTTP/1.x request.
func parseGorRequest(message *bufio.Reader) (framework.Exchange, error) {
	var ex framework.Exchange
	httpReq, err := http.ReadRequest(message)
	if err != nil {
		return ex, fieldError("request", "%v", cleanHTTPError(err))
	}
	body, err := readBody(httpReq.Body, httpReq.ContentLength)
	if err != nil {
		return ex, fieldError("request body", "%v", cleanHTTPError(err))
	}
	if ex.Request.Method, err = checkMethod("request method", httpReq.Method); err != nil {
		return ex, err
	}
	if ex.Request.URL, err = originForm("request target", escapeNonUTF8(httpReq.RequestURI)); err != nil {
		return ex, err
	}
	header, err := checkHeader("request header", httpReq.Header)
	if err != nil {
		return ex, err
	}
	ex.Request.Host = requestHost(header, httpReq.Host)
	ex.Request.Header = cleanRequestHeader(header)
	ex.Request.Body = nonEmpty(body)
	return ex, nil
}

// parseGorResponse parses a raw HTTP/1.x response to a request with the
// given method, de-chunking and gunzipping its body.
func parseGorResponse(message *bufio.Reader, method string) (*framework.Response, error) {
	resp, err := http.ReadResponse(message, &http.Request{Method: method})
	if err != nil {
		return nil, fieldError("response", "%v", cleanHTTPError(err))
	}
	if resp.StatusCode < 100 || resp.StatusCode > 999 {
		return nil, fieldError("response status", "%d is not an HTTP status", resp.StatusCode)
	}
	body, err := readBody(resp.Body, resp.ContentLength)
	if err != nil {
		return nil, fieldError("response body", "%v", cleanHTTPError(err))
	}
	header, err := checkHeader("response header", resp.Header)
	if err != nil {
		return nil, err
	}
	if header == nil {
		header = http.Header{}
	}
	if body, err = decodeRecordedBody(header, body); err != nil {
		return nil, fieldError("response body", "%v", err)
	}
	for _, name := range responseDropped {
		header.Del(name)
	}
	return &framework.Response{Status: resp.StatusCode, Header: nilIfEmpty(header), Body: nonEmpty(body)}, nil
}

// readBody reads a whole body, at most MaxRecordBytes of it; length is
// its Content-Length, or -1 when unknown.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if r == nil || r == http.NoBody {
		return nil, nil
	}
	if length >= 0 && length <= MaxRecordBytes {
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(r, MaxRecordBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxRecordBytes {
		return nil, fmt.Errorf("longer than %s", byteSize(MaxRecordBytes))
	}
	return body, nil
}

// cleanHTTPError names a truncated message plainly, and replaces what
// net/http quotes of the message (a request line, a header line) with a
// short snippet, secrets masked.
func cleanHTTPError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("message ends early (shorter than its Content-Length or chunks)")
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '"'); i >= 0 {
		quoted := msg[i:]
		if j := strings.LastIndexByte(quoted, '"'); j > 0 {
			quoted = quoted[:j+1]
		}
		content, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			content = strings.Trim(quoted, `"`)
		}
		return errors.New(msg[:i] + scrub.Snippet([]byte(content), nil))
	}
	if i := strings.Index(msg, ": "); i >= 0 {
		return errors.New(msg[:i+2] + scrub.Snippet([]byte(msg[i+2:]), nil))
	}
	return err
}

// checkHeader validates headers parsed by net/http, which accepts some
// names and values the other readers reject. Bytes that are not UTF-8
// (obsolete Latin-1 text) become U+FFFD, as they would in a HAR or JSONL
// file, so that every reader's exchanges convert to JSONL unchanged.
func checkHeader(field string, h http.Header) (http.Header, error) {
	list := headerList{field: field}
	names := slices.Sorted(maps.Keys(h))
	for _, name := range names {
		for _, value := range h[name] {
			if err := list.add(-1, name, strings.ToValidUTF8(value, "\uFFFD")); err != nil {
				return nil, err
			}
		}
	}
	return list.header, nil
}

// escapeNonUTF8 percent-encodes the bytes of a request target that is not
// valid UTF-8 (raw bytes a client sent unescaped): the server decodes them
// to the same bytes, and the target can be written to JSONL.
func escapeNonUTF8(target string) string {
	if utf8.ValidString(target) {
		return target
	}
	var b strings.Builder
	for i := 0; i < len(target); i++ {
		if c := target[i]; c >= 0x80 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
