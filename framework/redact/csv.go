package redact

import (
	"bytes"
	"strings"
)

// The table rule: in a CSV or TSV body (RFC 4180: fields separated by
// ",", ";" or a tab, a field in double quotes may hold separators, line
// breaks and "" for a quote), the first record is the header, and the
// fields of every other record under a column whose header names a secret
// (user,password / api_key / "Authorization") are masked, quotes kept.
// Everything else is kept byte for byte. A text/csv, application/csv or
// text/tab-separated-values body is read as a table whatever its shape;
// other text (text/plain, no Content-Type) only when every record has as
// many fields as its header, two or more: a table, not prose with commas.
// The body is read once, left to right.

// csvField is where one field of a record stands: body[from:to] is its
// content (inside the quotes when quoted).
type csvField struct {
	from, to int
	quoted   bool
}

// csvTable masks the secret columns of body read as a table; strict asks
// for a table of consistent records (see the table rule). ok is false
// when nothing was masked.
func (r *Redactor) csvTable(body []byte, strict bool) ([]byte, bool) {
	head := csvHead(body)
	if !hasSecretWord(head, r.extraNames) {
		return body, false // no secret column: most tables stop here
	}
	sep := byte(0)
	for _, c := range []byte{',', '\t', ';'} {
		if csvOutsideQuotes(head, c) {
			sep = c
			break
		}
	}
	if sep == 0 {
		return body, false
	}
	var (
		columns []bool // the header's columns that name a secret
		masks   []csvField
		fields  []csvField
	)
	for at := 0; at < len(body); {
		fields, at = csvRecord(body, at, sep, fields[:0])
		if len(fields) == 1 && fields[0].from == fields[0].to && !fields[0].quoted {
			continue // a blank line
		}
		if columns == nil {
			if strict && len(fields) < 2 {
				return body, false
			}
			secret := false
			columns = make([]bool, len(fields))
			for i, f := range fields {
				name := string(body[f.from:f.to])
				if f.quoted {
					name = strings.ReplaceAll(name, `""`, `"`)
				}
				name = strings.TrimSpace(name)
				columns[i] = len(name) <= maxLabel && name != "" && r.IsSensitiveHeader(name)
				secret = secret || columns[i]
			}
			if !secret {
				return body, false
			}
			continue
		}
		if strict && len(fields) != len(columns) {
			return body, false // not a table
		}
		for i, f := range fields {
			if i < len(columns) && columns[i] && len(bytes.TrimSpace(body[f.from:f.to])) > 0 {
				masks = append(masks, f)
			}
		}
	}
	if len(masks) == 0 {
		return body, false
	}
	out := make([]byte, 0, len(body))
	copied := 0
	for _, f := range masks {
		value := string(body[f.from:f.to])
		if f.quoted {
			value = strings.ReplaceAll(value, `""`, `"`)
		}
		r.learnPair(value)
		r.learnPair(strings.TrimSpace(value))
		out = append(append(out, body[copied:f.from]...), Mask...)
		copied = f.to
	}
	return append(out, body[copied:]...), true
}

// csvRecord reads the record that starts at body[at], appending its
// fields to fields, and returns where the next record starts. A quoted
// field that is not closed runs to the end of the body; bytes after a
// closing quote, up to the next separator, are the field's too.
func csvRecord(body []byte, at int, sep byte, fields []csvField) ([]csvField, int) {
	for {
		f := csvField{from: at}
		if at < len(body) && body[at] == '"' {
			f.quoted, f.from = true, at+1
			at++
			for at < len(body) {
				if body[at] == '"' {
					if at+1 < len(body) && body[at+1] == '"' {
						at += 2
						continue
					}
					break
				}
				at++
			}
			f.to = at
			if at < len(body) {
				at++ // the closing quote
			}
		}
		for at < len(body) && body[at] != sep && body[at] != '\n' {
			at++
		}
		if !f.quoted {
			f.to = at
			if f.to > f.from && body[f.to-1] == '\r' && (at == len(body) || body[at] == '\n') {
				f.to-- // CRLF
			}
		}
		fields = append(fields, f)
		if at >= len(body) {
			return fields, at
		}
		if body[at] == '\n' {
			return fields, at + 1
		}
		at++ // the separator
	}
}

// csvHead returns the first record of body: up to the first line break
// outside double quotes.
func csvHead(body []byte) []byte {
	quoted := false
	for i, c := range body {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\n' && !quoted:
			return body[:i]
		}
	}
	return body
}

// csvOutsideQuotes reports whether c appears in record outside double
// quotes.
func csvOutsideQuotes(record []byte, c byte) bool {
	quoted := false
	for _, b := range record {
		switch {
		case b == '"':
			quoted = !quoted
		case b == c && !quoted:
			return true
		}
	}
	return false
}

// csvMedia reports whether a media type is a table (CSV or TSV).
func csvMedia(media string) bool {
	return media == "text/csv" || media == "application/csv" || media == "text/tab-separated-values"
}
