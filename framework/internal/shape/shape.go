package shape

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxAffix bounds a template's fixed prefix and suffix, in bytes.
const maxAffix = 64

// longLen is the length a Fit records for strings this long or longer.
const longLen = 255

// Shape is what a value must look like: one of Kinds; a string fits
// Format, or the template (Prefix, a varying part of Classes, Suffix, the
// whole MinLen to MaxLen bytes long), or Pattern; a number is an integer
// when Integer is set.
type Shape struct {
	Kinds    Kind
	Format   Format
	Template bool
	Prefix   string
	Suffix   string
	Classes  Classes
	MinLen   int
	MaxLen   int
	Integer  bool
	Pattern  *regexp.Regexp
}

// Declared returns the shape a spec names: a format ("uuid", "rfc3339",
// "ipport", "ip", "integer", "decimal", "hex", "base64"), "string" or
// "number"; or, when pattern is set, a string matching the RE2 pattern.
func Declared(name, pattern string) (Shape, error) {
	if pattern != "" {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return Shape{}, fmt.Errorf("shape pattern %q: %w", pattern, err)
		}
		return Shape{Kinds: String, Pattern: re}, nil
	}
	switch name {
	case "string":
		return Shape{Kinds: String}, nil
	case "number":
		return Shape{Kinds: Number}, nil
	case "integer":
		return Shape{Kinds: String | Number, Format: Integer, Integer: true}, nil
	case "decimal":
		return Shape{Kinds: String | Number, Format: Decimal}, nil
	}
	f, ok := ParseFormat(name)
	if !ok {
		return Shape{}, fmt.Errorf("unknown shape %q (want one of %s, string, number, or {pattern: ...})", name, strings.Join(FormatNames(), ", "))
	}
	return Shape{Kinds: String, Format: f}, nil
}

// Fits reports whether v has the shape.
func (s Shape) Fits(v Value) bool {
	if v.Kind&s.Kinds == 0 {
		return false
	}
	switch v.Kind {
	case String:
		switch {
		case s.Pattern != nil:
			return !v.Clipped && s.Pattern.MatchString(v.Text)
		case s.Format != 0:
			return !v.Clipped && Formats(v.Text)&s.Format != 0
		case s.Template:
			n := len(v.Text)
			if v.Clipped {
				n = max(n, longLen)
			}
			if !strings.HasPrefix(v.Text, s.Prefix) || !v.Clipped && !strings.HasSuffix(v.Text, s.Suffix) ||
				n < s.MinLen || n > s.MaxLen && s.MaxLen < longLen {
				return false
			}
			middle := v.Text[len(s.Prefix):]
			if !v.Clipped {
				middle = middle[:len(middle)-len(s.Suffix)]
			}
			return s.classesAllow(ClassesOf(middle))
		}
	case Number:
		return !s.Integer || v.integer()
	}
	return true
}

func (s Shape) classesAllow(c Classes) bool {
	return s.Classes&Punct != 0 || c&^s.Classes == 0
}

// String describes the shape for people: "uuid", "integer number",
// `"127.0.0.1:" + [0-9]{4,5}`.
func (s Shape) String() string {
	var parts []string
	if s.Kinds&String != 0 {
		switch {
		case s.Pattern != nil:
			parts = append(parts, "string matching "+strconv.Quote(s.Pattern.String()))
		case s.Format != 0:
			parts = append(parts, s.Format.String())
		case s.Template:
			parts = append(parts, s.templateText())
		default:
			parts = append(parts, "string")
		}
	}
	if s.Kinds&Number != 0 && s.Format == 0 {
		if s.Integer {
			parts = append(parts, "integer")
		} else {
			parts = append(parts, "number")
		}
	}
	if rest := s.Kinds &^ (String | Number); rest != 0 {
		parts = append(parts, rest.String())
	}
	return strings.Join(parts, " or ")
}

func (s Shape) templateText() string {
	var b strings.Builder
	if s.Prefix != "" {
		b.WriteString(strconv.Quote(s.Prefix) + " + ")
	}
	b.WriteString(s.Classes.regexp() + s.middleCount())
	if s.Suffix != "" {
		b.WriteString(" + " + strconv.Quote(s.Suffix))
	}
	return b.String()
}

// middleCount is the repetition count of a template's varying part.
func (s Shape) middleCount() string {
	fixed := len(s.Prefix) + len(s.Suffix)
	lo, hi := s.MinLen-fixed, s.MaxLen-fixed
	switch {
	case s.MaxLen >= longLen:
		return "{" + strconv.Itoa(lo) + ",}"
	case lo == hi:
		return "{" + strconv.Itoa(lo) + "}"
	}
	return "{" + strconv.Itoa(lo) + "," + strconv.Itoa(hi) + "}"
}

// Regexp is an RE2 pattern a string of the template shape matches.
func (s Shape) Regexp() string {
	return "^" + regexp.QuoteMeta(s.Prefix) + s.Classes.regexp() + s.middleCount() + regexp.QuoteMeta(s.Suffix) + "$"
}

// Rule is the spec's shape rule for s, as CUE text ("uuid",
// {pattern: "^...$"}), and whether s can be written as one: a shape that
// admits an absent value, an object or an array cannot.
func (s Shape) Rule() (string, bool) {
	switch {
	case s.Kinds&^(String|Number) != 0:
		return "", false
	case s.Kinds == String|Number:
		if s.Format == Integer || s.Format == Decimal {
			return Quote(s.Format.String()), true
		}
		return "", false
	case s.Kinds == Number && s.Integer:
		return `"integer"`, true
	case s.Kinds == Number:
		return `"number"`, true
	case s.Pattern != nil:
		return "{pattern: " + Quote(s.Pattern.String()) + "}", true
	case s.Format != 0:
		return Quote(s.Format.String()), true
	case s.Template:
		return "{pattern: " + Quote(s.Regexp()) + "}", true
	}
	return `"string"`, true
}

// Quote writes s as a JSON string, which is a CUE string literal too
// (strconv.Quote's \x escapes are not).
func Quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// Learner learns the shape of the values seen at one path. Its zero value
// has seen nothing. The shape it learns does not depend on the order of the
// values: every field is a commutative, associative summary.
type Learner struct {
	Kinds   Kind    `json:"kinds"`
	Strings int64   `json:"strings,omitempty"`
	Formats Format  `json:"formats,omitempty"`
	Classes Classes `json:"classes,omitempty"`
	// Head[k] is the union of the classes of every string without its
	// first k bytes, Tail[k] without its last k: the classes of a
	// template's varying part lie in Head[len(Prefix)] & Tail[len(Suffix)].
	Head       [maxAffix + 1]Classes `json:"-"`
	Tail       [maxAffix + 1]Classes `json:"-"`
	MinLen     int                   `json:"minLen,omitempty"`
	MaxLen     int                   `json:"maxLen,omitempty"`
	Prefix     string                `json:"prefix,omitempty"`
	Suffix     string                `json:"suffix,omitempty"`
	NonInteger bool                  `json:"nonInteger,omitempty"`
}

// Add learns from one value.
func (l *Learner) Add(v Value) {
	l.Kinds |= v.Kind
	switch v.Kind {
	case Number:
		l.NonInteger = l.NonInteger || !v.integer()
	case String:
		n, formats, suffix := len(v.Text), Formats(v.Text), v.Text
		if v.Clipped {
			n, formats, suffix = max(n, longLen), 0, ""
		}
		one := Learner{Kinds: String, Strings: 1, Formats: formats, Classes: ClassesOf(v.Text), MinLen: n, MaxLen: n,
			Prefix: clipPrefix(v.Text), Suffix: clipSuffix(suffix)}
		var c Classes
		for k := len(v.Text); k >= 0; k-- {
			if k < len(v.Text) {
				c |= ClassesOf(v.Text[k : k+1])
			}
			if k <= maxAffix {
				one.Head[k] = c
			}
		}
		c = 0
		for k := len(v.Text); k >= 0; k-- {
			if k < len(v.Text) {
				c |= ClassesOf(v.Text[len(v.Text)-k-1 : len(v.Text)-k])
			}
			if k <= maxAffix {
				one.Tail[k] = c
			}
		}
		if v.Clipped {
			one.Tail = [maxAffix + 1]Classes{}
			for k := range one.Tail {
				one.Tail[k] = one.Classes // the end is unknown
			}
		}
		l.merge(one)
	}
}

// Merge adds what another learner has seen.
func (l *Learner) Merge(o Learner) {
	l.Kinds |= o.Kinds
	l.NonInteger = l.NonInteger || o.NonInteger
	if o.Strings > 0 {
		l.merge(o)
	}
}

func (l *Learner) merge(o Learner) {
	if l.Strings == 0 {
		l.Strings, l.Formats, l.Classes, l.Head, l.Tail, l.MinLen, l.MaxLen, l.Prefix, l.Suffix =
			o.Strings, o.Formats, o.Classes, o.Head, o.Tail, o.MinLen, o.MaxLen, o.Prefix, o.Suffix
		return
	}
	l.Strings += o.Strings
	l.Formats &= o.Formats
	l.Classes |= o.Classes
	for k := range l.Head {
		l.Head[k] |= o.Head[k]
		l.Tail[k] |= o.Tail[k]
	}
	l.MinLen, l.MaxLen = min(l.MinLen, o.MinLen), max(l.MaxLen, o.MaxLen)
	l.Prefix = l.Prefix[:commonPrefix(l.Prefix, o.Prefix)]
	l.Suffix = l.Suffix[len(l.Suffix)-commonSuffix(l.Suffix, o.Suffix):]
}

func clipPrefix(s string) string { return s[:min(len(s), maxAffix)] }
func clipSuffix(s string) string { return s[len(s)-min(len(s), maxAffix):] }

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func commonSuffix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[len(a)-1-i] != b[len(b)-1-i] {
			return i
		}
	}
	return n
}

// Shape is the shape of the values seen: their kinds; for strings the most
// specific format they all fit (hex and base64 only for values of 16 bytes
// or more, which short words fit by chance), else a template; for numbers
// whether they were all integers. literal reports whether a template may
// keep its fixed text: false for a redacted path, whose prefix and suffix
// could give a secret away.
func (l *Learner) Shape(literal bool) Shape {
	s := Shape{Kinds: l.Kinds, Integer: !l.NonInteger}
	if l.Strings == 0 {
		return s
	}
	best := l.Formats.Best()
	if best&(Hex|Base64) != 0 && l.MinLen < 16 {
		best = 0
	}
	if best != 0 {
		s.Format = best
		return s
	}
	s.Template, s.Classes, s.MinLen, s.MaxLen = true, l.Classes, l.MinLen, l.MaxLen
	if literal {
		prefix := validUTF8Prefix(l.Prefix)
		suffix := validUTF8Suffix(l.Suffix)
		if len(prefix)+len(suffix) > l.MinLen {
			suffix = validUTF8Suffix(suffix[len(suffix)-max(0, l.MinLen-len(prefix)):])
		}
		s.Prefix, s.Suffix = prefix, suffix
		s.Classes = l.Head[len(prefix)] & l.Tail[len(suffix)]
	}
	s.widen()
	return s
}

// widen turns the length range of a template's varying part, as seen,
// into one that another sample of the same values keeps: from 1 (0 when
// it was seen empty) to half as long again as the longest seen. The range seen is a
// sample's: a value of the same generator falls outside it now and then
// (a random number with fewer digits), and a shadow identical to prod
// would fail with a "shape" difference in some runs and not in others.
// Prefix, suffix and character classes still say what the value is.
func (s *Shape) widen() {
	if s.MaxLen >= longLen {
		return
	}
	fixed := len(s.Prefix) + len(s.Suffix)
	lo, hi := s.MinLen-fixed, s.MaxLen-fixed
	s.MinLen = fixed + min(lo, 1)
	s.MaxLen = min(fixed+hi+max(hi/2, 1), longLen)
}

func validUTF8Prefix(s string) string {
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func validUTF8Suffix(s string) string {
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[1:]
	}
	return s
}
