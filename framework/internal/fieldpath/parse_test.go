package fieldpath

import (
	"errors"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in     string
		want   string // canonical String()
		header string // Header(), "" for body paths
		reason string
	}{
		{"$", "$", "", "the root alone is a path"},
		{"$.a", "$.a", "", "one member"},
		{"$.a.b_c.D-9", "$.a.b_c.D-9", "", "identifiers may hold _, - and digits after the first byte"},
		{"$.items[*].price", "$.items[*].price", "", "any index"},
		{"$.items[3]", "$.items[3]", "", "one index"},
		{"$[0][1]", "$[0][1]", "", "an array at the root, nested"},
		{"$[007]", "$[7]", "", "leading zeros are accepted and dropped"},
		{"$..requestId", "$..requestId", "", "recursive descent"},
		{"$.a..b[*]", "$.a..b[*]", "", "recursive descent after a member, followed by an index"},
		{`$."first name"`, `$."first name"`, "", "quoted names keep spaces"},
		{`$."plain"`, "$.plain", "", "quotes around an identifier are dropped"},
		{`$.""`, `$.""`, "", "the empty member name can be written"},
		{`$."9lives"`, `$."9lives"`, "", "a name starting with a digit must stay quoted"},
		{`$."a\"b\\c"`, `$."a\"b\\c"`, "", "escaped quote and backslash"},
		{`$."\u0041\n"`, `$."A\n"`, "", "JSON escapes are decoded; printable runes are written raw"},
		{`$."\ud83d\ude00"`, `$."😀"`, "", "a surrogate pair decodes to one rune"},
		{`$."\ud83d"`, `$."` + "\uFFFD" + `"`, "", "a lone surrogate decodes to U+FFFD, as encoding/json does"},
		{`$."\/"`, `$."/"`, "", "escaped slash"},
		{`$.."a b"`, `$.."a b"`, "", "recursive descent to a quoted name"},
		{`$."é"`, `$."é"`, "", "non-ASCII names are quoted (not identifiers) but kept raw"},
		{"$.users.*.name", "$.users.*.name", "", "any member: the form of a folded category"},
		{`$."*"`, `$."*"`, "", "a member named * is quoted, not a wildcard"},
		{"header:Date", "header:Date", "Date", "header path"},
		{"header:content-type", "header:Content-Type", "Content-Type", "header names are canonicalised"},
		{"header:X-REQUEST-ID", "header:X-Request-Id", "X-Request-Id", "upper case is canonicalised too"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v (%s)", tt.in, err, tt.reason)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q (%s)", tt.in, got, tt.want, tt.reason)
			}
			if p.IsHeader() != (tt.header != "") || p.Header() != tt.header {
				t.Errorf("Parse(%q): IsHeader %v Header %q, want header %q (%s)",
					tt.in, p.IsHeader(), p.Header(), tt.header, tt.reason)
			}
			q, err := Parse(p.String())
			if err != nil || !q.Equal(p) {
				t.Errorf("Parse(%q) = %v, %v; want a path equal to Parse(%q) (%s)", p.String(), q, err, tt.in, tt.reason)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		offset int
		reason string
	}{
		{"", "fieldpath: : expected $ or header: at offset 0", 0, "empty input"},
		{"a.b", "fieldpath: a.b: expected $ or header: at offset 0", 0, "paths start with $"},
		{"$.a[x]", "fieldpath: $.a[x]: expected index or * at offset 4", 4, "the example from the design"},
		{"$.a[", "fieldpath: $.a[: expected index or * at offset 4", 4, "bracket at the end"},
		{"$.a[1", "fieldpath: $.a[1: expected ] at offset 5", 5, "unclosed index"},
		{"$.a[*", "fieldpath: $.a[*: expected ] at offset 5", 5, "unclosed [*"},
		{"$.a[*x]", "fieldpath: $.a[*x]: expected ] at offset 5", 5, "[* must be closed right away"},
		{"$.a[-1]", "fieldpath: $.a[-1]: expected index or * at offset 4", 4, "no negative indices"},
		{"$.a[99999999999999999999]", "fieldpath: $.a[99999999999999999999]: index out of range at offset 4", 4, "index overflow"},
		{"$.", `fieldpath: $.: expected name or "quoted name" at offset 2`, 2, "dot at the end"},
		{"$..", `fieldpath: $..: expected name or "quoted name" at offset 3`, 3, "recursive descent needs a name"},
		{"$...a", `fieldpath: $...a: expected name or "quoted name" at offset 3`, 3, "three dots"},
		{"$..[*]", `fieldpath: $..[*]: expected name or "quoted name" at offset 3`, 3, "recursive descent to an index is not supported"},
		{"$.2x", `fieldpath: $.2x: expected name or "quoted name" at offset 2`, 2, "names starting with a digit must be quoted"},
		{"$.a b", "fieldpath: $.a b: expected . or [ at offset 3", 3, "space after a name"},
		{"$a", "fieldpath: $a: expected . or [ at offset 1", 1, "member without a dot"},
		{"$..*", `fieldpath: $..*: expected name or "quoted name" at offset 3`, 3, "no recursive member wildcard"},
		{`$."a`, `fieldpath: $."a: unterminated quoted name at offset 2`, 2, "unterminated quote points at the opening quote"},
		{`$."a\x"`, `fieldpath: $."a\x": invalid escape "\\x" at offset 4`, 4, "unknown escape"},
		{`$."a\u00g0"`, `fieldpath: $."a\u00g0": expected 4 hex digits after \u at offset 4`, 4, "bad \\u escape"},
		{`$."a\`, `fieldpath: $."a\: unterminated escape at offset 4`, 4, "backslash at the end"},
		{"$.\"a\nb\"", "fieldpath: $.\"a\nb\": control character in quoted name at offset 4", 4, "raw control characters must be escaped"},
		{"$.\"a\xffb\"", "fieldpath: $.\"a\xffb\": invalid UTF-8 in quoted name at offset 4", 4, "invalid UTF-8 is rejected"},
		{"header:", "fieldpath: header:: expected header name at offset 7", 7, "header without a name"},
		{"header:Content Type", `fieldpath: header:Content Type: invalid character ' ' in header name at offset 14`, 14, "header names are tokens"},
		{"Header:Date", "fieldpath: Header:Date: expected $ or header: at offset 0", 0, "the header: prefix is lower case"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error (%s)", tt.in, p, tt.reason)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s\n(%s)", tt.in, err, tt.want, tt.reason)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset != tt.offset || se.Path != tt.in {
				t.Errorf("Parse(%q) error %#v, want *SyntaxError at offset %d (%s)", tt.in, err, tt.offset, tt.reason)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad path did not panic")
		}
	}()
	MustParse("$.a[x]")
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b   string
		want   bool
		reason string
	}{
		{"$.a", "$.a", true, "same text"},
		{"$.a", `$."a"`, true, "quoting does not matter"},
		{"header:date", "header:Date", true, "header case does not matter"},
		{"$.a", "$.b", false, "different names"},
		{"$.a[1]", "$.a[*]", false, "index versus any index"},
		{"$..a", "$.a", false, "recursive descent versus a member"},
		{"$.a", "$.a.b", false, "different lengths"},
		{"$", "header:Date", false, "body versus header"},
	}
	for _, tt := range tests {
		if got := MustParse(tt.a).Equal(MustParse(tt.b)); got != tt.want {
			t.Errorf("%s Equal %s = %v, want %v (%s)", tt.a, tt.b, got, tt.want, tt.reason)
		}
	}
}

