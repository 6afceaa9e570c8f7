package redact

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework/scrub"
)

// The script rule: in JavaScript (an HTML page's <script>, a JavaScript
// body, a line of text shown as a difference), a string literal ('...',
// "..." or `...`) that follows a secret name and "=", "+=", "||=", "??="
// or ":" is masked, quotes kept: window.csrfToken = "...", var apiKey =
// '...', {"access_token": "..."}, config["token"] = `...`; so are the
// literals "+" joins to it. The name is an identifier (after a ".", as in
// window.csrfToken) or a string literal (a JSON-like key, or a name in
// brackets). A string literal that follows a secret name given as a
// string literal and a "," is masked too (setItem("token", "..."),
// setRequestHeader("Authorization", "..."), ["X-Api-Key", "..."]), but not
// learned as a secret value: it may be a list of names. Comments are read
// for the same pattern, so that a
// commented-out assignment is masked too. The text is read by a small
// lexer, not a regular expression, so that quotes inside strings,
// comments, template literals and regular expressions do not shift what
// is a name and what is a value. Everything else is kept byte for byte.

// scriptState is where the lexer stands in the pattern name, op, literal.
type scriptState uint8

const (
	scriptNone    scriptState = iota
	scriptName                // a name was read (secret: scriptSecret)
	scriptAssign              // a secret name and "=" or ":" were read
	scriptMasked              // a literal was masked: a "+" may join another
	scriptPair                // a secret name as a string literal, then ",": setItem("token", "...")
	scriptPairKey             // in a pair, a value key: {"name": "token", "value": "..."}
)

// scriptText masks src by the script rule and reports whether it changed
// anything.
func (r *Redactor) scriptText(src []byte) ([]byte, bool) {
	if !hasSecretWord(src, r.extraNames) {
		return src, false
	}
	var out []byte
	r.scanScript(src, false, &out)
	if out == nil {
		return src, false
	}
	return out, true
}

// hasSecretWord is a cheap first look, without allocating: an ASCII text
// without escapes ("%", "\") and without any of the secret words
// (scrub.Words, or "pass" and a word after it) in any case holds no
// secret name, unless the spec added
// names (extra). Anything else may (tok%65n, \u0074oken, and the Kelvin
// sign that lower-cases to k), and is left to scrub.Names.
func hasSecretWord[T string | []byte](text T, extra bool) bool {
	if extra {
		return true
	}
	for i := range len(text) {
		if text[i] == '%' || text[i] == '\\' || text[i] >= utf8.RuneSelf {
			return true
		}
		c := text[i] | 0x20 // ASCII lower case; the words are lower-case letters
		if !wordStart[c] {
			continue
		}
		for _, w := range scrub.Words {
			if c == w[0] && len(text)-i >= len(w) && asciiFoldEqual(text[i:i+len(w)], w) {
				return true
			}
		}
		if c == 'p' && passWordSplit(text[i:]) {
			return true
		}
	}
	return false
}

// passWordSplit reports whether text starts with "pass", separators and
// a "w" in any case: "pass_word", "Pass Word" (scrub.PassWordSplit).
func passWordSplit[T string | []byte](text T) bool {
	if len(text) < 6 || !asciiFoldEqual(text[:4], "pass") {
		return false
	}
	i := 4
	for i < len(text) && text[i] < utf8.RuneSelf && !isASCIIAlnum(text[i]) {
		i++
	}
	return i > 4 && i < len(text) && text[i]|0x20 == 'w'
}

