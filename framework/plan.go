package framework

import (
	"fmt"
	"strings"
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
	// Package is the CUE package of the spec files ("" when they have no
	// package clause), for files written next to them (run --write-noise).
	Package string
	// LeftOut names the .cue files of the spec's package in parent
	// directories, up to the CUE module root, that the cue command would
	// unify into the directory's instance and the plan leaves out: a spec
	// is its directory's own files (share fields through an import).
	LeftOut []string
	// Prod and Shadow are the two systems under comparison.
	Prod, Shadow Target
	// Traffic lists the recordings to replay, in spec order.
	Traffic []TrafficSource
	// Mirror holds the replay settings.
	Mirror Mirror
	// Endpoints in spec order; the first matching endpoint wins.
	Endpoints []Endpoint
	// Report says what the discrepancy log, the results and the reports
	// keep and hide.
	Report ReportSettings
	// GRPC says where the descriptors of gRPC endpoints come from; nil
	// when the spec has no grpc block.
	GRPC *GRPC
}

// GRPC says where the descriptors of the gRPC methods come from: .proto
// files compiled at load time, a FileDescriptorSet, or server reflection
// on prod. Exactly one of Protos, DescriptorSet and Reflection is set.
type GRPC struct {
	// Protos are .proto files, relative to Plan.Dir unless absolute.
	Protos []string
	// ImportPaths are where imports are looked up, relative to Plan.Dir
	// unless absolute; empty means Plan.Dir.
	ImportPaths []string
	// DescriptorSet is a FileDescriptorSet file (protoc -o, buf build).
	DescriptorSet string
	// Reflection asks prod's server reflection service at run time.
	Reflection bool
	// Pos is where the grpc block is declared.
	Pos Position
}

// ReportSettings say what the discrepancy log, the results and the reports
// keep and hide.
type ReportSettings struct {
	// Redact lists body paths whose values never appear in any output
	// (log, JUnit, HTML, results); sensitive headers are always redacted.
	Redact []string `json:"redact,omitempty"`
	// Secrets adds names whose values are hidden and allows harmless ones.
	Secrets SecretNames `json:"secrets,omitzero"`
	// Examples is how many differing pairs per endpoint and category the
	// discrepancy log keeps in full; the rest are logged without bodies.
	Examples int `json:"examples,omitempty"`
	// BaselineMargin is how far an endpoint's match rate may drop below
	// the baseline run's before the baseline test fails.
	BaselineMargin float64 `json:"baselineMargin,omitempty"`
}

// SecretNames tune which header, parameter, cookie, form field and JSON
// member names are secret, beyond the built-in words (scrub.Words).
type SecretNames struct {
	// Names are more secret names, matched by words like the built-in
	// ones.
	Names []string `json:"names,omitempty"`
	// Allow are names that look secret but are not.
	Allow []string `json:"allow,omitempty"`
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
	// RemoveHeaders names recorded request headers that are not sent to
	// this target (Cookie, a recorded Authorization...); "Host" sends the
	// URL's host instead of the recorded Host.
	RemoveHeaders []string
	// PathPrefix rewrites the start of every request path for this target
	// (an API that moved); the zero value keeps paths as recorded.
	PathPrefix PathRewrite
	// Recorded makes the target answer from the responses stored in the
	// recording instead of the network (prod only): a release can be gated
	// with only the shadow running.
	Recorded bool
	// Retries is how many times an idempotent request that failed at the
	// transport level, or got 429, is sent again: at most Retries+1
	// attempts reach the target. An RPC is retried only on UNAVAILABLE.
	Retries int
	// TLS configures the TLS client of an https:// or grpcs:// target.
	TLS TLS
}

// TLS configures how a target's certificate is verified.
type TLS struct {
	// CA is a PEM file of the certificate authorities to trust instead
	// of the system's, relative to Plan.Dir unless absolute; "" trusts
	// the system's.
	CA string
	// ServerName is the name the certificate must be valid for, when it
	// is not the URL's host.
	ServerName string
	// InsecureSkipVerify accepts any certificate: only when the spec says
	// so.
	InsecureSkipVerify bool
}

// PathRewrite replaces the prefix From of a request path with To: From
// "/api/v1" and To "/v2" send "/api/v1/users/7" as "/v2/users/7". An empty
// From prepends To to every path; a path without the prefix is unchanged.
type PathRewrite struct {
	From string
	To   string
}

