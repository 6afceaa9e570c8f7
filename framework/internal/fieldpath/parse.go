package fieldpath

import (
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SyntaxError reports a malformed path and where in it the problem is.
type SyntaxError struct {
	// Path is the text given to Parse.
	Path string
	// Offset is the byte offset in Path where the problem was found.
	Offset int
	// Msg says what was expected or what is wrong.
	Msg string
}

// Error formats the error as
// "fieldpath: $.a[x]: expected index or * at offset 4".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("fieldpath: %s: %s at offset %d", e.Path, e.Msg, e.Offset)
}

// headerPrefix starts a header path.
const headerPrefix = "header:"

// Parse parses a body path ($.items[*].price, $..requestId) or a header
// path (header:Date). Errors are *SyntaxError values naming the path, what
// is wrong and the byte offset.
func Parse(s string) (Path, error) {
	if strings.HasPrefix(s, headerPrefix) {
		return parseHeader(s)
	}
	p := parser{src: s}
	return p.parse()
}

// MustParse is like Parse but panics on error. It is meant for paths
// written in Go source (tests, examples), not for user input.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

func parseHeader(s string) (Path, error) {
	name := s[len(headerPrefix):]
	if name == "" {
		return Path{}, &SyntaxError{Path: s, Offset: len(s), Msg: "expected header name"}
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return Path{}, &SyntaxError{Path: s, Offset: len(headerPrefix) + i,
				Msg: fmt.Sprintf("invalid character %q in header name", name[i])}
		}
	}
	return Path{header: textproto.CanonicalMIMEHeaderKey(name)}, nil
}

// isTokenChar reports whether c may appear in an HTTP header name
// (RFC 9110 token).
func isTokenChar(c byte) bool {
	return isIdentPart(c) || strings.IndexByte("!#$%&'*+.^`|~", c) >= 0
}

type parser struct {
	src   string
	pos   int
	elems []elem
}

func (p *parser) errAt(offset int, format string, args ...any) error {
	return &SyntaxError{Path: p.src, Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() (Path, error) {
	if p.src == "" || p.src[0] != '$' {
		return Path{}, p.errAt(0, "expected $ or %s", headerPrefix)
	}
	p.pos = 1
	fixed, anyLen := 0, false
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '.':
			p.pos++
			if p.pos < len(p.src) && p.src[p.pos] == '.' {
				p.pos++
				p.elems = append(p.elems, elem{kind: elemAnySteps})
				anyLen = true
			} else if p.pos < len(p.src) && p.src[p.pos] == '*' {
				// .*: any member, the form folded categories take.
				p.pos++
				p.elems = append(p.elems, elem{kind: elemAnyKey})
				break
			}
			name, err := p.name()
			if err != nil {
				return Path{}, err
			}
			p.elems = append(p.elems, elem{kind: elemKey, name: name})
		case '[':
			if err := p.bracket(); err != nil {
				return Path{}, err
			}
		default:
			return Path{}, p.errAt(p.pos, "expected . or [")
		}
		fixed++
	}
	return Path{elems: p.elems, fixed: fixed, anyLen: anyLen}, nil
}

// bracket parses [N] or [*] starting at the '['.
func (p *parser) bracket() error {
	p.pos++
	start := p.pos
	if start < len(p.src) && p.src[start] == '*' {
		if !strings.HasPrefix(p.src[start:], "*]") {
			return p.errAt(start+1, "expected ]")
		}
		p.elems = append(p.elems, elem{kind: elemAnyIndex})
		p.pos += 2
		return nil
	}
	for p.pos < len(p.src) && '0' <= p.src[p.pos] && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start && start < len(p.src) && (p.src[start] == '"' || isIdentStart(p.src[start])) {
		return p.keyed()
	}
	if p.pos == start {
		return p.errAt(start, "expected index or *")
	}
	if p.pos == len(p.src) || p.src[p.pos] != ']' {
		return p.errAt(p.pos, "expected ]")
	}
	n, err := strconv.ParseInt(p.src[start:p.pos], 10, strconv.IntSize)
	if err != nil {
		return p.errAt(start, "index out of range")
	}
	p.elems = append(p.elems, elem{kind: elemIndex, index: int(n)})
	p.pos++
	return nil
}

