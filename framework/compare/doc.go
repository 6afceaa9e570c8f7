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
//     re-joined as "a, b", and Content-Type parsed (lower-case media type
//     and charset, parameters sorted). A header present on one side only is
//     a difference too, at path "header:Canonical-Name".
//   - Body: byte-identical bodies match. JSON bodies (prod's Content-Type is
//     application/json or */*+json, or, without a Content-Type, both bodies
//     start like a JSON object or array) are compared structurally at
//     concrete paths such as $.items[3].price: object members by name
//     (missing, extra), arrays by index (a length difference is one size
//     diff at the array, shown as "3 elements", plus diffs over the common
//     prefix), values by JSON type (type) and value (value). Numbers compare
//     by exact decimal value: 1 == 1.0 == 1e0, and large integers are not
//     rounded. If only one side parses, the diff is at path "body" of kind
//     type with the parse error; if neither does, bytes are compared.
//     Other bodies are compared as bytes, at path "body" (size when the
//     lengths differ, value otherwise).
//
// Rules: an ignore path skips the subtree at every location it matches
// (ignoring $ skips the body, JSON or not); a tolerance path lets the
// number at a matching location differ by abs or by rel×|prod|, computed
// in exact decimal with the tolerance read as its shortest decimal text
// (abs 0.01 allows exactly 0.01). Tolerance applies to numbers at the
// path itself, not to numbers below it: use $..price or $.items[*].price.
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
// decode specs (spec). Path syntax belongs to the fieldpath package.
package compare