// TrafficSource is one recording named by the spec.
type TrafficSource struct {
	// Format is "har", "gor", "jsonl" or "synthetic".
	Format string
	// Path is the file, relative to Plan.Dir unless absolute; it may be a
	// glob ("captures/*.gor"), whose files are read in name order. Files
	// ending in ".gz" are gunzipped. Empty for synthetic traffic.
	Path string
	// Synthetic declares generated traffic when Format is "synthetic".
	Synthetic *Synthetic
	// Pos is where the spec names it.
	Pos Position
}

// Synthetic is traffic generated from request templates, deterministic for
// a given seed so that a CI run is reproducible.
type Synthetic struct {
	// Count is the number of requests to generate; 0 generates every
	// combination of every template's parameters once, in order.
	Count int
	// Seed drives the choice of template and parameter combination when
	// Count is set.
	Seed uint64
	// Requests are the templates.
	Requests []SyntheticRequest
}

// SyntheticRequest is one request template: {name} in the URL, header
// values and body strings is replaced with the value of parameter name.
type SyntheticRequest struct {
	// Method is the HTTP method, upper case.
	Method string
	// URL is the origin-form URL template ("/users/{id}?expand={expand}").
	URL string
	// Headers are set on every generated request (templated).
	Headers map[string]string
	// Body is the JSON body template, nil for none.
	Body []byte
	// RPC, when set, makes the template a gRPC call of this full method
	// ("acme.shop.v1.CatalogService/GetProduct"): Body is then the request
	// message's protojson template and Headers its metadata; Method and
	// URL are unused.
	RPC string
	// Params lists the parameters in declaration order.
	Params []SyntheticParam
	// Zip combines the parameters element by element (the i-th value of
	// each) instead of as a product of all their values.
	Zip bool
}

// SyntheticParam is one parameter: a list of values or an integer range.
type SyntheticParam struct {
	// Name is the parameter's name as used in {name}.
	Name string
	// Values lists the values; nil when the parameter is a range.
	Values []string
	// From, To and Step describe an integer range, To included, when
	// Values is nil.
	From, To, Step int64
}

// Len is the number of values the parameter takes.
func (p SyntheticParam) Len() int {
	if p.Values != nil {
		return len(p.Values)
	}
	if p.Step <= 0 || p.To < p.From {
		return 0
	}
	return int((p.To-p.From)/p.Step) + 1
}

// Mirror holds the replay settings.
type Mirror struct {
	// Concurrency is the number of requests in flight at once.
	Concurrency int
	// Writes is the policy for unsafe methods (POST, PUT, PATCH, DELETE):
	// "skip", "isolated", "dry-run" or "record-only".
	Writes string
	// DryRunHeader is the header name and value sent with every unsafe
	// request under the "dry-run" policy.
	DryRunHeader [2]string
	// Mode is "full", "sampled", "selective" or "replay".
	Mode string
	// Rate is the fraction of requests the sampled mode sends.
	Rate float64
	// Seed salts the sampled mode's request hash: another seed chooses
	// another, equally deterministic, sample.
	Seed uint64
	// Endpoints names the endpoints the selective mode sends.
	Endpoints []string
	// SelectiveRate, when above 0 and below 1, is the fraction of the
	// selective mode's requests sent, sampled as the sampled mode samples
	// (Seed): a live session's ramp and rate changes narrow the selection
	// with it, never widen it. Specs do not set it; 0 sends them all.
	SelectiveRate float64
	// Speed is the replay mode's pace as a multiple of the recorded one
	// (2 is twice as fast); 0 sends as fast as the limits allow.
	Speed float64
	// MaxBodyBytes caps how much of each response body is read.
	MaxBodyBytes int64
	// RPS caps the requests per second sent to each target; 0 means no
	// cap.
	RPS float64
	// KillSwitch stops shadow traffic when the shadow misbehaves.
	KillSwitch KillSwitch
	// Ramp, when set, raises the live proxy's sampling rate step by step
	// while the thresholds hold (shadowtest proxy only).
	Ramp *Ramp
}

// Ramp is a gradual rollout of live mirroring: the sampling rate starts
// at Steps[0] and moves to the next step once the current one has lasted
// MinDuration with at least MinPairs compared pairs and every threshold
// holding; a failing threshold steps back (or trips the kill switch).
type Ramp struct {
	// Steps are the sampling rates, increasing, each in (0, 1].
	Steps []float64
	// MinDuration is the least time spent at a step before advancing.
	MinDuration time.Duration
	// MinPairs is the least number of pairs compared at a step before
	// it is judged.
	MinPairs int
	// OnFailure is "step back" (return to the previous step and hold
	// there; at the first step, trip the kill switch) or "kill".
	OnFailure string
	// Pos is where the ramp is declared.
	Pos Position
}

