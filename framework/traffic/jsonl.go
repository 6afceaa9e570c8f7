package traffic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/shadowtest/shadowtest/framework"
)

// MaxLineBytes is the longest JSONL line a reader accepts. A longer line
// is a *RecordError, and reading goes on with the next line.
const MaxLineBytes = 64 << 20

// jsonlRecord is one line of shadowtest's JSONL format; see FORMAT.md.
type jsonlRecord struct {
	Time     string         `json:"time,omitempty"`
	Request  *jsonlRequest  `json:"request,omitempty"`
	RPC      *jsonlRPC      `json:"rpc,omitempty"`
	Response *jsonlResponse `json:"response,omitempty"`
}

type jsonlRequest struct {
	Method     string      `json:"method"`
	URL        string      `json:"url"`
	Headers    http.Header `json:"headers,omitempty"`
	Body       string      `json:"body,omitempty"`
	BodyBase64 string      `json:"bodyBase64,omitempty"`
}

type jsonlResponse struct {
	Status     int         `json:"status,omitempty"`
	LatencyMs  float64     `json:"latencyMs,omitempty"`
	Headers    http.Header `json:"headers,omitempty"`
	Body       string      `json:"body,omitempty"`
	BodyBase64 string      `json:"bodyBase64,omitempty"`
	// The fields of an RPC response (see rpc.go), all omitted when empty.
	rpcResponse
}

// NewJSONLReader returns a Reader over shadowtest's JSONL format (one
// exchange per line, see the package documentation); name is used in
// Exchange.Origin and in errors ("traffic.jsonl: line 3").
func NewJSONLReader(r io.Reader, name string) Reader {
	return newJSONLReader(r, name, 4096, MaxLineBytes)
}

func newJSONLReader(r io.Reader, name string, size, maxLine int) *jsonlReader {
	l := newLines(r, size, maxLine+2) // +2 for "\r\n"
	l.cutEnds = true
	return &jsonlReader{lines: l, name: name, maxLine: maxLine}
}

type jsonlReader struct {
	lines   *lines
	name    string
	maxLine int
	line    int   // number of the last line read
	start   int64 // byte offset where the last line read starts
	err     error // sticky: a read failed or the input ended
}

func (j *jsonlReader) Next() (framework.Exchange, error) {
	for j.err == nil {
		line, tooLong, unended, err := j.readLine()
		if errors.Is(err, errStreamCut) {
			// A gzip stream cut after a whole line (a recorder killed
			// between two flushes): what came before is good.
			j.err = io.EOF
			return framework.Exchange{}, &RecordError{File: j.name, Record: j.line + 1, Unit: "line", Offset: j.lines.offset + 1, Err: ErrCutShort}
		}
		if err != nil {
			j.err = err
			if !errors.Is(err, io.EOF) {
				j.err = fmt.Errorf("%s: line %d: %w", j.name, j.line+1, err)
			}
			break
		}
		if tooLong {
			return framework.Exchange{}, j.recordError(fmt.Errorf("longer than %s", byteSize(j.maxLine)))
		}
		if j.line == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ex, err := decodeJSONL(line)
		if err != nil && unended && cutShort(line) {
			// The last bytes, without a newline, are not a record: a
			// record cut mid-way (or the zeros a crash leaves). The
			// JSON error would blame the record; the file is at fault.
			j.err = io.EOF
			return framework.Exchange{}, j.recordError(ErrCutShort)
		}
		if err != nil {
			return framework.Exchange{}, j.recordError(err)
		}
		ex.Origin = origin(j.name, "line", j.line)
		return ex, nil
	}
	return framework.Exchange{}, j.err
}

func (j *jsonlReader) Close() error { return nil }

func (j *jsonlReader) recordError(err error) error {
	return &RecordError{File: j.name, Record: j.line, Unit: "line", Offset: j.start + 1, Err: err}
}

// readLine reads the next line without its line ending. A line longer
// than maxLine is consumed but not kept: tooLong reports it. The last line
// may lack a newline (unended); io.EOF comes only when no bytes are left.
func (j *jsonlReader) readLine() (line []byte, tooLong, unended bool, err error) {
	j.start = j.lines.offset
	line, tooLong, err = j.lines.next()
	if err != nil {
		return nil, false, false, err
	}
	j.line++
	unended = !tooLong && !bytes.HasSuffix(line, []byte("\n"))
	line = trimEOL(line)
	return line, tooLong || len(line) > j.maxLine, unended, nil
}

