// Package scrub keeps secrets and terminal tricks out of everything
// shadowtest writes: stdout, stderr, progress, the JUnit, the results, the
// discrepancy log and the HTML report.
//
// It works two ways. By value, as CI systems mask registered secrets: a
// Scrubber holds every secret value the run knows (expanded ${ENV} values
// of target headers, target URL credentials, values of sensitive headers,
// cookies and query parameters seen in the traffic) and replaces each of
// them, and its base64, URL-encoded, JSON- and HTML-escaped forms, with
// Mask wherever it appears; a Writer does so for a stream, secrets split
// across Write calls included. By name: Names decides whether a header,
// query parameter, cookie, form field or JSON member name is a secret by
// its words (auth, token, key, secret, passw, pwd, jwt, session, cookie,
// signature, credential, bearer), so that the redact package masks its
// value where it stands.
//
// Display, Line and Snippet escape untrusted text for a terminal or a
// page: C0 and C1 control characters, DEL and Unicode bidi overrides become
// visible \u escapes; Snippet also cuts and masks a bad record's quote, and
// URL shows a URL without its credentials and query. A Terminal writer
// applies the same escaping to everything written to stdout and stderr.
//
// The package does not parse bodies or know about spec paths; the redact
// package does that and registers what it masks here.
package scrub
