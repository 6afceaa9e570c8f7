package rpc

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// Frames splits a gRPC message stream (the body of a gRPC request or
// response: 5-byte prefixes, a compressed flag and a big-endian length,
// each followed by a message) into its messages, decompressing them with
// encoding (the grpc-encoding header: "", "identity" or "gzip"). At most
// limit bytes of messages, and at most MaxMessages(limit) messages, are
// returned; truncated reports more. A limit of 0 or less caps neither.
func Frames(body []byte, encoding string, limit int64) (messages [][]byte, truncated bool, err error) {
	var total int64
	maxMessages := MaxMessages(limit)
	for len(body) > 0 {
		if maxMessages > 0 && len(messages) == maxMessages {
			// Empty messages add nothing to total: 5-byte frames would
			// give two million messages per 10 MiB, each one decoded,
			// compared and written as {} afterwards.
			return messages, true, nil
		}
		if len(body) < 5 {
			return nil, false, fmt.Errorf("malformed gRPC frame: %d bytes left, shorter than a 5-byte prefix", len(body))
		}
		flag, n := body[0], binary.BigEndian.Uint32(body[1:5])
		if flag > 1 {
			return nil, false, fmt.Errorf("malformed gRPC frame: compressed flag %d (want 0 or 1)", flag)
		}
		if uint64(n) > uint64(len(body)-5) {
			return nil, false, fmt.Errorf("malformed gRPC frame: length %d but %d bytes follow", n, len(body)-5)
		}
		msg := body[5 : 5+n]
		body = body[5+n:]
		if flag == 1 {
			room := limit - total
			if limit > 0 {
				room = max(room, 1) // 0 would read as no cap: one byte more says it is over
			}
			msg, err = decompress(msg, encoding, room)
			if err != nil {
				return nil, false, err
			}
		}
		total += int64(len(msg))
		if limit > 0 && total > limit {
			return messages, true, nil
		}
		messages = append(messages, msg)
	}
	return messages, false, nil
}

// MinMessages is the least MaxMessages allows, whatever the byte cap.
const MinMessages = 1024

// MaxMessages bounds how many messages Frames returns under a byte cap of
// limit (mirror.maxBodyBytes): one per 64 bytes of it, at least
// MinMessages (163,840 under the default 10 MiB). A stream with more is
// cut there, as one over the byte cap is. It is 0 (no bound) when limit
// is 0 or less.
func MaxMessages(limit int64) int {
	if limit <= 0 {
		return 0
	}
	return int(max(limit/64, MinMessages))
}

func decompress(msg []byte, encoding string, limit int64) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "gzip":
		r, err := gzip.NewReader(bytes.NewReader(msg))
		if err != nil {
			return nil, fmt.Errorf("gzip message: %w", err)
		}
		if limit <= 0 {
			limit = DefaultMaxMessageBytes
		}
		out, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return nil, fmt.Errorf("gzip message: %w", err)
		}
		return out, nil
	case "", "identity":
		return nil, errors.New("malformed gRPC frame: compressed flag set but no grpc-encoding")
	}
	return nil, fmt.Errorf("gRPC message compressed with %q: only gzip is decoded", encoding)
}

// Wire is an RPC as seen on the wire by a proxy: the full method, the
// request metadata and body (length-prefixed messages), the response's
// header metadata, body and HTTP/2 trailers (grpc-status, grpc-message,
// grpc-status-details-bin; for a trailers-only answer they are in
// ResponseHeader).
type Wire struct {
	Method          string
	RequestHeader   http.Header
	RequestBody     []byte
	ResponseHeader  http.Header
	ResponseBody    []byte
	ResponseTrailer http.Header
}

// FromFrames turns an RPC seen on the wire into the representation the
// runner and the comparator use (framework.RPCCall, framework.RPCStatus),
// as if the gRPC client had sent it: canonical protojson bodies, the status
// as the response's RPC status, reserved names left out of the metadata.
// limit caps the request's and the response's messages (the mirror's body
// cap), in bytes and in number (MaxMessages): a request over it is an
// error, a response over it is cut and marked truncated. d may be nil,
// or lack the method: the messages are then kept as wire bytes (fit for
// recording), the bodies left empty, and the error says the RPC cannot be
// compared. A malformed frame is an error too.
func (d *Descriptors) FromFrames(w Wire, limit int64) (framework.Request, framework.Response, error) {
	method := strings.TrimPrefix(w.Method, "/")
	req := framework.Request{Method: http.MethodPost, URL: "/" + method, Header: metadataHeader(w.RequestHeader)}
	// The request's messages are bounded as the response's: compressed
	// frames of a few KiB each would otherwise inflate to
	// DefaultMaxMessageBytes apiece.
	reqMessages, over, err := Frames(w.RequestBody, w.RequestHeader.Get("Grpc-Encoding"), limit)
	if err != nil {
		return req, framework.Response{}, fmt.Errorf("request: %w", err)
	}
	if over {
		return req, framework.Response{}, fmt.Errorf("request: its messages are over the body cap of %d bytes or %d messages (mirror.maxBodyBytes, one message per 64 bytes of it)", limit, MaxMessages(limit))
	}
	req.RPC = &framework.RPCCall{Method: method, Messages: reqMessages, Wire: true}

	trailer := w.ResponseTrailer
	if trailer.Get("Grpc-Status") == "" {
		trailer = w.ResponseHeader // trailers-only
	}
	code, ok := framework.ParseRPCCode(trailer.Get("Grpc-Status"))
	if !ok {
		return req, framework.Response{}, fmt.Errorf("response: no valid grpc-status (%q)", trailer.Get("Grpc-Status"))
	}
	message, err := url.PathUnescape(trailer.Get("Grpc-Message"))
	if err != nil {
		message = trailer.Get("Grpc-Message")
	}
	var details []byte
	if raw := trailer.Get("Grpc-Status-Details-Bin"); raw != "" {
		details, _ = decodeBinaryHeader(raw)
	}
	respMessages, truncated, err := Frames(w.ResponseBody, w.ResponseHeader.Get("Grpc-Encoding"), limit)
	if err != nil {
		return req, framework.Response{}, fmt.Errorf("response: %w", err)
	}
	resp := framework.Response{
		Status: http.StatusOK, Header: jsonHeader(metadataHeader(w.ResponseHeader)), Truncated: truncated,
		RPC: &framework.RPCStatus{Code: code, Message: message, Trailer: metadataHeader(w.ResponseTrailer), Messages: respMessages, Wire: true, Details: details},
	}
	if d == nil {
		return req, resp, errors.New("no descriptors: the RPC can be recorded but not compared")
	}
	ex := framework.Exchange{Request: req, Recorded: &resp}
	if err := d.Prepare(&ex); err != nil {
		return req, resp, err
	}
	return ex.Request, *ex.Recorded, nil
}

// metadataHeader copies metadata without the names gRPC and HTTP/2 use
// for themselves (content-type, te, grpc-status...), which are not the
// service's metadata.
func metadataHeader(h http.Header) http.Header {
	out := http.Header{}
	for name, values := range h {
		key := strings.ToLower(name)
		if reserved[key] || strings.HasPrefix(key, "grpc-") || strings.HasPrefix(key, ":") {
			continue
		}
		out[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
