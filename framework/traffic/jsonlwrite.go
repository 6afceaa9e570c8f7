package traffic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
)

// WriteJSONL writes ex to w as one line of shadowtest's JSONL format, in a
// single Write. Bodies that are valid UTF-8 are written as "body", others
// as "bodyBase64"; Origin is not written. Reading the line back gives an
// equal exchange, except that the request headers a reader drops
// (hop-by-hop) are gone; Request.Host is written as a Host header.
func WriteJSONL(w io.Writer, ex framework.Exchange) error {
	rec, err := jsonlFromExchange(ex)
	if err != nil {
		return fmt.Errorf("write JSONL %s: %w", ex.Origin, err)
	}
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // keep "<", ">" and "&" readable in bodies
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("write JSONL %s: %w", ex.Origin, err)
	}
	_, err = w.Write(line.Bytes())
	return err
}

func jsonlFromExchange(ex framework.Exchange) (*jsonlRecord, error) {
	if ex.Request.RPC != nil {
		return rpcFromExchange(ex)
	}
	if ex.Request.Method == "" || ex.Request.URL == "" {
		return nil, errors.New("request method and URL are required")
	}
	headers := ex.Request.Header
	if ex.Request.Host != "" {
		headers = headers.Clone()
		if headers == nil {
			headers = http.Header{}
		}
		headers.Set("Host", ex.Request.Host)
	}
	req := &jsonlRequest{Method: ex.Request.Method, URL: ex.Request.URL, Headers: headers}
	req.Body, req.BodyBase64 = encodeBody(ex.Request.Body)
	rec := &jsonlRecord{Request: req}
	if !ex.Time.IsZero() {
		rec.Time = ex.Time.Format(time.RFC3339Nano)
	}
	if resp := ex.Recorded; resp != nil {
		if resp.Failed() || resp.Status < 100 || resp.Status > 999 {
			return nil, fmt.Errorf("recorded response has no HTTP status (status %d, error %v)", resp.Status, resp.Err)
		}
		rec.Response = &jsonlResponse{Status: resp.Status, Headers: resp.Header, LatencyMs: float64(resp.Latency) / float64(time.Millisecond)}
		rec.Response.Body, rec.Response.BodyBase64 = encodeBody(resp.Body)
	}
	return rec, nil
}

// encodeBody returns the body as text when it is valid UTF-8 and JSON
// escapes it to no more than its base64, otherwise as base64: a body of
// control bytes (\u0000 is 6 bytes for one) would make a line longer than
// a reader accepts (MaxLineBytes).
func encodeBody(body []byte) (text, base64Text string) {
	if utf8.Valid(body) && escapedLen(body) <= base64.StdEncoding.EncodedLen(len(body)) {
		return string(body), ""
	}
	return "", base64.StdEncoding.EncodeToString(body)
}

// escapedLen is the length of body as a JSON string's content, as
// WriteJSONL's encoder writes it (HTML characters kept).
func escapedLen(body []byte) int {
	n := len(body)
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20:
			n += 5
		case c == 0xe2 && i+2 < len(body) && body[i+1] == 0x80 && (body[i+2] == 0xa8 || body[i+2] == 0xa9):
			n += 3 // U+2028 and U+2029 are written as \u2028 and \u2029
		}
	}
	return n
}
