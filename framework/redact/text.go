package redact

// The text rule: in plain text (a text/plain body, a body without a
// Content-Type, a line of a text difference), the value that follows a
// secret name and "=" or ":" is masked: token=..., api_key: ...,
// Authorization: Bearer ..., "password": "...", export API_KEY=... The
// name is a run of letters, digits, "_", "-" and "." that starts the text
// or follows white space or punctuation, optionally quoted; it must name
// a secret (IsSensitiveHeader). Prose keeps its words: in "the token is
// valid" no separator follows the name.
//
// The value is the rest of the line after "name:" (a header, YAML, a
// log's key: value), trimmed; after "name=", it ends at "&" or ";" (a
// query, a cookie) or before white space that a next name= follows
// (logfmt: token=... user=bob), else at the end of the line. A quoted
// value ends at its closing quote, which is kept. A separator that starts
// a URL (http://) or an operator (==, :=, ::) is not one.
//
// The text is read once, left to right; everything else is kept byte for
// byte.

// maxTextName bounds the names the text rule reads: a longer run of name
// characters is not a name.
const maxTextName = maxLabel

// textPairs masks src by the text rule and reports whether it changed
// anything.
func (r *Redactor) textPairs(src []byte) ([]byte, bool) {
	if !hasSecretWord(src, r.extraNames) {
		return src, false
	}
	var out []byte
	copied := 0 // src[:copied] is in out already, when out is not nil
	for i := 0; i < len(src); {
		if !isTextNameByte(src[i]) || i > 0 && !textNameBoundary(src[i-1]) {
			i++
			continue
		}
		start := i
		for i < len(src) && isTextNameByte(src[i]) {
			i++
		}
		name := src[start:i]
		j := i
		if start > 0 && isQuote(src[start-1]) && j < len(src) && src[j] == src[start-1] {
			j++ // "name": ...
		}
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		if j >= len(src) || src[j] != '=' && src[j] != ':' || len(name) > maxTextName {
			continue
		}
		sep := src[j]
		j++
		if j < len(src) && (src[j] == '=' || src[j] == ':' || sep == ':' && src[j] == '/' && j+1 < len(src) && src[j+1] == '/') {
			i = j + 1 // ==, :=, ::, =:, a URL's scheme
			continue
		}
		if !hasSecretWord(name, r.extraNames) || !r.IsSensitiveHeader(string(name)) {
			continue
		}
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		from, to, next := textValue(src, j, sep)
		if from == to || string(src[from:to]) == Mask {
			i = max(next, i)
			continue
		}
		value := string(src[from:to])
		r.learnPair(value)
		if out == nil {
			out = make([]byte, 0, len(src)+len(Mask))
		}
		out = append(append(out, src[copied:from]...), Mask...)
		copied = to
		i = next
	}
	if out == nil {
		return src, false
	}
	return append(out, src[copied:]...), true
}

// textValue finds the value that starts at src[j] after the separator
// sep: src[from:to] is masked, and reading goes on at next. It reads
// the value's bytes only (and the name after it, once per run of white
// space), so that a text of many values is read in linear time.
func textValue(src []byte, j int, sep byte) (from, to, next int) {
	endOfLine := func(k int) bool { return k >= len(src) || src[k] == '\n' || src[k] == '\r' }
	if j < len(src) && isQuote(src[j]) {
		k := j + 1
		for !endOfLine(k) && src[k] != src[j] {
			k++
		}
		if !endOfLine(k) {
			return j + 1, k, k + 1
		}
		return j + 1, k, k // not closed: the rest of the line
	}
	k := j
	for !endOfLine(k) {
		c := src[k]
		if sep == '=' && (c == '&' || c == ';') {
			break
		}
		if c != ' ' && c != '\t' {
			k++
			continue
		}
		run := k
		for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
			k++
		}
		if sep == '=' && nextAssignment(src[k:]) {
			return j, run, k
		}
		if endOfLine(k) {
			return j, run, k // white space that ends the line is not the value's
		}
	}
	return j, k, k
}

// nextAssignment reports whether rest starts with a name and "=" (the
// next pair of a logfmt line). It reads one name at most.
func nextAssignment(rest []byte) bool {
	k := 0
	for k < len(rest) && isTextNameByte(rest[k]) && k <= maxTextName {
		k++
	}
	return k > 0 && k < len(rest) && rest[k] == '='
}

// isTextNameByte reports whether c may be part of a name in text.
func isTextNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// textNameBoundary reports whether a name may start after c: white space
// or punctuation that does not join words.
func textNameBoundary(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '`', '&', ';', ',', '?', '(', '[', '{', '<', '|', '>':
		return true
	}
	return false
}

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }
