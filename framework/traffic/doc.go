// Package traffic reads recorded traffic as a stream of exchanges: HAR 1.2
// files, GoReplay captures (.gor) and shadowtest's own JSONL format. Open
// picks the reader for a spec's traffic source (expanding globs, gunzipping
// .gz files, sorting HAR entries by startedDateTime with Sort, and handing
// synthetic sources to framework/internal/synth); Next yields one
// framework.Exchange at a time, so a multi-gigabyte recording is never
// held in memory. WriteJSONL writes the JSONL format, so that other
// recordings can be converted to it.
//
// It only reads, sorts and converts records. It does not select, sample
// or shard them, and it does not send anything.
//
// Every reader produces requests in the same shape: the method in upper
// case, the URL in origin form (path and query, taken from the recorded
// absolute URL, fragment dropped), the recorded Host header (or HAR
// ":authority") in Request.Host rather than in the headers, and no
// Content-Length or hop-by-hop headers (Connection, Keep-Alive,
// Transfer-Encoding, ... and those Connection names), since the client
// decides those.
// An empty body is nil. Exchange.Origin names the record: "demo.har:
// entry 12" (HAR entries are numbered from 1 in array order, whatever
// the sorted order), "x.gor: record 5" or "traffic.jsonl: line 3".
//
// # GoReplay
//
// See NewGorReader: records end with the line GorSeparator, start with a
// meta line "TYPE ID TIMESTAMP_NS [LATENCY_NS]", and hold a raw HTTP/1.x
// message; requests and original responses are paired by ID.
//
// # HAR
//
// From each entry of log.entries: startedDateTime (RFC 3339) becomes
// Exchange.Time; request.method, request.url (absolute), request.headers
// (HTTP/2 pseudo-headers such as ":authority" dropped), request.queryString
// (used only when the URL has no query), and request.postData.text or,
// when the text is absent, postData.params encoded for postData.mimeType
// (application/x-www-form-urlencoded, the default, or multipart/form-data
// with its boundary) become the request. The response (status, headers,
// content.text, decoded when content.encoding is "base64") becomes
// Exchange.Recorded; HAR stores the body decoded, so the recorded
// Content-Encoding, Content-Length and Transfer-Encoding headers are
// dropped (a body some recorder stored still encoded is decoded first, see
// Recorded bodies). A response with status 0 (a browser's failed or blocked
// request) counts as none. Fields starting with "_" and unknown fields are
// ignored; a UTF-8 byte order mark is accepted.
//
// # JSONL
//
// One exchange per line, a JSON object:
//
//	{"time":"2026-11-25T10:00:00Z",
//	 "request":{"method":"GET","url":"/users/7?x=1","headers":{"Accept":["application/json"]},"body":"..."},
//	 "response":{"status":200,"headers":{"Content-Type":["application/json"]},"bodyBase64":"..."}}
//
// (shown on three lines here; a record is always on one line).
//
//   - time: optional, RFC 3339 with optional fractional seconds.
//   - request: required. method and url are required; url is origin-form
//     ("/path?query"), and an absolute URL is accepted and reduced to its
//     path and query.
//   - headers: optional, an object mapping a header name to an array of
//     values, in both request and response.
//   - body or bodyBase64: optional, at most one: the body as UTF-8 text, or
//     as standard padded base64 for any bytes. Absent means empty.
//   - response: optional, the recorded response; status (100-999) is
//     required when it is present; latencyMs, optional, is how long the
//     recorded request took.
//
// Blank lines are skipped but counted; lines end with "\n" or "\r\n"; a
// line may not be longer than MaxLineBytes; a leading UTF-8 byte order
// mark is ignored. Unknown fields are ignored.
// A response body is stored as it was received on the wire, with its
// Content-Encoding; the reader decodes it (see Recorded bodies).
//
// # Recorded bodies
//
// Every reader yields a recorded response body decoded, without
// Content-Encoding or Content-Length. Recorders disagree on what they
// store (HAR says decoded, some HAR writers store base64 of the gzip
// bytes, JSONL and GoReplay keep the wire bytes, some tools decode and
// keep the header), so the recorded Content-Encoding is undone, last
// coding first, only where the body is still encoded: gzip by its magic
// bytes, deflate and br when the body decodes as such. A body with gzip's
// magic bytes that does not decode is a *RecordError.
//
// # Errors
//
// A malformed record is a *RecordError naming the file, the record and,
// where possible, the field: "demo.har: entry 12: request.method: missing".
// Other errors concern the whole file ("x.json: not a HAR file: no
// log.entries array") and end the stream. A JSONL recording whose end was
// cut (a gzip stream without its end, a last line without its newline
// that is only the start of a record, as a killed or crashed recorder
// leaves it) yields its records up to the cut, then a *RecordError
// wrapping ErrCutShort, then the next file; WarnCutShort turns that into
// a warning.
package traffic
