package framework

import (
	"net/http"
	"strconv"
)

// RPCCall marks a Request as a gRPC call. Such a request is represented
// like an HTTP one, so that every stage treats it as any other: Method is
// "POST", URL is "/" + the full method ("/acme.users.v1.UserService/GetUser"),
// Header holds the request metadata and Body the request message's
// canonical protojson (a client stream: the JSON array of its messages).
// Only the gRPC client and the recorders read the fields below.
type RPCCall struct {
	// Method is the full method, "package.Service/Method", without a
	// leading slash.
	Method string
	// Messages are the request messages in order: each as protojson, or
	// as protobuf wire bytes when Wire is set (recorded without a
	// descriptor).
	Messages [][]byte
	// Wire says that Messages hold wire bytes.
	Wire bool
	// NoSideEffects and Idempotent are the method's idempotency_level
	// option (NO_SIDE_EFFECTS implies Idempotent), filled once the
	// descriptors are known: a method with no side effects is not a
	// write for mirror.writes, an idempotent one may be retried on
	// UNAVAILABLE.
	NoSideEffects, Idempotent bool
}

// RPCStatus is the gRPC side of a Response. An RPC response is
// represented like an HTTP one: Status is 200 (the HTTP status of every
// gRPC answer), Header holds the header metadata, and Body the response
// message's canonical protojson with Content-Type application/json; a
// server stream's Body is the JSON array of its messages, and a response
// whose code is not OK has as its Body the google.rpc.Status (code, message
// and details) as protojson, so that errors.by reads its details.
type RPCStatus struct {
	// Code is the gRPC status code (0 is OK; see RPCCodeName).
	Code int
	// Message is the status message.
	Message string
	// Trailer holds the trailing metadata (without grpc-status,
	// grpc-message and grpc-status-details-bin). Headers rules compare
	// header and trailing metadata alike (see RPCMetadata).
	Trailer http.Header
	// Messages are the response messages as recorded (protojson, or wire
	// bytes when Wire is set), kept for writing recordings; nil for a
	// response that was received live.
	Messages [][]byte
	// Wire says that Messages hold wire bytes.
	Wire bool
	// Details is the recorded google.rpc.Status details
	// (grpc-status-details-bin) as wire bytes, nil when none.
	Details []byte
}

// RPCMetadata returns the response's header metadata and trailing
// metadata in one header map (header metadata first), as headers rules
// compare them; for a response without RPC it returns Header itself.
func (r *Response) RPCMetadata() http.Header {
	if r.RPC == nil || len(r.RPC.Trailer) == 0 {
		return r.Header
	}
	merged := make(http.Header, len(r.Header)+len(r.RPC.Trailer))
	for name, values := range r.Header {
		merged[name] = values
	}
	for name, values := range r.RPC.Trailer {
		key := http.CanonicalHeaderKey(name)
		merged[key] = append(merged[key][:len(merged[key]):len(merged[key])], values...)
	}
	return merged
}

// rpcCodeNames are the canonical names of the gRPC status codes, by number.
var rpcCodeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// RPCCodeName is the canonical name of a gRPC status code ("NOT_FOUND"),
// or its number for a code outside the 17 known ones.
func RPCCodeName(code int) string {
	if code >= 0 && code < len(rpcCodeNames) {
		return rpcCodeNames[code]
	}
	return strconv.Itoa(code)
}

// ParseRPCCode reads a gRPC status code given as its canonical name
// ("NOT_FOUND", any case) or its number.
func ParseRPCCode(s string) (int, bool) {
	for i, name := range rpcCodeNames {
		if equalFoldASCII(s, name) {
			return i, true
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<16 {
		return 0, false
	}
	return n, true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// RPCServerError reports whether a gRPC code is the server's failure, as
// a 5xx is for HTTP: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
// UNAVAILABLE and DATA_LOSS. The others are answers about the request.
func RPCServerError(code int) bool {
	switch code {
	case 2, 4, 12, 13, 14, 15:
		return true
	}
	return false
}
