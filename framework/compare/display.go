package compare

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// displayLimit is roughly how many bytes of a value a Diff shows.
const displayLimit = 120

// ellipsis marks a value cut at displayLimit.
const ellipsis = "…"

// display renders a decoded JSON value as JSON text for a Diff, stopping
// early on large values.
func display(v any) string {
	b := appendJSON(make([]byte, 0, 32), v)
	return clipBytes(b)
}

// appendJSON appends v as JSON, object members sorted by name. It stops
// once more than displayLimit bytes are written: the rest would be cut.
func appendJSON(b []byte, v any) []byte {
	if len(b) > displayLimit {
		return b
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case json.Number:
		return append(b, v...)
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, elem := range v {
			if len(b) > displayLimit {
				return b
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, elem)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if len(b) > displayLimit {
				return b
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, v[k])
		}
		return append(b, '}')
	}
	return append(b, "?"...) // not produced by encoding/json decoding
}

// appendString appends s as a JSON string, stopping after displayLimit
// bytes of output.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if len(b) > displayLimit {
			return b
		}
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// clipBytes shows b as valid UTF-8 text of about displayLimit bytes,
// without copying more of b than it shows.
func clipBytes(b []byte) string {
	return clipString(string(b[:min(len(b), displayLimit+1)]))
}

// clipString replaces invalid UTF-8 in s with U+FFFD, then cuts it to at
// most displayLimit bytes at a rune boundary and marks the cut with an
// ellipsis.
func clipString(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= displayLimit {
		return s
	}
	cut := displayLimit
	for !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// displayNode renders node i of a tape like display renders the decoded
// value: JSON text, members sorted by name, cut at about displayLimit bytes.
func displayNode(t *tape, i int32) string {
	return clipBytes(appendNode(make([]byte, 0, 32), t, i))
}

// appendNode appends node i as JSON, stopping once more than displayLimit
// bytes are written.
func appendNode(b []byte, t *tape, i int32) []byte {
	if len(b) > displayLimit {
		return b
	}
	n := &t.nodes[i]
	switch n.kind {
	case kindNull:
		return append(b, "null"...)
	case kindFalse:
		return append(b, "false"...)
	case kindTrue:
		return append(b, "true"...)
	case kindNumber:
		return append(b, t.bytes(n.value)...)
	case kindString:
		return appendString(b, unsafeString(t.bytes(n.value)))
	case kindArray:
		b = append(b, '[')
		for e, first := i+1, true; e < n.end; e, first = t.nodes[e].end, false {
			if len(b) > displayLimit {
				return b
			}
			if !first {
				b = append(b, ',')
			}
			b = appendNode(b, t, e)
		}
		return append(b, ']')
	case kindObject:
		members := appendMembers(make([]int32, 0, n.count), t, i)
		sortMembers(t, members)
		b = append(b, '{')
		first := true
		for m := 0; m < len(members); m++ {
			m = skipDuplicates(t, members, m)
			if len(b) > displayLimit {
				return b
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, unsafeString(t.bytes(t.nodes[members[m]].key)))
			b = append(b, ':')
			b = appendNode(b, t, members[m])
		}
		return append(b, '}')
	}
	return append(b, '?')
}
