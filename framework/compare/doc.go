// Package compare decides whether prod's and the shadow's responses to one
// request match under an endpoint's rules, and lists every difference when
// they do not.
//
// Compile turns framework.Rules into a Comparator once per endpoint; its
// Compare method is then called for every pair and is safe for concurrent
// use. What is compared, in order:
//
//   - Transport failure: when either side has no response, one Diff at path
//     "response" of kind error, and nothing else. Each side shows
//     "status 200" or its error as "ErrKind: error text".
//   - Status: exact; when the statuses differ, one Diff at path "status" and
//     nothing else, because bodies of different statuses are not comparable.
//   - Headers: only those listed in Rules.Headers, minus ignored ones; names
//     case-insensitive; values trimmed, repeated headers and comma lists
//     re-joined as "a, b", and Content-Type parsed (lower-case media type,
//     parameter names and charset, parameters sorted, quotes removed, and
//     charset=utf-8 dropped for JSON, whose only encoding is UTF-8). A
//     header present on one side only is a difference too, at path
//     "header:Canonical-Name".
//   - Body: first each side's Content-Encoding is undone (gzip, deflate,
//     br; a body that does not decode is a type diff at "body"); then
//     byte-identical bodies match. Bodies above Rules.DigestAbove are
//     compared by length and SHA-256 only, with a note. Otherwise prod's
//     Content-Type decides: JSON bodies (application/json or */*+json, or,
//     without a Content-Type, both bodies start like a JSON object or
//     array) are compared structurally at concrete paths such as
//     $.items[3].price: object members by name (missing, extra), arrays by
//     index (a length difference is one size diff at the array, shown as
//     "3 elements", plus diffs over the common prefix), values by JSON type
//     (type) and value (value). Numbers compare by exact decimal value:
//     1 == 1.0 == 1e0, and large integers are not rounded. If only one side
//     parses, the diff is at path "body" of kind type with the parse error;
//     if neither does, they are compared as text. Form bodies
//     (application/x-www-form-urlencoded) are compared field by field at
//     $.name. Text (text/*, XML, JavaScript, or valid UTF-8 without a
//     Content-Type) is compared exactly after masks, at path "body" (size
//     when the lengths differ, value otherwise); the values shown are the
//     first differing line on each side, and Diff.Excerpt holds a bounded
//     unified diff of the lines (see textDiff). Anything else is binary:
//     compared by length and SHA-256, shown as the bytes when short and as
//     length and digest when long.
//
// JSON is read token by token (github.com/go-json-experiment/json/jsontext)
// into a flat, pooled tape of spans of the body: no map, interface value or
// string per value, so comparing costs less than decoding both bodies with
// encoding/json (see TestCompareDecodeRatio).
//
// Rules: an ignore path skips the subtree at every location it matches
// (ignoring $ skips the body, JSON or not); a tolerance path lets the
// number at a matching location differ by abs or by rel×|prod|, computed
// in exact decimal with the tolerance read as its shortest decimal text
// (abs 0.01 allows exactly 0.01), and lets timestamps differ by skew (RFC
// 3339 strings; numbers as epoch seconds, ms, µs or ns by magnitude).
// Tolerance applies to values at the path itself, not below it: use
// $..price or $.items[*].price. Unordered arrays compare as multisets
// (pairs of equal elements anywhere; left-over elements pair in order and
// are compared, so one changed element is reported once) or as sets keyed
// by a member (pairs by key; a moved element is one order diff, found as
// the elements outside a longest run in the same order; paths name the key,
// $.orders[id=7].total). Masks replace what a regular expression matches in
// strings (or text bodies) on both sides before comparing. errors.by
// restricts a non-2xx pair with equal statuses to the subtree of the
// error-type field (and the listed headers).
//
// Truncated bodies (Response.Truncated): when both sides were cut at the
// body cap, only their lengths are compared; when one side was, what was
// read is compared as usual (a cut JSON body then fails to parse).
//
// Diffs come in a deterministic order: headers in rule order, then body
// differences depth-first with object members in byte order of their names.
// Values in a Diff are for display only: JSON text, cut to about 120 bytes
// with "…", always valid UTF-8.
//
// The package compares one pair; it does not count, aggregate or decide
// verdicts over many pairs (observe, suite), send requests (mirror), or
// decode specs (spec), or learn noise (runner and observe use Compare for
// that). Path syntax belongs to the fieldpath package.
package compare
