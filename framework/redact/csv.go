package redact

import (
	"bytes"
	"strings"
)

// The table rule: in a CSV or TSV body (RFC 4180: fields separated by
// ",", ";" or a tab, or as Excel's first line "sep=;" says; a field in
// double quotes may hold separators, line breaks and "" for a quote;
// records end at LF, CRLF or CR), the first record is the header, and the
// fields of every other record under a column whose header names a secret
// (user,password / api_key / "Authorization") are masked, quotes kept.
// Everything else is kept byte for byte. A text/csv, application/csv or
// text/tab-separated-values body is read as a table whatever its shape;
// other text (text/plain, no Content-Type) only when every record has as
// many fields as its header, two or more, and a secret column's header
// reads as a name (csvLabel): a table, not prose or a log with commas.
// The body is read once, left to right.

// csvField is where one field of a record stands: body[from:to] is its
// content (inside the quotes when quoted).
type csvField struct {
	from, to int
	quoted   bool
}

// text returns the field's content, a quoted field's "" read as ".
func (f csvField) text(body []byte) string {
	s := string(body[f.from:f.to])
	if f.quoted {
		s = strings.ReplaceAll(s, `""`, `"`)
	}
	return s
}

// csvTable masks the secret columns of body read as a table; strict asks
// for a table of consistent records (see the table rule). ok is false
// when nothing was masked.
func (r *Redactor) csvTable(body []byte, strict bool) ([]byte, bool) {
	head, next := csvHead(body, 0)
	sep, start := byte(0), 0
	if len(head) == 5 && bytes.HasPrefix(head, []byte("sep=")) {
		// Excel's first line names the separator (sep=;): the header
		// follows it.
		sep, start = head[4], next
		head, _ = csvHead(body, start)
	}
	if !hasSecretWord(head, r.extraNames) {
		return body, false // no secret column: most tables stop here
	}
	if sep == 0 {
		// The separator the header uses most: a ";" table (where "," is
		// the decimal mark) may have a comma in a column's name
		// ("Amount (EUR, net)"); "," first on a tie.
		most := 0
		for _, c := range []byte{',', '\t', ';'} {
			if n := csvOutsideQuotes(head, c); n > most {
				sep, most = c, n
			}
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
	quotes := true
	for at := start; at < len(body); {
		fields, at = csvRecord(body, at, sep, fields[:0], &quotes)
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
				name := strings.TrimSpace(f.text(body))
				columns[i] = len(name) <= maxLabel && name != "" && (!strict || csvLabel(name)) && r.IsSensitiveHeader(name)
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
		value := f.text(body)
		r.learnPair(value)
		r.learnPair(strings.TrimSpace(value))
		out = append(append(out, body[copied:f.from]...), Mask...)
		copied = f.to
	}
	return append(out, body[copied:]...), true
}

// csvLabel reports whether a header cell of plain text reads as a column
// name: two words at most, without ":" or "=". Log lines and prose with
// as many commas on every line ("session store: ok, 3ms", "ERROR auth
// failed, retrying") are not a table: masking their first field would
// change what a recording holds ("cache: down" lost in a replay).
func csvLabel(name string) bool {
	return !strings.ContainsAny(name, ":=") && len(strings.Fields(name)) <= 2
}

// csvRecord reads the record that starts at body[at], appending its
// fields to fields, and returns where the next record starts. A record
// ends at a line break outside quotes: LF, CRLF, or a CR alone. Bytes
// after a closing quote, up to the next separator, are the field's too.
// A quote that is never closed (a stray " at the start of a field, which
// would otherwise take in every record after it, secret columns included)
// is a byte like any other, and so is every quote after it: *quotes is
// set to false, and the body is still read once.
func csvRecord(body []byte, at int, sep byte, fields []csvField, quotes *bool) ([]csvField, int) {
	for {
		f := csvField{from: at}
		if *quotes && at < len(body) && body[at] == '"' {
			open := at
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
			} else {
				*quotes = false
				f, at = csvField{from: open}, open
			}
		}
		for at < len(body) && body[at] != sep && body[at] != '\n' && body[at] != '\r' {
			at++
		}
		if !f.quoted {
			f.to = at
		}
		fields = append(fields, f)
		if at >= len(body) {
			return fields, at
		}
		if body[at] == '\n' || body[at] == '\r' {
			return fields, csvNext(body, at)
		}
		at++ // the separator
	}
}

// csvHead returns the record of body that starts at from: up to the
// first line break outside double quotes; next is where the record after
// it starts. A quote never closed (a stray " in the header: "user,password)
// is a byte, as csvRecord reads it: the record ends at the first line
// break after it. Without that the header ran to the end of the body and
// no separator was found outside quotes, so the table was not read.
func csvHead(body []byte, from int) (head []byte, next int) {
	quoted, open := false, 0
	for i := from; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			quoted, open = !quoted, i
		case (c == '\n' || c == '\r') && !quoted:
			return body[from:i], csvNext(body, i)
		}
	}
	if quoted {
		// open is the body's last quote: no quote follows it.
		if i := bytes.IndexAny(body[open:], "\r\n"); i >= 0 {
			return body[from : open+i], csvNext(body, open+i)
		}
	}
	return body[from:], len(body)
}

// csvNext returns where the record after the line break at body[i]
// starts.
func csvNext(body []byte, i int) int {
	if body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n' {
		return i + 2
	}
	return i + 1
}

// csvOutsideQuotes counts c in record outside double quotes; a quote the
// record never closes is a byte (see csvHead), so what follows it counts.
func csvOutsideQuotes(record []byte, c byte) int {
	quoted, n, inside := false, 0, 0
	for _, b := range record {
		switch {
		case b == '"':
			quoted, inside = !quoted, 0
		case b == c && quoted:
			inside++
		case b == c:
			n++
		}
	}
	if quoted {
		n += inside
	}
	return n
}

// csvMedia reports whether a media type is a table (CSV or TSV).
func csvMedia(media string) bool {
	return media == "text/csv" || media == "application/csv" || media == "text/tab-separated-values"
}