// KillSwitch says when to stop sending shadow traffic. A tripped switch
// ends the run as aborted; the results gathered until then are kept.
type KillSwitch struct {
	// ShadowErrorRate trips the switch when the shadow's error rate over
	// the last Window requests exceeds it; 0 disables the check.
	ShadowErrorRate float64
	// Window is the number of most recent requests ShadowErrorRate is
	// measured over.
	Window int
	// ShadowLatency trips the switch when the shadow's p99 latency over
	// the last Window requests exceeds it; 0 disables the check.
	ShadowLatency time.Duration
	// File trips the switch when it appears (relative to the working
	// directory); empty disables the check.
	File string
	// Pos is where the kill switch is declared.
	Pos Position
}

// JUnitClass is how an endpoint (or test group) name appears in a JUnit
// classname, after "shadowtest.": its dots become "_", since Jenkins reads
// a dotted classname as packages. Two names with the same JUnitClass would
// share a class: spec.Load refuses them.
func JUnitClass(name string) string { return strings.ReplaceAll(name, ".", "_") }

// Endpoint is one spec endpoint: which requests it covers, how their
// responses are compared, and the thresholds that gate the release.
type Endpoint struct {
	// Name is the endpoint's key in the spec ("get-user").
	Name string `json:"name"`
	// Method is the HTTP method, upper case.
	Method string `json:"method"`
	// Path is the path template, for example "/users/{id}". For a gRPC
	// endpoint it is "/" + GRPC, and Method is "POST".
	Path string `json:"path"`
	// GRPC is the full method a gRPC endpoint covers,
	// "acme.users.v1.UserService/GetUser", where * matches any run of
	// characters within the service or the method name; "" for HTTP.
	GRPC string `json:"grpc,omitempty"`
	// Idempotent lets a gRPC endpoint's calls be retried on UNAVAILABLE.
	// Safe says they have no side effects: they are sent whatever
	// mirror.writes says (as GET is), and may be retried.
	Idempotent bool `json:"idempotent,omitempty"`
	Safe       bool `json:"safe,omitempty"`
	// Query and Header narrow the match: every predicate must hold.
	Query  []Predicate `json:"query"`
	Header []Predicate `json:"header"`
	// Pos is where the endpoint is declared.
	Pos Position `json:"pos"`
	// Rules say how responses are compared.
	Rules Rules `json:"rules"`
	// Thresholds gate the release.
	Thresholds Thresholds `json:"thresholds"`
	// Known lists the intended discrepancy categories. When the spec
	// declares known (even as an empty list) Known is non-nil and the
	// threshold "no category outside known" is asserted.
	Known []KnownCategory `json:"known"`
	// KnownPos is where known is declared.
	KnownPos Position `json:"knownPos"`
	// Noise configures noise learning from prod.
	Noise Noise `json:"noise"`
}

// Predicate is a condition on one query parameter or request header:
// it must be present (Present), absent (Absent), or have one of Values.
// Header names are case-insensitive.
type Predicate struct {
	Name    string   `json:"name"`
	Present bool     `json:"present"`
	Absent  bool     `json:"absent"`
	Values  []string `json:"values"`
}

// Rules say how a pair of responses is compared.
type Rules struct {
	// Ignore lists paths whose differences do not count: "$.a.b",
	// "$.items[*].id", "$..requestId", "header:Date".
	Ignore []string `json:"ignore"`
	// Headers lists the response headers compared (case-insensitive).
	Headers []string `json:"headers"`
	// Tolerance maps a body path to the numeric slack allowed there.
	Tolerance map[string]Tolerance `json:"tolerance"`
	// Shape maps a path to the shape its value must keep: the value may
	// differ from prod's, but a shadow value outside the shape is a
	// "shape" difference.
	Shape map[string]ShapeRule `json:"shape,omitempty"`
	// Unordered lists arrays compared regardless of element order: as
	// multisets, or as sets keyed by a member of their elements.
	Unordered []Unordered `json:"unordered"`
	// Masks replace the parts of string values (and text bodies) that a
	// regular expression matches before comparing them.
	Masks []Mask `json:"masks"`
	// ErrorsBy, when set, is the body path of the error-type field: a pair
	// of non-2xx responses with equal statuses is compared by that field
	// (and the listed headers) only, not by message text.
	ErrorsBy string `json:"errorsBy"`
	// DigestAbove, when > 0, is the body size in bytes above which bodies
	// are compared by length and SHA-256 only, with a note saying so.
	DigestAbove int64 `json:"digestAbove"`
	// MaxDecodedBytes bounds a body decompressed (gzip, deflate, br) for
	// comparison, so that a small compressed body cannot expand without
	// limit; 0 means 64 MiB. The runner sets it to the mirror's body cap.
	MaxDecodedBytes int64 `json:"maxDecodedBytes"`
	// TextTokens compares text bodies line by line and token by token,
	// reporting a changed token at "body:LINE:TOKEN" instead of the whole
	// body, so that noise learning can learn the tokens that vary in prod
	// while the rest must match. The runner sets it for endpoints that
	// learn noise.
	TextTokens bool `json:"textTokens,omitempty"`
}