func TestKeyedElements(t *testing.T) {
	tests := []struct {
		path   string
		loc    []Step
		match  bool
		reason string
	}{
		{`$.orders[id=7].total`, []Step{Key("orders"), KeyedIndex(3, "id", "7", false), Key("total")}, true,
			"a number key matches the element with that label, whatever its index"},
		{`$.orders[id=7]`, []Step{Key("orders"), KeyedIndex(0, "id", "8", false)}, false,
			"another key value does not match"},
		{`$.orders[sku="A-1"]`, []Step{Key("orders"), KeyedIndex(0, "sku", "A-1", true)}, true,
			"string keys are quoted"},
		{`$.orders[sku="7"]`, []Step{Key("orders"), KeyedIndex(0, "sku", "7", false)}, false,
			"the string \"7\" is not the number 7"},
		{`$.orders[*]`, []Step{Key("orders"), KeyedIndex(5, "id", "7", false)}, true,
			"[*] matches keyed elements too"},
		{`$.orders[id=7]`, []Step{Key("orders"), Index(7)}, false,
			"a keyed selector does not match a plain index"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.path)
		if err != nil {
			t.Fatalf("Parse(%q): %v (%s)", tt.path, err, tt.reason)
		}
		if got := p.Matches(tt.loc); got != tt.match {
			t.Errorf("Parse(%q).Matches(%s) = %v, want %v (%s)", tt.path, Format(tt.loc), got, tt.match, tt.reason)
		}
		if p.String() != tt.path {
			t.Errorf("Parse(%q).String() = %q, want the same text", tt.path, p.String())
		}
	}
	if got := Format([]Step{Key("o"), KeyedIndex(1, "first name", `a"b`, true)}); got != `$.o["first name"="a\"b"]` {
		t.Errorf("Format of a keyed step with odd names = %s", got)
	}
	for _, bad := range []string{"$.o[id=]", "$.o[id=7", "$.o[id=x y]"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want a syntax error", bad)
		}
	}
}

func TestMayContain(t *testing.T) {
	tests := []struct {
		path   string
		loc    []Step
		want   bool
		reason string
	}{
		{"$.error.code", nil, true, "the root leads everywhere"},
		{"$.error.code", []Step{Key("error")}, true, "a prefix of the path"},
		{"$.error.code", []Step{Key("error"), Key("code")}, true, "the path itself"},
		{"$.error.code", []Step{Key("message")}, false, "another member leads nowhere"},
		{"$.error.code", []Step{Key("error"), Key("code"), Key("x")}, false, "below the path is not a prefix"},
		{"$.errors[*].code", []Step{Key("errors"), Index(3)}, true, "[*] in a prefix"},
		{"$..code", []Step{Key("anything")}, true, "a recursive path may match below anything"},
	}
	for _, tt := range tests {
		if got := MustParse(tt.path).MayContain(tt.loc); got != tt.want {
			t.Errorf("%s.MayContain(%s) = %v, want %v (%s)", tt.path, Format(tt.loc), got, tt.want, tt.reason)
		}
	}
}
