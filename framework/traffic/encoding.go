package traffic

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
)

// decodeRecordedBody returns a recorded response body with its recorded
// Content-Encoding undone, whether the recorder stored it decoded (as HAR
// says it should) or still encoded (as some recorders do, base64 of the
// gzip bytes), and removes Content-Encoding and Content-Length from h,
// since they no longer describe the body. Codings are undone last first:
// gzip when the body starts with gzip's magic bytes, deflate (zlib or raw)
// and br when the body is not valid UTF-8 and decodes as such. The first coding that does not
// apply means the body was stored decoded from there on and is kept as
// it is. A body that decodes to more than MaxRecordBytes is an error.
func decodeRecordedBody(h http.Header, body []byte) ([]byte, error) {
	values := h.Values("Content-Encoding")
	if len(values) == 0 {
		return body, nil
	}
	h.Del("Content-Encoding")
	h.Del("Content-Length")
	var codings []string
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	for i := len(codings) - 1; i >= 0 && len(body) > 0; i-- {
		decoded, ok, err := decodeOne(codings[i], body)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		body = decoded
	}
	return body, nil
}

// decodeOne undoes one content coding; ok is false when body is not
// encoded that way (or the coding is unknown).
func decodeOne(coding string, body []byte) (decoded []byte, ok bool, err error) {
	switch coding {
	case "gzip", "x-gzip":
		if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
			return nil, false, nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			decoded, err = readDecoded(zr)
		}
		if err != nil {
			// The magic bytes say gzip: a broken stream is a broken record.
			return nil, false, fmt.Errorf("gzip: %v", err)
		}
		return decoded, true, nil
	case "deflate", "br":
	default:
		return nil, false, nil
	}
	// Without magic bytes to go by, a short text can pass for a brotli or
	// raw deflate stream (the decoders stop at the end of a stream and
	// ignore the rest). Compressed bytes are practically never valid
	// UTF-8, and a body stored decoded under a stale header usually is
	// text: only a body that is not UTF-8 is tried.
	if utf8.Valid(body) {
		return nil, false, nil
	}
	var r io.Reader
	switch zr, zerr := zlib.NewReader(bytes.NewReader(body)); {
	case coding == "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case zerr == nil:
		r = zr
	default:
		r = flate.NewReader(bytes.NewReader(body)) // raw deflate, as some servers send
	}
	decoded, err = readDecoded(r)
	if errors.Is(err, errDecodedTooLong) {
		return nil, false, fmt.Errorf("%s: %v", coding, err)
	}
	// A body that does not decode was stored decoded.
	return decoded, err == nil, nil
}

var errDecodedTooLong = fmt.Errorf("decoded body longer than %s", byteSize(MaxRecordBytes))

// readDecoded reads a decoder to its end, at most MaxRecordBytes.
func readDecoded(r io.Reader) ([]byte, error) {
	decoded, err := io.ReadAll(io.LimitReader(r, MaxRecordBytes+1))
	if err != nil {
		return nil, err
	}
	if len(decoded) > MaxRecordBytes {
		return nil, errDecodedTooLong
	}
	return decoded, nil
}
