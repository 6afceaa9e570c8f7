package framework

import "github.com/shadowtest/shadowtest/framework/internal/fieldpath"

// DiffKind says how prod's and the shadow's responses differ at one path.
type DiffKind string

// The kinds of difference a comparator reports.
const (
	// KindStatus: the status codes differ (path "status").
	KindStatus DiffKind = "status"
	// KindHeader: a compared header differs (path "header:Name").
	KindHeader DiffKind = "header"
	// KindMissing: prod has a value at the path, the shadow has none.
	KindMissing DiffKind = "missing"
	// KindExtra: the shadow has a value at the path, prod has none.
	KindExtra DiffKind = "extra"
	// KindType: both have a value, of different JSON types.
	KindType DiffKind = "type"
	// KindValue: both have a value of the same type that differs.
	KindValue DiffKind = "value"
	// KindOrder: the same elements in a different order.
	KindOrder DiffKind = "order"
	// KindSize: arrays or bodies of different length.
	KindSize DiffKind = "size"
	// KindError: one side failed at the transport level (no response).
	KindError DiffKind = "error"
	// KindShape: the shadow's value does not keep the shape of prod's: a
	// UUID replaced by a name, a host:port by a bare host, a value outside
	// a declared or learned shape rule. It counts even where the value
	// may differ (a noise path, a shape rule).
	KindShape DiffKind = "shape"
)

// Diff is one difference between prod's and the shadow's response.
type Diff struct {
	// Path locates the difference: "status", "header:Content-Type",
	// "$.items[3].price", or "body" for a non-JSON body.
	Path string `json:"path"`
	// Kind says how the values differ.
	Kind DiffKind `json:"kind"`
	// Prod is prod's value, rendered for display (JSON for JSON values);
	// empty when missing.
	Prod string `json:"prod"`
	// Shadow is the shadow's value, rendered for display; empty when
	// missing.
	Shadow string `json:"shadow"`
	// Excerpt is, for a difference between two text bodies, a unified
	// diff excerpt of prod's and the shadow's lines (masks applied), at
	// most a few dozen lines; empty otherwise. The discrepancy log and
	// the HTML report show it; the aggregates do not keep it.
	Excerpt string `json:"excerpt,omitempty"`
}

// Category groups differences that are the same problem: the kind and the
// path with array indices folded to [*], for example "value $.items[*].price".
func (d Diff) Category() string {
	return string(d.Kind) + " " + FoldIndices(d.Path)
}

// FoldIndices replaces every array index and keyed-set element in a path
// with [*]; see fieldpath.FoldIndices, the one path grammar.
func FoldIndices(path string) string { return fieldpath.FoldIndices(path) }

// Verdict is the outcome of one threshold test case.
type Verdict struct {
	// Endpoint is the endpoint the threshold belongs to ("run" for the
	// replay itself).
	Endpoint string `json:"endpoint"`
	// Threshold is the test case name, e.g. "match rate >= 0.99 (min 20 pairs)".
	Threshold string `json:"threshold"`
	// State is "passed", "failed", "skipped", "interrupted"...
	State string `json:"state"`
	// Message is the failure message, empty when passed.
	Message string `json:"message"`
	// Location is where the threshold is declared (file:line).
	Location string `json:"location"`
}

// Passed reports whether the threshold held.
func (v Verdict) Passed() bool { return v.State == "passed" }

// NotJudged starts the message of a threshold skipped for another reason
// than the spec's own policy (its replay failed, the run ended first):
// reports count those apart from the policy's skips.
const NotJudged = "not judged: "

// Skipped reports whether the threshold was not judged on purpose (for
// example, the spec's write policy sent none of the endpoint's requests):
// neither passed nor failed.
func (v Verdict) Skipped() bool { return v.State == "skipped" }