// ShapeRule is a declared shape: a format name ("uuid", "rfc3339", "httpdate",
// "ipport", "ip", "integer", "decimal", "hex", "base64", "string",
// "number") or, when Pattern is set, a string matching that RE2 pattern.
type ShapeRule struct {
	Format  string `json:"format,omitempty"`
	Pattern string `json:"pattern,omitempty"`
}

// Unordered says that the array at Path is compared regardless of order:
// as a multiset when Key is empty, else as a set of objects identified by
// their member Key, where a moved element is an "order" difference and a
// changed one is reported at its key ($.orders[id=7].total).
type Unordered struct {
	Path string `json:"path"`
	Key  string `json:"key"`
}

// Mask is a regular expression whose matches inside string values are
// replaced by a placeholder on both sides before comparing, for example a
// UUID inside a URL. An empty Path applies it to every string and to text
// bodies; otherwise only at locations Path matches ("$" for a text body).
type Mask struct {
	Path    string `json:"path"`
	Pattern string `json:"pattern"`
}

// KnownCategory is a discrepancy category the team expects, with the
// reason; "no category outside known" fails on any other category.
type KnownCategory struct {
	// Category is a category name as reported, e.g. "value $.email".
	Category string `json:"category"`
	// Reason says why the difference is intended (a ticket, a decision).
	Reason string `json:"reason"`
}

// Noise configures noise learning: a fraction of requests is sent to prod
// a second time, and paths that differ between the two prod answers are
// noise for the endpoint.
type Noise struct {
	// Probe is the fraction of requests sent to prod twice (0 = off).
	Probe float64 `json:"probe"`
	// MinDiffs is the number of probes in which prod must differ from
	// itself at a path before the path can be noise (0 means
	// DefaultNoiseMinDiffs).
	MinDiffs int `json:"minDiffs,omitempty"`
}

// DefaultNoiseMinDiffs is the default of Noise.MinDiffs.
const DefaultNoiseMinDiffs = 5

// Tolerance is the slack allowed between two numbers: they match when
// |prod-shadow| <= Abs or |prod-shadow| <= Rel*|prod|.
type Tolerance struct {
	Abs float64 `json:"abs"`
	Rel float64 `json:"rel"`
	// Skew, when > 0, lets two timestamps differ by up to Skew: RFC 3339
	// strings, and numbers read as Unix epoch seconds, milliseconds,
	// microseconds or nanoseconds by their magnitude.
	Skew time.Duration `json:"skew"`
}

// Thresholds gate the release; each is one test case.
type Thresholds struct {
	// MatchRate is the minimum fraction of pairs that must match.
	MatchRate float64 `json:"matchRate"`
	// MinSamples is the number of pairs below which the match rate test
	// fails as "insufficient traffic".
	MinSamples int `json:"minSamples"`
	// MatchRatePos is where the match rate is declared.
	MatchRatePos Position `json:"matchRatePos"`
	// ErrorRate turns on the test that the shadow's error rate is at most
	// prod's plus ErrorRateSlack.
	ErrorRate bool `json:"errorRate"`
	// ErrorRateSlack is how much the shadow's error rate may exceed
	// prod's (0.01 = one percentage point).
	ErrorRateSlack float64 `json:"errorRateSlack"`
	// ErrorRatePos is where the error-rate threshold is declared.
	ErrorRatePos Position `json:"errorRatePos"`
	// LatencyP50Ratio bounds the shadow's median latency to this multiple
	// of prod's; 0 disables the test.
	LatencyP50Ratio float64 `json:"latencyP50Ratio"`
	// LatencyP50Pos is where the ratio is declared.
	LatencyP50Pos Position `json:"latencyP50Pos"`
	// LatencyP99 bounds the shadow's p99 latency; 0 with LatencyP99Monitored
	// reports it without failing, 0 without it disables the test.
	LatencyP99 time.Duration `json:"latencyP99"`
	// LatencyP99Monitored reports the shadow's p99 latency without ever
	// failing.
	LatencyP99Monitored bool `json:"latencyP99Monitored"`
	// LatencyP99Pos is where the p99 threshold is declared.
	LatencyP99Pos Position `json:"latencyP99Pos"`
}