// cutShort reports whether a line is the start of a JSON value cut
// before its end, or holds the NUL bytes a crash can leave where a write
// did not reach the disk.
func cutShort(line []byte) bool {
	if bytes.IndexByte(line, 0) >= 0 {
		return true
	}
	var v json.RawMessage
	return errors.Is(json.NewDecoder(bytes.NewReader(line)).Decode(&v), io.ErrUnexpectedEOF)
}

// decodeJSONL converts one non-blank line; Origin is left to the caller.
func decodeJSONL(line []byte) (framework.Exchange, error) {
	var ex framework.Exchange
	var rec jsonlRecord
	if !decodeFastRPC(line, &rec) {
		if err := unmarshalRecord(line, &rec); err != nil {
			return ex, describeDecodeError(err)
		}
	}
	var err error
	if ex.Time, err = parseTime("time", rec.Time); err != nil {
		return ex, err
	}
	if rec.RPC != nil {
		return ex, decodeRPC(&ex, &rec)
	}
	if rec.Request == nil {
		return ex, missing("request")
	}
	req := rec.Request
	if ex.Request.Method, err = checkMethod("request.method", req.Method); err != nil {
		return ex, err
	}
	if ex.Request.URL, err = originForm("request.url", req.URL); err != nil {
		return ex, err
	}
	header, err := jsonlHeader("request.headers", req.Headers)
	if err != nil {
		return ex, err
	}
	ex.Request.Host = requestHost(header, "")
	ex.Request.Header = cleanRequestHeader(header)
	if ex.Request.Body, err = jsonlBody("request", req.Body, req.BodyBase64); err != nil {
		return ex, err
	}
	if resp := rec.Response; resp != nil {
		if resp.Code != nil || resp.Messages != nil || resp.MessagesBase64 != nil {
			return ex, fieldError("response", "code and messages belong to an RPC record (rpc, not request)")
		}
		if resp.Status < 100 || resp.Status > 999 {
			return ex, fieldError("response.status", "%d is not an HTTP status", resp.Status)
		}
		if resp.LatencyMs < 0 || resp.LatencyMs >= 1e9 {
			return ex, fieldError("response.latencyMs", "%v is not a latency in milliseconds", resp.LatencyMs)
		}
		recorded := &framework.Response{Status: resp.Status, Latency: millis(resp.LatencyMs)}
		if recorded.Header, err = jsonlHeader("response.headers", resp.Headers); err != nil {
			return ex, err
		}
		if recorded.Body, err = jsonlBody("response", resp.Body, resp.BodyBase64); err != nil {
			return ex, err
		}
		if recorded.Header != nil {
			body, err := decodeRecordedBody(recorded.Header, recorded.Body)
			if err != nil {
				return ex, fieldError("response.body", "%v", err)
			}
			recorded.Body, recorded.Header = nonEmpty(body), nilIfEmpty(recorded.Header)
		}
		ex.Recorded = recorded
	}
	return ex, nil
}

// v1Options make go-json-experiment decode as encoding/json does (its v1
// compatibility options: names matched without case, duplicate names and
// invalid UTF-8 accepted...), in about a quarter of encoding/json's time
// on RPC records. FuzzJSONLDecoders checks that both agree.
var v1Options = jsonv1.DefaultOptionsV1()

// unmarshalRecord decodes one line into rec. A line the fast decoder
// refuses is decoded again by encoding/json, whose result and error
// messages (describeDecodeError) are the reference.
func unmarshalRecord(line []byte, rec *jsonlRecord) error {
	if jsonv2.Unmarshal(line, rec, v1Options) == nil {
		return nil
	}
	*rec = jsonlRecord{}
	return json.Unmarshal(line, rec)
}

// jsonlHeader validates a headers object; names are added in sorted order
// so that names differing only in case merge deterministically.
func jsonlHeader(field string, headers http.Header) (http.Header, error) {
	list := headerList{field: field}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, value := range headers[name] {
			if err := list.add(-1, name, value); err != nil {
				return nil, err
			}
		}
	}
	return list.header, nil
}

// jsonlBody decodes "body" or "bodyBase64"; at most one may be set.
func jsonlBody(field, text, base64 string) ([]byte, error) {
	switch {
	case text != "" && base64 != "":
		return nil, fieldError(field, "body and bodyBase64 are both set")
	case base64 != "":
		return decodeBase64(field+".bodyBase64", base64)
	}
	return nonEmpty([]byte(text)), nil
}

// byteSize formats a size limit for error messages.
func byteSize(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
