package fieldpath

import (
	"strconv"
	"unicode/utf8"
)

// Format renders the concrete location loc as a path, for example
// $.items[3].price or $."first name". Parse accepts the result, and the
// parsed path matches loc. Invalid UTF-8 in member names is written as
// U+FFFD, so the result is always valid UTF-8.
func Format(loc []Step) string {
	return string(AppendFormat(make([]byte, 0, 1+8*len(loc)), loc))
}

// AppendFormat appends Format(loc) to dst and returns the extended buffer.
func AppendFormat(dst []byte, loc []Step) []byte {
	dst = append(dst, '$')
	for _, s := range loc {
		if s.IsIndex {
			if s.Label != "" {
				dst = append(dst, '[')
				dst = append(dst, s.Label...)
				dst = append(dst, ']')
				continue
			}
			dst = appendIndex(dst, s.Index)
			continue
		}
		dst = append(dst, '.')
		dst = appendName(dst, s.Key)
	}
	return dst
}

func appendIndex(dst []byte, i int) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(i), 10)
	return append(dst, ']')
}

// KeyedIndex returns the step into the element at index i of an array
// compared as a set keyed by the member field, whose key value is value:
// the JSON text of a number, true, false or null, or a string's decoded
// content when isString is set. Format writes it as [field=value], for
// example $.orders[id=7] or $.orders[sku="A-1"].
func KeyedIndex(i int, field, value string, isString bool) Step {
	b := make([]byte, 0, len(field)+len(value)+3)
	b = appendName(b, field)
	b = append(b, '=')
	if isString {
		b = appendQuoted(b, value)
	} else {
		b = append(b, value...)
	}
	return Step{Index: i, IsIndex: true, Label: string(b)}
}

// appendName writes a member name bare when it is an identifier, else as a
// JSON string.
func appendName(dst []byte, name string) []byte {
	if isIdent(name) {
		return append(dst, name...)
	}
	return appendQuoted(dst, name)
}

// appendQuoted writes name as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendQuoted(dst []byte, name string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(name); {
		c := name[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(name[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, name[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				dst = append(dst, c)
			}
		}
		i++
	}
	return append(dst, '"')
}

// isIdent reports whether name can be written without quotes:
// [A-Za-z_][A-Za-z0-9_-]*, the same rule as the spec schema's #Path.
func isIdent(name string) bool {
	if name == "" || !isIdentStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isIdentPart(name[i]) {
			return false
		}
	}
	return true
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c == '-' || '0' <= c && c <= '9'
}
