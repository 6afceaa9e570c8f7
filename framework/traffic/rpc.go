package traffic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// The JSONL RPC record (see FORMAT.md): a line with "rpc" instead of
// "request".
//
//	{"time":"...","rpc":{"method":"acme.users.v1.UserService/GetUser",
//	  "metadata":{"x-tenant":["acme"]},"messages":[{"id":"7"}]},
//	 "response":{"code":"OK","metadata":{},"trailers":{},
//	  "messages":[{"user":{"id":"7"}}],"latencyMs":1.5}}
type jsonlRPC struct {
	Method   string      `json:"method"`
	Metadata http.Header `json:"metadata,omitempty"`
	// Messages is a pointer so that a call without messages writes
	// "messages":[] (the field is required).
	Messages       *[]json.RawMessage `json:"messages,omitempty"`
	MessagesBase64 []string           `json:"messagesBase64,omitempty"`
}

// rpcResponse holds the fields of "response" that only RPC records use;
// they share the object with the HTTP ones (jsonlResponse).
type rpcResponse struct {
	Code           json.RawMessage   `json:"code,omitempty"`
	Message        string            `json:"message,omitempty"`
	Metadata       http.Header       `json:"metadata,omitempty"`
	Trailers       http.Header       `json:"trailers,omitempty"`
	Messages       []json.RawMessage `json:"messages,omitempty"`
	MessagesBase64 []string          `json:"messagesBase64,omitempty"`
	DetailsBase64  string            `json:"detailsBase64,omitempty"`
}

// decodeRPC converts the "rpc" and "response" of an RPC record. The
// request's Body is the JSON of its messages (one message, or the array
// of several) until the descriptors make it canonical (rpc.Prepare).
func decodeRPC(ex *framework.Exchange, rec *jsonlRecord) error {
	if rec.Request != nil {
		return fieldError("rpc", "a line has either request (HTTP) or rpc (gRPC), not both")
	}
	r := rec.RPC
	method := strings.TrimPrefix(r.Method, "/")
	if err := checkFullMethod("rpc.method", method); err != nil {
		return err
	}
	var text []json.RawMessage
	if r.Messages != nil {
		text = *r.Messages
		if text == nil {
			text = []json.RawMessage{} // "messages":null
		}
	}
	messages, wire, err := rpcMessages("rpc", text, r.MessagesBase64, true)
	if err != nil {
		return err
	}
	header, err := jsonlHeader("rpc.metadata", r.Metadata)
	if err != nil {
		return err
	}
	ex.Request = framework.Request{Method: http.MethodPost, URL: "/" + method, Header: nilIfEmpty(cleanRequestHeader(header)),
		Body: messagesBody(messages, wire), RPC: &framework.RPCCall{Method: method, Messages: messages, Wire: wire}}
	resp := rec.Response
	if resp == nil {
		return nil
	}
	if resp.Status != 0 {
		return fieldError("response.status", "an RPC response has a code, not an HTTP status")
	}
	if resp.LatencyMs < 0 || resp.LatencyMs >= 1e9 {
		return fieldError("response.latencyMs", "%v is not a latency in milliseconds", resp.LatencyMs)
	}
	code := 0
	if len(resp.Code) > 0 {
		var ok bool
		var text string
		if c := resp.Code; len(c) >= 2 && c[0] == '"' && c[len(c)-1] == '"' && bytes.IndexByte(c, '\\') < 0 {
			text = string(c[1 : len(c)-1]) // "OK": what json.Unmarshal gives, without it
		} else if json.Unmarshal(resp.Code, &text) != nil {
			text = string(resp.Code)
		}
		if code, ok = framework.ParseRPCCode(text); !ok {
			return fieldError("response.code", "%s is not a gRPC code (OK, NOT_FOUND, UNAVAILABLE... or its number)", clip(string(resp.Code)))
		}
	}
	respMessages, respWire, err := rpcMessages("response", resp.Messages, resp.MessagesBase64, false)
	if err != nil {
		return err
	}
	if code != 0 && len(respMessages) > 0 {
		return fieldError("response.messages", "a response with code %s has no messages (its details go in detailsBase64)", framework.RPCCodeName(code))
	}
	var details []byte
	if resp.DetailsBase64 != "" {
		if details, err = decodeBase64("response.detailsBase64", resp.DetailsBase64); err != nil {
			return err
		}
	}
	metadata, err := jsonlHeader("response.metadata", resp.Metadata)
	if err != nil {
		return err
	}
	trailers, err := jsonlHeader("response.trailers", resp.Trailers)
	if err != nil {
		return err
	}
	ex.Recorded = &framework.Response{Status: http.StatusOK, Header: nilIfEmpty(metadata), Latency: millis(resp.LatencyMs),
		Body: messagesBody(respMessages, respWire),
		RPC:  &framework.RPCStatus{Code: code, Message: resp.Message, Trailer: nilIfEmpty(trailers), Messages: respMessages, Wire: respWire, Details: details}}
	return nil
}

// checkFullMethod checks "package.Service/Method".
func checkFullMethod(field, method string) error {
	service, name, ok := strings.Cut(method, "/")
	if method == "" {
		return missing(field)
	}
	if !ok || !protoName(service) || !protoName(name) || strings.Contains(name, ".") {
		return fieldError(field, "%q is not a full method name (want package.Service/Method)", clip(method))
	}
	return nil
}

// protoName reports whether s is a protobuf full name: identifiers
// (ASCII letters, digits and _, not starting with a digit) joined by dots.
// Anything else (a control character, a bidi override, a wildcard) cannot
// name a method, and would reach the specs init writes.
func protoName(s string) bool {
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for _, c := range []byte(part) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
				return false
			}
		}
	}
	return true
}

// rpcMessages reads "messages" (protojson objects) or "messagesBase64"
// (wire bytes); exactly one of them for a request, at most one for a
// response.
func rpcMessages(field string, text []json.RawMessage, b64 []string, required bool) ([][]byte, bool, error) {
	switch {
	case text != nil && b64 != nil:
		return nil, false, fieldError(field+".messages", "messages and messagesBase64 are both set")
	case b64 != nil:
		out := make([][]byte, len(b64))
		for i, s := range b64 {
			b, err := decodeBase64(fmt.Sprintf("%s.messagesBase64[%d]", field, i), s)
			if err != nil {
				return nil, false, err
			}
			out[i] = b
		}
		if len(out) == 0 {
			return nil, false, nil // no messages: nothing says they were wire bytes
		}
		return out, true, nil
	case text != nil:
		out := make([][]byte, len(text))
		for i, m := range text {
			m = bytes.TrimSpace(m)
			if len(m) == 0 || m[0] != '{' {
				return nil, false, fieldError(fmt.Sprintf("%s.messages[%d]", field, i), "want a JSON object (the message's protojson)")
			}
			// json.Unmarshal checked the line and copied m: only the
			// space between tokens is left to remove, in place.
			out[i] = framework.CompactJSON(m)
		}
		return nilIfNone(out), false, nil
	}
	if required {
		return nil, false, fieldError(field+".messages", "missing (an array of protojson messages, or messagesBase64)")
	}
	return nil, false, nil
}

func nilIfNone(messages [][]byte) [][]byte {
	if len(messages) == 0 {
		return nil
	}
	return messages
}

// messagesBody is a readable body before the descriptors are known: the
// one message, or the JSON array of them (base64 strings for wire bytes).
func messagesBody(messages [][]byte, wire bool) []byte {
	if len(messages) == 0 {
		return nil
	}
	if !wire && len(messages) == 1 {
		return messages[0]
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, m := range messages {
		if i > 0 {
			buf.WriteByte(',')
		}
		if wire {
			buf.WriteByte('"')
			buf.WriteString(base64.StdEncoding.EncodeToString(m))
			buf.WriteByte('"')
			continue
		}
		buf.Write(m)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// rpcFromExchange writes an RPC exchange's record.
func rpcFromExchange(ex framework.Exchange) (*jsonlRecord, error) {
	call := ex.Request.RPC
	rec := &jsonlRecord{RPC: &jsonlRPC{Method: call.Method, Metadata: ex.Request.Header}}
	if !ex.Time.IsZero() {
		rec.Time = ex.Time.Format(time.RFC3339Nano)
	}
	text, b64, err := encodeMessages(call.Messages, call.Wire)
	if err != nil {
		return nil, err
	}
	rec.RPC.MessagesBase64 = b64
	if b64 == nil {
		if text == nil {
			text = []json.RawMessage{}
		}
		rec.RPC.Messages = &text
	}
	resp := ex.Recorded
	if resp == nil {
		return rec, nil
	}
	if resp.Failed() || resp.RPC == nil {
		return nil, fmt.Errorf("recorded response of an RPC has no gRPC status (error %v)", resp.Err)
	}
	code, _ := json.Marshal(framework.RPCCodeName(resp.RPC.Code))
	header := resp.Header.Clone()
	header.Del("Content-Type") // the representation's own, not the server's
	out := rpcResponse{Code: code, Message: resp.RPC.Message, Metadata: nilIfEmpty(header), Trailers: resp.RPC.Trailer}
	if len(resp.RPC.Details) > 0 {
		out.DetailsBase64 = base64.StdEncoding.EncodeToString(resp.RPC.Details)
	}
	messages, wire := resp.RPC.Messages, resp.RPC.Wire
	if messages == nil && resp.RPC.Code == 0 && len(resp.Body) > 0 {
		messages = splitBody(resp.Body) // received live: the canonical body
	}
	if out.Messages, out.MessagesBase64, err = encodeMessages(messages, wire); err != nil {
		return nil, err
	}
	rec.Response = &jsonlResponse{LatencyMs: float64(resp.Latency) / float64(time.Millisecond), rpcResponse: out}
	return rec, nil
}

func encodeMessages(messages [][]byte, wire bool) ([]json.RawMessage, []string, error) {
	if len(messages) == 0 {
		return nil, nil, nil
	}
	if wire {
		out := make([]string, len(messages))
		for i, m := range messages {
			out[i] = base64.StdEncoding.EncodeToString(m)
		}
		return nil, out, nil
	}
	out := make([]json.RawMessage, len(messages))
	for i, m := range messages {
		if !json.Valid(m) {
			return nil, nil, fmt.Errorf("message %d is not JSON", i+1)
		}
		out[i] = m
	}
	return out, nil, nil
}

// splitBody turns a canonical body back into messages: the elements of an
// array, or the one object.
func splitBody(body []byte) [][]byte {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return [][]byte{body}
	}
	var elems []json.RawMessage
	if json.Unmarshal(body, &elems) != nil {
		return [][]byte{body}
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out
}