// keyed parses field=value] at p.pos, the element of a keyed set whose key
// member field has the value: a JSON string, number, true, false or null.
// The label is kept in the canonical form KeyedIndex builds.
func (p *parser) keyed() error {
	start := p.pos
	field, err := p.name()
	if err != nil || p.pos == len(p.src) || p.src[p.pos] != '=' {
		// Not [field=value]: the usual message covers the common mistake.
		return p.errAt(start, "expected index or *")
	}
	p.pos++
	var label Step
	if p.pos < len(p.src) && p.src[p.pos] == '"' {
		value, err := p.quoted()
		if err != nil {
			return err
		}
		label = KeyedIndex(0, field, value, true)
	} else {
		start := p.pos
		for p.pos < len(p.src) && strings.IndexByte("+-.0123456789eEtrufalsn", p.src[p.pos]) >= 0 {
			p.pos++
		}
		if p.pos == start {
			return p.errAt(start, "expected a key value: a JSON string, number, true, false or null")
		}
		label = KeyedIndex(0, field, p.src[start:p.pos], false)
	}
	if p.pos == len(p.src) || p.src[p.pos] != ']' {
		return p.errAt(p.pos, "expected ]")
	}
	p.pos++
	p.elems = append(p.elems, elem{kind: elemKeyed, name: label.Label})
	return nil
}

// name parses an identifier or a quoted name at p.pos.
func (p *parser) name() (string, error) {
	start := p.pos
	if start < len(p.src) && p.src[start] == '"' {
		return p.quoted()
	}
	if start == len(p.src) || !isIdentStart(p.src[start]) {
		return "", p.errAt(start, `expected name or "quoted name"`)
	}
	p.pos++
	for p.pos < len(p.src) && isIdentPart(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos], nil
}

// quoted parses a JSON string at p.pos. Raw control characters and invalid
// UTF-8 are errors; a lone surrogate escape decodes to U+FFFD, as in
// encoding/json.
func (p *parser) quoted() (string, error) {
	open := p.pos
	p.pos++
	var b []byte // nil until the first escape: most names have none
	from := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			name := p.src[from:p.pos]
			if b != nil {
				name = string(append(b, name...))
			}
			p.pos++
			return name, nil
		case c == '\\':
			b = append(b, p.src[from:p.pos]...)
			var err error
			if b, err = p.escape(b); err != nil {
				return "", err
			}
			from = p.pos
		case c < 0x20:
			return "", p.errAt(p.pos, "control character in quoted name")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errAt(p.pos, "invalid UTF-8 in quoted name")
			}
			p.pos += size
		default:
			p.pos++
		}
	}
	return "", p.errAt(open, "unterminated quoted name")
}

// escape decodes the escape sequence at p.pos (a backslash) into b.
func (p *parser) escape(b []byte) ([]byte, error) {
	at := p.pos
	if at+1 >= len(p.src) {
		return nil, p.errAt(at, "unterminated escape")
	}
	c := p.src[at+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return append(b, c), nil
	case 'b':
		return append(b, '\b'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 't':
		return append(b, '\t'), nil
	case 'u':
		r, ok := hex4(p.src[at+2:])
		if !ok {
			return nil, p.errAt(at, `expected 4 hex digits after \u`)
		}
		p.pos += 4
		if utf16.IsSurrogate(r) {
			r = p.lowSurrogate(r)
		}
		return utf8.AppendRune(b, r), nil
	}
	return nil, p.errAt(at, "invalid escape %q", p.src[at:at+2])
}

// lowSurrogate completes the surrogate pair that starts with the high half
// hi when a \u escape of the low half follows at p.pos, and returns U+FFFD
// otherwise.
func (p *parser) lowSurrogate(hi rune) rune {
	rest := p.src[p.pos:]
	if !strings.HasPrefix(rest, `\u`) {
		return utf8.RuneError
	}
	lo, ok := hex4(rest[2:])
	if !ok {
		return utf8.RuneError
	}
	r := utf16.DecodeRune(hi, lo)
	if r != utf8.RuneError {
		p.pos += 6
	}
	return r
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
