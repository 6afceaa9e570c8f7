package shape

import (
	"fmt"
	"strconv"
)

// Fit is what noise learning keeps of a shadow value: enough to tell, once
// prod's shape is learned at the end of a run, whether the value fits it,
// without keeping the value. Prefix and Suffix are the lengths the value
// shares with prod's value of the same pair: a template's fixed prefix is a
// prefix of every prod value, so the shadow value starts with it exactly
// when it shares at least that much with its own pair's prod value.
// Classes are those of the part between them, the part that differs from
// prod's value: a value that fits a shape is admitted (the converse holds
// up to the classes of the text it shares with prod's value).
type Fit struct {
	Kind    Kind
	Formats Format
	Classes Classes
	Integer bool
	// Coarse is set when the lengths below were dropped to bound memory:
	// only kind, formats and classes are then checked.
	Coarse         bool
	Len            uint8 // longLen: that long or longer, or clipped
	Prefix, Suffix uint8 // capped at maxAffix
}

// Relate returns the Fit of the shadow value against prod's value of the
// same pair.
func Relate(prod, shadow Value) Fit {
	f := Fit{Kind: shadow.Kind}
	switch shadow.Kind {
	case Number:
		f.Integer = shadow.integer()
	case String:
		f.Len = uint8(min(len(shadow.Text), longLen))
		if shadow.Clipped {
			f.Len = longLen
		} else {
			f.Formats = Formats(shadow.Text)
		}
		// Classes are those of the part that differs from prod's value:
		// the rest is prod's own text.
		prefix, suffix := 0, 0
		if prod.Kind == String {
			prefix = commonPrefix(prod.Text, shadow.Text)
			if !prod.Clipped && !shadow.Clipped {
				suffix = commonSuffix(prod.Text, shadow.Text)
			}
		}
		f.Prefix, f.Suffix = uint8(min(prefix, maxAffix)), uint8(min(suffix, maxAffix))
		f.Classes = ClassesOf(shadow.Text[prefix:max(prefix, len(shadow.Text)-suffix)])
	}
	return f
}

// Coarsen drops the lengths.
func (f Fit) Coarsen() Fit {
	f.Coarse, f.Len, f.Prefix, f.Suffix = true, 0, 0, 0
	return f
}

// Admits reports whether a value with this Fit has the shape s, which was
// learned from prod's values (see Fit).
func (s Shape) Admits(f Fit) bool {
	if f.Kind&s.Kinds == 0 {
		return false
	}
	switch f.Kind {
	case Number:
		return !s.Integer || f.Integer
	case String:
		switch {
		case s.Format != 0:
			return f.Formats&s.Format != 0
		case s.Template:
			if !s.classesAllow(f.Classes) {
				return false
			}
			if f.Coarse {
				return true
			}
			n := int(f.Len)
			return n >= s.MinLen && (n <= s.MaxLen || s.MaxLen >= longLen) &&
				int(f.Prefix) >= min(len(s.Prefix), maxAffix) && int(f.Suffix) >= min(len(s.Suffix), maxAffix)
		}
	}
	return true
}

// String encodes f compactly, for use in map keys; ParseFit reads it back.
func (f Fit) String() string {
	coarse, integer := 0, 0
	if f.Coarse {
		coarse = 1
	}
	if f.Integer {
		integer = 1
	}
	return fmt.Sprintf("%02x%04x%02x%d%d%02x%02x%02x", uint8(f.Kind), uint16(f.Formats), uint8(f.Classes), integer, coarse, f.Len, f.Prefix, f.Suffix)
}

// ParseFit reads a Fit written by String.
func ParseFit(s string) (Fit, bool) {
	if len(s) != 16 {
		return Fit{}, false
	}
	field := func(from, to int) uint64 {
		v, err := strconv.ParseUint(s[from:to], 16, 16)
		if err != nil {
			return 1 << 16 // out of range: reported below
		}
		return v
	}
	values := []uint64{field(0, 2), field(2, 6), field(6, 8), field(8, 9), field(9, 10), field(10, 12), field(12, 14), field(14, 16)}
	for _, v := range values {
		if v > 0xffff {
			return Fit{}, false
		}
	}
	return Fit{Kind: Kind(values[0]), Formats: Format(values[1]), Classes: Classes(values[2]), Integer: values[3] == 1,
		Coarse: values[4] == 1, Len: uint8(values[5]), Prefix: uint8(values[6]), Suffix: uint8(values[7])}, true
}
