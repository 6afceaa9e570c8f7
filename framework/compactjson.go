package framework

// CompactJSON removes the insignificant space of valid JSON in place and
// returns the shortened slice: json.Compact without its second validity
// check and copy, for bytes a decoder has already checked (protojson's
// output, a recorded message json.Unmarshal accepted).
func CompactJSON(b []byte) []byte {
	n, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ', c == '\t', c == '\n', c == '\r':
			continue
		}
		b[n] = c
		n++
	}
	return b[:n]
}
