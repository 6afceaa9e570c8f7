package scrub

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Bidi reports whether r is a Unicode bidirectional override or isolate
// (U+202A–U+202E, U+2066–U+2069), which can reorder the text shown around
// it: "prod 1, shadow 2" could read as "prod 2, shadow 1".
func Bidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// unsafeRune reports whether r must not reach a terminal or a page as is:
// C0 controls, DEL, C1 controls and bidi overrides.
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || Bidi(r)
}

// Display escapes untrusted text for a terminal, keeping newlines and tabs:
// other control characters, DEL, C1 controls and bidi overrides become
// \u escapes (\u001b for ESC), and invalid UTF-8 bytes become \xNN.
func Display(s string) string { return escape(s, "\n\t") }

// Line is Display for text shown on one line: newlines and tabs are
// escaped too.
func Line(s string) string { return escape(s, "") }

func escape(s, keep string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) && !strings.ContainsRune(keep, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r) && !strings.ContainsRune(keep, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// terminalBytes escapes what a Terminal writer must not pass: control
// characters other than newline and tab, DEL, C1 controls and bidi
// overrides, and bytes that are not UTF-8 (\xNN), except a carriage return
// that starts the write and SGR colour sequences (ESC [ digits and
// semicolons m).
func terminalBytes(p []byte) []byte {
	safe := true
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			safe = false
			break
		}
	}
	if safe {
		return p
	}
	var b []byte
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\r' && i == 0, c == '\n', c == '\t':
			b = append(b, c)
			i++
			continue
		case c == 0x1b:
			if n := sgrLen(p[i:]); n > 0 {
				b = append(b, p[i:i+n]...)
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// A stray byte: 0x9b alone is CSI to an 8-bit terminal.
			b = fmt.Appendf(b, `\x%02x`, p[i])
		case unsafeRune(r):
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = append(b, p[i:i+size]...)
		}
		i += size
	}
	return b
}

// sgrLen returns the length of the colour sequence ESC [ [0-9;]* m at the
// start of p, or 0.
func sgrLen(p []byte) int {
	if len(p) < 3 || p[1] != '[' {
		return 0
	}
	for i := 2; i < len(p) && i < 24; i++ {
		switch c := p[i]; {
		case c == 'm':
			return i + 1
		case c >= '0' && c <= '9', c == ';':
		default:
			return 0
		}
	}
	return 0
}

// SnippetLen is the most bytes of a record that an error message quotes.
const SnippetLen = 32

// snippetWindow is how much of a record Snippet masks before it cuts.
const snippetWindow = SnippetLen + 96

// userinfoRE finds the password of a URL's userinfo.
var userinfoRE = regexp.MustCompile(`(://[^/\s:@]*:)[^/\s@]+@`)

// Snippet quotes the start of untrusted input (a bad record, a file that is
// not traffic) for an error message: at most SnippetLen bytes, values after
// "=" or ":" masked when their name is a secret by names (Default when
// nil), escaped with Line, in double quotes, with "..." when cut.
func Snippet(b []byte, names *Names) string {
	// Mask on more than is quoted: a token cut at SnippetLen would be too
	// short to look like one ("wJalrXUtnFE" of an AWS secret key).
	cut := len(b) > snippetWindow
	if cut {
		b = b[:snippetWindow]
	}
	if names == nil {
		names = Default()
	}
	s := names.maskPairs(userinfoRE.ReplaceAllString(string(b), "${1}"+Mask+"@"))
	if len(s) > SnippetLen {
		end := SnippetLen
		// Never show part of a mask: end after it.
		if i := strings.LastIndex(s[:end], "["); i >= 0 && strings.HasPrefix(s[i:], Mask) && i+len(Mask) > end {
			end = i + len(Mask)
		}
		s, cut = s[:end], true
	}
	out := `"` + Line(s) + `"`
	if cut {
		out += "..."
	}
	return out
}

// URL shows a URL in a message without what may be secret: credentials
// become Mask, and the query and fragment are dropped ("?…" says there was
// one). It works on text that does not parse as a URL too, and escapes the
// result with Line.
func URL(raw string) string {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		authority := rest[i+3:]
		if end := strings.IndexByte(authority, '/'); end >= 0 {
			authority = authority[:end]
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			rest = rest[:i+3] + Mask + rest[i+3+at:]
		}
	} else if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = Mask + rest[at:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "?…"
	}
	return Line(rest)
}
