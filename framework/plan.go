package framework

import (
	"fmt"
	"time"
)

// Position is a place in a spec file, used to point failures at the line a
// user wrote.
type Position struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats the position as file:line:col.
func (p Position) String() string {
	if p.File == "" {
		return "-"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Plan is a loaded, validated spec directory: everything a run needs,
// with the schema's defaults applied and every endpoint's rules already
// merged with the spec's defaults.
type Plan struct {
	// Dir is the spec directory the plan was loaded from; relative
	// traffic paths are resolved against it.
	Dir string
	// Prod and Shadow are the two systems under comparison.
	Prod, Shadow Target
	// Traffic lists the recordings to replay, in spec order.
	Traffic []TrafficSource
	// Mirror holds the replay settings.
	Mirror Mirror
	// Endpoints in spec order; the first matching endpoint wins.
	Endpoints []Endpoint
}

// Target is one system requests are sent to.
type Target struct {
	// Name is "prod" or "shadow".
	Name string
	// URL is the base URL, for example "http://127.0.0.1:8081".
	URL string
	// Timeout bounds one request, body included.
	Timeout time.Duration
	// Headers are set on every request to this target. Values may hold
	// ${ENV} references, expanded at send time and never written anywhere.
	Headers map[string]string
}

// TrafficSource is one recording named by the spec.
type TrafficSource struct {
	// Format is "har" or "jsonl".
	Format string
	// Path is the file, relative to Plan.Dir unless absolute.
	Path string
	// Pos is where the spec names it.
	Pos Position
}

// Mirror holds the replay settings.
type Mirror struct {
	// Concurrency is the number of requests in flight at once.
	Concurrency int
	// Writes is the policy for unsafe methods: "skip" or "isolated".
	Writes string
	// MaxBodyBytes caps how much of each response body is read.
	MaxBodyBytes int64
}

// Endpoint is one spec endpoint: which requests it covers, how their
// responses are compared, and the thresholds that gate the release.
type Endpoint struct {
	// Name is the endpoint's key in the spec ("get-user").
	Name string
	// Method is the HTTP method, upper case.
	Method string
	// Path is the path template, for example "/users/{id}".
	Path string
	// Pos is where the endpoint is declared.
	Pos Position
	// Rules say how responses are compared.
	Rules Rules
	// Thresholds gate the release.
	Thresholds Thresholds
}

// Rules say how a pair of responses is compared.
type Rules struct {
	// Ignore lists paths whose differences do not count: "$.a.b",
	// "$.items[*].id", "$..requestId", "header:Date".
	Ignore []string
	// Headers lists the response headers compared (case-insensitive).
	Headers []string
	// Tolerance maps a body path to the numeric slack allowed there.
	Tolerance map[string]Tolerance
}

// Tolerance is the slack allowed between two numbers: they match when
// |prod-shadow| <= Abs or |prod-shadow| <= Rel*|prod|.
type Tolerance struct {
	Abs float64
	Rel float64
}

// Thresholds gate the release; each is one test case.
type Thresholds struct {
	// MatchRate is the minimum fraction of pairs that must match.
	MatchRate float64
	// MinSamples is the number of pairs below which the match rate test
	// fails as "insufficient traffic".
	MinSamples int
	// MatchRatePos is where the match rate is declared.
	MatchRatePos Position
}
