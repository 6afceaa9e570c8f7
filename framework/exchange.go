// Package framework holds the few types that shadowtest's stages share: the
// recorded exchange a traffic source yields, the responses a mirror collects,
// the differences a comparator finds, and the Plan a spec decodes into.
//
// Each stage lives in its own sub-package (spec, traffic, selector, mirror,
// compare, observe, suite, report) and talks to the others only through these
// types. This package has no logic beyond small helpers on the types; it is
// not the place for a stage's behaviour.
package framework

import (
	"net/http"
	"time"
)

// Request is an HTTP request as recorded or generated, independent of the
// target it will be sent to.
type Request struct {
	// Method is the HTTP method in upper case.
	Method string
	// URL is the request target in origin form: path and optional query,
	// for example "/users/7?expand=orders". Scheme and host come from the
	// target.
	URL string
	// Host is the Host of the recorded request (its Host header, or the
	// HTTP/2 ":authority"), empty when the recording has none. Both
	// targets receive it, so that a service that echoes Host or builds
	// absolute links from it answers alike; a target's own "Host" header
	// replaces it, and removeHeaders: ["Host"] leaves the target's own.
	Host string
	// Header holds the recorded request headers, without Host.
	Header http.Header
	// Body is the request body, nil when there is none.
	Body []byte
	// RPC is set when the request is a gRPC call (see RPCCall); nil for
	// HTTP.
	RPC *RPCCall
}

// Response is one target's answer to a Request, or the transport failure
// that prevented one.
type Response struct {
	// Status is the HTTP status code; 0 when Err is set.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the response body as received (possibly truncated at the
	// configured cap, see Truncated).
	Body []byte
	// Truncated reports that Body was cut at the body size cap.
	Truncated bool
	// Latency is the time from sending the request to reading the whole
	// body.
	Latency time.Duration
	// Err is the transport error (connection refused, timeout, reset...),
	// nil when a response was received.
	Err error
	// ErrKind classifies Err for counting ("refused", "timeout", "reset",
	// "tls", "redirect", "other"); empty when Err is nil.
	ErrKind string
	// Retries is how many times the request was sent again after a
	// failed attempt (see Target.Retries).
	Retries int
	// RPC is set on the answer to a gRPC call (see RPCStatus); nil for
	// HTTP and for a transport failure.
	RPC *RPCStatus
}

// Failed reports whether the target gave no HTTP response at all.
func (r *Response) Failed() bool { return r.Err != nil }

// Exchange is one request taken from a traffic source, with the response
// that was recorded for it when the source has one.
type Exchange struct {
	// Origin names the record for error messages and logs, for example
	// "fixtures/traffic/demo.har: entry 12".
	Origin string
	// Time is when the request was recorded (zero when unknown).
	Time time.Time
	// Request is the recorded request.
	Request Request
	// Recorded is the recorded response, nil when the source has none.
	Recorded *Response
}

// Pair is the outcome of mirroring one exchange: prod's and the shadow's
// response to the same request.
type Pair struct {
	// Endpoint is the name of the spec endpoint the request matched.
	Endpoint string
	// Exchange is the request that was mirrored.
	Exchange Exchange
	// Prod is the production system's response.
	Prod Response
	// Shadow is the candidate system's response.
	Shadow Response
	// MoreDiffs counts the differences found beyond the ones kept (the
	// comparator keeps the first compare.MaxDiffs of a pair).
	MoreDiffs int
	// Categories are the pair's discrepancy categories as the aggregates
	// name them (folded, capped), set by observe.Results.Add; nil before,
	// and for a pair that matched.
	Categories []string
}