func isASCIIAlnum(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' }

// wordStart holds the first letters of scrub.Words.
var wordStart = func() (start [256]bool) {
	for _, w := range scrub.Words {
		start[w[0]] = true
	}
	return start
}()

// asciiFoldEqual reports whether b is w, a lower-case ASCII word, in any
// case.
func asciiFoldEqual[T string | []byte](b T, w string) bool {
	for i := range len(w) {
		if b[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}

// scanScript lexes src and writes it to *out with the secret literals
// masked; *out stays nil while nothing is masked. In a comment (comment
// set), comments and regular expressions are not recognised: "//" is text.
func (r *Redactor) scanScript(src []byte, comment bool, out *[]byte) {
	state, secretName := scriptNone, false
	literalName := false // the name read (scriptName) is a string literal, not an identifier
	operand := false     // the last token ends an operand: a "/" next divides
	copied := 0          // src[:copied] is in *out already, when *out is not nil
	replace := func(from, to int, with []byte) {
		if *out == nil {
			*out = make([]byte, 0, len(src)+len(Mask))
		}
		*out = append(append(*out, src[copied:from]...), with...)
		copied = to
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case !comment && c == '/' && i+1 < len(src) && (src[i+1] == '/' || src[i+1] == '*'):
			end := len(src)
			var body []byte
			if src[i+1] == '/' {
				if j := bytes.IndexByte(src[i+2:], '\n'); j >= 0 {
					end = i + 2 + j
				}
				body = src[i+2 : end]
			} else {
				if j := bytes.Index(src[i+2:], []byte("*/")); j >= 0 {
					end = i + 2 + j + 2
					body = src[i+2 : end-2]
				} else {
					body = src[i+2:]
				}
			}
			var masked []byte
			r.scanScript(body, true, &masked)
			if masked != nil {
				from := i + 2
				replace(from, from+len(body), masked)
			}
			i = end
		case c == '"' || c == '\'' || c == '`':
			end, closed := literalEnd(src, i)
			content := src[i+1 : end]
			if closed {
				end++
			}
			switch {
			case state == scriptAssign:
				r.learn(jsUnescape(content))
				r.learn(string(content))
				replace(i+1, i+1+len(content), []byte(Mask))
				state = scriptMasked
			case state == scriptPair && followedByColon(src[end:]):
				// A key after the name: {"name": "token", "value": "..."}.
				state = scriptNone
				if isValue(jsUnescape(content)) {
					state = scriptPairKey
				}
			case state == scriptPair:
				// Masked here, not learned: a list of field names
				// (["password", "email"]) would make "email" a secret
				// everywhere.
				replace(i+1, i+1+len(content), []byte(Mask))
				state = scriptNone
			case c != '`' && len(content) <= maxLabel:
				state, secretName, literalName = scriptName, r.names.Secret(jsUnescape(content)), true
			default:
				state = scriptNone
			}
			operand = true
			i = end
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			word := string(src[i:j])
			state, secretName, literalName = scriptName, r.names.Secret(jsUnescape([]byte(word))), false
			operand = !jsKeywordBeforeExpression[word]
			i = j
		case c == ']' && state == scriptName:
			i++ // config["token"] = ...: the name stands
		case c == ',' && state == scriptName && secretName && literalName:
			// A name and its value as arguments or a pair:
			// localStorage.setItem("token", "..."), xhr.setRequestHeader(
			// "Authorization", "Bearer ..."), ["X-Api-Key", "..."].
			state, operand = scriptPair, false
			i++
		case c == ':' || strings.IndexByte("=+-*%&|^!<>?~", c) >= 0:
			j := i + 1
			for c != ':' && j < len(src) && strings.IndexByte("=+-*%&|^!<>?~", src[j]) >= 0 {
				j++
			}
			op := string(src[i:j])
			switch {
			case (state == scriptName && secretName || state == scriptAssign) && (op == ":" || op == "=" || op == "+=" || op == "||=" || op == "??="):
				state = scriptAssign
			case state == scriptMasked && op == "+":
				state = scriptAssign
			case state == scriptPairKey && op == ":":
				state = scriptPair
			default:
				state = scriptNone
			}
			operand = false
			i = j
		case c == '/' && !comment && !operand:
			i = regexpEnd(src, i)
			state, operand = scriptNone, true
		default:
			if c >= utf8.RuneSelf {
				_, size := utf8.DecodeRune(src[i:])
				i += size
			} else {
				i++
			}
			state = scriptNone
			operand = c == ')' || c == ']' || c == '}'
		}
	}
	if *out != nil {
		*out = append(*out, src[copied:]...)
	}
}

// literalEnd returns the index of the quote that closes the literal opened
// at src[start], and whether it is closed; a quoted string ends at a line
// end too (JavaScript does not let it span lines unescaped).
func literalEnd(src []byte, start int) (int, bool) {
	quote := src[start]
	for i := start + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case quote:
			return i, true
		case '\n':
			if quote != '`' {
				return i, false
			}
		}
	}
	return len(src), false
}

// regexpEnd returns the index after the regular expression literal that
// starts at src[start] (a "/" where an operand is expected), its flags
// included; it ends at a line end if it is not closed.
func regexpEnd(src []byte, start int) int {
	class := false
	for i := start + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '[':
			class = true
		case ']':
			class = false
		case '\n':
			return i
		case '/':
			if !class {
				i++
				for i < len(src) && isIdentByte(src[i]) {
					i++
				}
				return i
			}
		}
	}
	return len(src)
}

// isIdentByte reports whether c may be part of an identifier or a number
// (non-ASCII bytes are letters; "\" starts a \u escape).
func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '$' || c == '\\' || c >= utf8.RuneSelf
}

// jsKeywordBeforeExpression are the keywords after which a "/" starts a
// regular expression, not a division.
var jsKeywordBeforeExpression = map[string]bool{
	"return": true, "typeof": true, "case": true, "do": true, "else": true, "in": true,
	"instanceof": true, "new": true, "void": true, "delete": true, "throw": true,
	"yield": true, "await": true, "of": true,
}

// jsUnescape returns the value of a JavaScript string literal's content
// (or an identifier with \u escapes); an escape it does not know stands
// for the character escaped.
func jsUnescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			sb.WriteByte(b[i])
			continue
		}
		i++
		switch c := b[i]; c {
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'v':
			sb.WriteByte('\v')
		case '0':
			sb.WriteByte(0)
		case '\n':
			// a line continuation
		case 'x', 'u':
			digits := 2
			if c == 'u' {
				digits = 4
			}
			hex := ""
			switch {
			case c == 'u' && i+1 < len(b) && b[i+1] == '{':
				if end := bytes.IndexByte(b[i:], '}'); end > 0 {
					hex, i = string(b[i+2:i+end]), i+end
				}
			case i+digits < len(b):
				hex, i = string(b[i+1:i+1+digits]), i+digits
			}
			if n, err := strconv.ParseUint(hex, 16, 32); err == nil && hex != "" {
				sb.WriteRune(rune(n))
			} else {
				sb.WriteByte(c)
			}
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// followedByColon reports whether the first byte of rest that is not
// white space is ":".
func followedByColon(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == ':'
}
