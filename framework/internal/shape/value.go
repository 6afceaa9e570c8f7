package shape

import (
	"encoding/json"
	"strings"
)

// Kind is the kind of a value, one bit each so that a set of kinds is a
// Kind too.
type Kind uint8

// The kinds of value.
const (
	String Kind = 1 << iota
	Number
	Bool
	Null
	Object
	Array
	// Absent: the side has no value at the path.
	Absent
	// Other: a difference without values of its own (array size, order).
	Other
)

var kindNames = []string{"string", "number", "bool", "null", "object", "array", "absent", "other"}

// String lists the kinds in k, "string|number" for example.
func (k Kind) String() string {
	var names []string
	for i, name := range kindNames {
		if k&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, "|")
}

// Value is one side's value at a path, as the comparator displays it.
type Value struct {
	Kind Kind
	// Text is a string's content (unquoted) or a number's text.
	Text string
	// Clipped is set when the display was cut: Text is only a prefix.
	Clipped bool
}

// displayEllipsis is what the comparator appends to a clipped display.
const displayEllipsis = "…"

// FromDisplay reads a value from its display in a difference: JSON text
// for a body value (possibly clipped), raw text for a header value.
func FromDisplay(display string, header bool) Value {
	if header {
		clipped := strings.HasSuffix(display, displayEllipsis)
		return Value{Kind: String, Text: strings.TrimSuffix(display, displayEllipsis), Clipped: clipped}
	}
	switch {
	case display == "":
		return Value{Kind: Absent}
	case display == "null":
		return Value{Kind: Null}
	case display == "true" || display == "false":
		return Value{Kind: Bool, Text: display}
	case display[0] == '{':
		return Value{Kind: Object}
	case display[0] == '[':
		return Value{Kind: Array}
	case display[0] == '"':
		var s string
		if err := json.Unmarshal([]byte(display), &s); err == nil {
			return Value{Kind: String, Text: s}
		}
		// Clipped: keep the part that decodes.
		cut := strings.TrimSuffix(display, displayEllipsis)
		for len(cut) > 1 {
			if err := json.Unmarshal([]byte(cut+`"`), &s); err == nil {
				return Value{Kind: String, Text: s, Clipped: true}
			}
			cut = cut[:len(cut)-1]
		}
		return Value{Kind: String, Clipped: true}
	case isDecimal(display):
		return Value{Kind: Number, Text: display}
	}
	return Value{Kind: Other}
}

// integer reports whether a number's text is an integer.
func (v Value) integer() bool { return v.Kind == Number && isInteger(v.Text) }
