// Package shape describes the shape of a response value: its JSON kind,
// a recognised string format (UUID, RFC 3339 or HTTP time, IP address...) or a
// template (fixed prefix and suffix around a varying part), and whether a
// number is an integer. Noise learning uses it to say "this field may
// differ, but must keep prod's shape", and the comparator uses it for the
// spec's declared shape rules.
//
// Everything here is a pure function of the values: a Learner gives the
// same shape whatever order the values arrive in.
package shape

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"time"
)

// Format is a set of recognised string formats, one bit each.
type Format uint16

// The recognised formats.
const (
	// UUID is 8-4-4-4-12 hexadecimal digits (any version, either case).
	UUID Format = 1 << iota
	// RFC3339 is an RFC 3339 date-time, fractional seconds optional.
	RFC3339
	// IPPort is an IP address with a port: 127.0.0.1:8080, [::1]:8080.
	IPPort
	// IP is an IPv4 or IPv6 address without a port.
	IP
	// Integer is the text of an integer: an optional minus sign and digits.
	Integer
	// Decimal is the text of a decimal number: 3, -0.5, 1e6.
	Decimal
	// Hex is an even number of hexadecimal digits, all of one case.
	Hex
	// Base64 is standard or URL-safe base64, padded or not, at least 4
	// characters.
	Base64
	// HTTPDate is an HTTP date (RFC 9110 §5.6.7: "Mon, 30 Nov 2026
	// 02:30:05 GMT", the obsolete RFC 850 and asctime forms) or RFC 1123
	// with a numeric zone. Without it, such a time was learned as a
	// template whose fixed prefix held the day and minute of the run, a
	// rule that --write-noise wrote and that failed the runs after.
	HTTPDate
)

// formatNames are the names the spec uses, in order of preference: the
// first format a value set fits is its most specific.
var formatNames = []struct {
	f    Format
	name string
}{
	{UUID, "uuid"}, {RFC3339, "rfc3339"}, {HTTPDate, "httpdate"}, {IPPort, "ipport"}, {IP, "ip"},
	{Integer, "integer"}, {Decimal, "decimal"}, {Hex, "hex"}, {Base64, "base64"},
}

// Strong are the formats distinctive enough that a prod value in one of
// them and a shadow value in none of them is a change of shape on its
// own, with no learning: a UUID replaced by a name, a host:port by a bare
// host. Integer text, hex and base64 are not: "123" and "abc" fit them by
// chance.
const Strong = UUID | RFC3339 | HTTPDate | IPPort | IP

// FormatNames lists the names ParseFormat accepts, most specific first.
func FormatNames() []string {
	out := make([]string, len(formatNames))
	for i, n := range formatNames {
		out[i] = n.name
	}
	return out
}

// ParseFormat returns the format with the given name ("uuid", "rfc3339"...).
func ParseFormat(name string) (Format, bool) {
	for _, n := range formatNames {
		if n.name == name {
			return n.f, true
		}
	}
	return 0, false
}

// Best is the most specific single format in f, 0 when f is empty.
func (f Format) Best() Format {
	for _, n := range formatNames {
		if f&n.f != 0 {
			return n.f
		}
	}
	return 0
}

// String names the most specific format in f ("" when empty).
func (f Format) String() string {
	best := f.Best()
	for _, n := range formatNames {
		if n.f == best {
			return n.name
		}
	}
	return ""
}

// Formats returns every recognised format s fits.
func Formats(s string) Format {
	f := StrongFormats(s)
	if s == "" || len(s) > 64 {
		return f
	}
	if isInteger(s) {
		f |= Integer | Decimal
	} else if isDecimal(s) {
		f |= Decimal
	}
	if isHex(s) {
		f |= Hex
	}
	if isBase64(s) {
		f |= Base64
	}
	return f
}

// StrongFormats returns the Strong formats s fits, cheaply: it is called
// for every differing string.
func StrongFormats(s string) Format {
	if len(s) < 2 || len(s) > 64 {
		return 0 // no strong format is this short or long
	}
	var f Format
	if isUUID(s) {
		f |= UUID
	}
	if isTime(s) {
		f |= RFC3339
	}
	if isHTTPDate(s) {
		f |= HTTPDate
	}
	if !ipChars(s) {
		return f
	}
	if isIPPort(s) {
		f |= IPPort
	}
	if _, err := netip.ParseAddr(s); err == nil {
		f |= IP
	}
	return f
}

// ipChars reports whether s has only the characters of an IP address
// with a port and zone.
func ipChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isHexDigit(c) && c != '.' && c != ':' && c != '[' && c != ']' && c != '%' {
			return false
		}
	}
	return true
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
}

func isTime(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[10] != 'T' && s[10] != 't' && s[10] != ' ' {
		return false
	}
	if s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	_, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	return err == nil
}

// httpDateLayouts are the forms of an HTTP date, and RFC 1123 with a
// numeric zone.
var httpDateLayouts = []string{time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC}

func isHTTPDate(s string) bool {
	if len(s) < len("Mon Jan 2 15:04:05 2006") || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, layout := range httpDateLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func isIPPort(s string) bool {
	_, err := netip.ParseAddrPort(s)
	return err == nil
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimal reports whether s is a JSON number.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return false
	}
	return s == strings.ToLower(s) || s == strings.ToUpper(s)
}

// isBase64 reports whether s is base64 in one alphabet, standard (+/) or
// URL-safe (-_), with correct padding or none.
func isBase64(s string) bool {
	body := strings.TrimRight(s, "=")
	pad := len(s) - len(body)
	if len(s) < 4 || pad > 2 || pad > 0 && len(s)%4 != 0 || len(body)%4 == 1 {
		return false
	}
	std, url := false, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		default:
			return false
		}
	}
	return !(std && url)
}

// Classes is a set of character classes, one bit each.
type Classes uint8

// The character classes of a template's varying part.
const (
	Digit Classes = 1 << iota
	Lower
	Upper
	Space
	Punct // any other character
)

// ClassesOf returns the classes of the characters in s.
func ClassesOf(s string) Classes {
	var c Classes
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9':
			c |= Digit
		case b >= 'a' && b <= 'z':
			c |= Lower
		case b >= 'A' && b <= 'Z':
			c |= Upper
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			c |= Space
		default:
			c |= Punct
		}
	}
	return c
}

// regexp is the RE2 character class of c, "[0-9a-z]" for example; Punct
// is any character outside the other classes.
func (c Classes) regexp() string {
	if c&Punct != 0 {
		return "." // a punctuation class cannot be listed exhaustively
	}
	var b strings.Builder
	b.WriteByte('[')
	if c&Digit != 0 {
		b.WriteString("0-9")
	}
	if c&Lower != 0 {
		b.WriteString("a-z")
	}
	if c&Upper != 0 {
		b.WriteString("A-Z")
	}
	if c&Space != 0 {
		b.WriteString(`\s`)
	}
	b.WriteByte(']')
	return b.String()
}
