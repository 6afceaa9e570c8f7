package redact

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// A name/value pair carries a secret under a name that is data, not a key:
// {"name":"Authorization","value":"Bearer ..."} (HAR headers, Kubernetes
// env), <Property key="apiKey" value="..."/>, <entry><key>token</key>
// <value>...</value></entry>. The pair rule: in one JSON object, one XML
// element's attributes or one XML element's children, a label (a member,
// attribute or child element named as in isLabel) whose value is a secret
// name (scrub.Names) makes its value neighbours (named as in isValue)
// secret. Nothing else of the object or element changes.
//
// A JSON array of two or more, the first a string naming a secret, that
// is an element of an array is such a pair too: every element after the
// first is secret. That is how header lists are written as tuples
// ({"headers": [["Authorization","Bearer ..."],["Accept","*/*"]]}, fetch's
// and Python's header lists, a header with its values
// ["Set-Cookie","a=...","b=..."]). A whole document that is an array of
// two strings or more, the first naming a secret, is a pair when none of
// the others is a name as well (["Authorization","Bearer ..."],
// ["Cookie","a=...","b=..."]; not ["password","email"], a list of names;
// see listedName).

// secretTuple reports whether t is a pair written as a tuple: two
// elements or more, the first a string naming a secret.
func (r *Redactor) secretTuple(t []any) bool {
	if len(t) < 2 {
		return false
	}
	name, ok := t[0].(string)
	return ok && r.secretLabel(name)
}

// loneTuple reports whether t, a whole document, is a pair written as a
// tuple: two strings or more, the first naming a secret, none of the
// others a name.
func (r *Redactor) loneTuple(t []any) bool {
	for _, v := range t[min(1, len(t)):] {
		if value, ok := v.(string); !ok || listedName(value) {
			return false
		}
	}
	return r.secretTuple(t)
}

// listedName reports whether s reads as a name in a list of names
// ("email", "password_confirmation", "read:user", "apiKey") rather than a
// secret value: up to 40 bytes that start with a letter, of letters, "_",
// "-", "." and ":", with two digits at most. A token has more digits,
// white space ("Bearer ...") or "=" (a cookie).
func listedName(s string) bool {
	if s == "" || len(s) > 40 || !('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c|0x20 && c|0x20 <= 'z', c == '_', c == '-', c == '.', c == ':':
		case '0' <= c && c <= '9':
			digits++
		default:
			return false
		}
	}
	return digits <= 2
}

// isLabel reports whether a member, attribute or element named name names
// its neighbour: name, key, header, param, parameter, field, property or
// variable, in any case.
func isLabel(name string) bool {
	if len(name) < 3 || len(name) > 9 {
		return false
	}
	switch name[0] | 0x20 {
	case 'k':
		return strings.EqualFold(name, "key")
	case 'n':
		return strings.EqualFold(name, "name")
	case 'p':
		return strings.EqualFold(name, "param") || strings.EqualFold(name, "property") || strings.EqualFold(name, "parameter")
	case 'f':
		return strings.EqualFold(name, "field")
	case 'h':
		return strings.EqualFold(name, "header")
	case 'v':
		return strings.EqualFold(name, "variable")
	}
	return false
}

// isValue reports whether a member, attribute or element named name holds
// the value of a pair: value, values, val or content, in any case.
func isValue(name string) bool {
	if len(name) < 3 || len(name) > 7 {
		return false
	}
	switch name[0] | 0x20 {
	case 'v':
		return strings.EqualFold(name, "val") || strings.EqualFold(name, "value") || strings.EqualFold(name, "values")
	case 'c':
		return strings.EqualFold(name, "content")
	}
	return false
}

// maxLabel bounds the text of a label that is read as a name: a longer
// text is not a header or parameter name.
const maxLabel = 128

// secretLabel reports whether the value of a label names a secret.
func (r *Redactor) secretLabel(value string) bool {
	value = strings.TrimSpace(value)
	return value != "" && len(value) <= maxLabel && hasSecretWord(value, r.extraNames) && r.names.Secret(value)
}

// learnPair registers the value of a secret pair: as learn does, and the
// values of the name=value parts it holds, as in a cookie.
func (r *Redactor) learnPair(value string) {
	r.learn(value)
	if strings.Contains(value, "=") {
		r.learnCookies(value)
	}
}

// learnPairJSON registers the string leaves of a secret pair's JSON value.
func (r *Redactor) learnPairJSON(v any) { jsonLeaves(v, r.learnPair) }

// pairValueStep reports whether loc, a difference's location, is the value
// of a pair its path names by a secret label: $.headers[name="Cookie"].value,
// as a keyed unordered set prints it. A plain index ($.headers[3].value)
// does not say which pair it is: such a value is masked in bodies, and by
// value once learned, not in a difference on its own.
func (r *Redactor) pairValueStep(loc []fieldpath.Step) bool {
	if len(loc) < 2 || loc[len(loc)-1].IsIndex || !isValue(loc[len(loc)-1].Key) {
		return false
	}
	field, value, isString, ok := loc[len(loc)-2].KeyedBy()
	return ok && isString && isLabel(field) && r.secretLabel(value)
}

// LearnDiffs registers, for a compared pair, the values its differences
// show that are (or are inside) the value of a name/value pair whose label
// names a secret in prod's or the shadow's body: $.env[0].value next to
// "name":"DB_PASSWORD". A difference's path alone does not say it (Value
// cannot tell $.env[0].value from $.metrics[0].value); once learned, the
// scrubber removes those values from every output by value. Call it
// before the differences are written. Only differences at or below a
// member named value, values, val or content are looked up, and each body
// is read once, as a token stream, up to the last object looked for. An
// RPC's status message is read by the text rules (see Message) to learn
// what they mask in it.
func (r *Redactor) LearnDiffs(pair *framework.Pair, diffs []framework.Diff) {
	if r.values == nil || pair == nil {
		return
	}
	for _, resp := range [2]*framework.Response{&pair.Prod, &pair.Shadow} {
		if resp.RPC != nil && resp.RPC.Message != "" {
			// A status message is free text shown as a JSON string
			// ($.message): what the text rules mask in it is learned
			// (the scrubber's pass, whose text is not used, is skipped).
			r.messageText(resp.RPC.Message)
		}
	}
	type candidate struct {
		diff int
		loc  []fieldpath.Step // an object or array that may hold the pair's label
	}
	var candidates []candidate
	secret := make([]bool, len(diffs))
	for i, d := range diffs {
		if d.Path == "body" && !slices.ContainsFunc(diffs[:i], func(d framework.Diff) bool { return d.Path == "body" }) {
			// A text body's difference shows a line or a window of it, cut
			// from the markup that says what is secret (…word>x</password>):
			// what the whole body would mask is learned instead.
			for _, resp := range [2]*framework.Response{&pair.Prod, &pair.Shadow} {
				if len(resp.Body) <= maxLearnedBody {
					r.BodyOf(resp.Header, resp.Body)
				}
			}
		}
		tuple := strings.Contains(d.Path, "][") || strings.HasPrefix(d.Path, "$[") && !strings.HasPrefix(d.Path, "$[0]")
		if !strings.HasPrefix(d.Path, "$") || !valueMember(d.Path) && !tuple {
			continue
		}
		loc, ok := fieldpath.ParseLocation(d.Path)
		if !ok {
			continue
		}
		if len(loc) == 1 && loc[0].IsIndex && loc[0].Label == "" && loc[0].Index >= 1 {
			// An element after the first of a document that is an array:
			// a lone tuple when it is one (["Authorization","Bearer ..."]).
			candidates = append(candidates, candidate{i, nil})
		}
		for k := len(loc) - 1; k >= 1; k-- {
			if tuple && loc[k].IsIndex && loc[k].Label == "" && loc[k].Index >= 1 && loc[k-1].IsIndex {
				// An element after the first of an array, itself an
				// element of an array: a pair written as a tuple when the
				// first names a secret ([["Authorization","Bearer ..."]]).
				candidates = append(candidates, candidate{i, loc[:k]})
				continue
			}
			if loc[k].IsIndex || !isValue(loc[k].Key) {
				continue
			}
			if r.pairValueStep(loc[:k+1]) {
				secret[i] = true
				break
			}
			candidates = append(candidates, candidate{i, loc[:k]})
		}
	}
	if len(candidates) > 0 {
		for _, resp := range [2]*framework.Response{&pair.Prod, &pair.Shadow} {
			body := resp.Body
			if enc := resp.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
				plain, err := framework.DecodeContent(resp.Header, resp.Body, MaxDecodedBytes)
				if err != nil {
					continue
				}
				body = plain
			}
			locs := make([][]fieldpath.Step, len(candidates))
			for j, c := range candidates {
				locs[j] = c.loc
			}
			for j, found := range r.secretPairsAt(body, locs) {
				if found {
					secret[candidates[j].diff] = true
				}
			}
		}
	}
	for i, d := range diffs {
		if !secret[i] {
			continue
		}
		for _, v := range [2]string{d.Prod, d.Shadow} {
			if wholeElement(d.Path) && listedName(renderedString(v)) {
				continue // a list of names, not a lone tuple: never learned
			}
			r.learnRendered(v)
		}
	}
}

// wholeElement reports whether a difference's path is an element of a
// document that is an array ($[1]).
func wholeElement(path string) bool {
	return strings.HasPrefix(path, "$[") && strings.IndexByte(path[2:], '[') < 0 && strings.IndexByte(path, ']') == len(path)-1
}

// maxLearnedBody bounds the text bodies LearnDiffs masks to learn from,
// as Learn bounds request bodies.
const maxLearnedBody = 1 << 20

// maxKeyedLookups bounds the keyed-set locations looked up per body: each
// is a read of the body of its own.
const maxKeyedLookups = 8

// secretPairsAt reports, for each location, whether the JSON body holds
// there an object whose label member names a secret, or an array of two
// whose first names one (the pair rule). The
// locations of plain steps are found in one pass over the body's tokens,
// which stops once all of them were seen; one inside another, and those
// naming keyed-set elements (at most maxKeyedLookups), are looked up on
// their own.
func (r *Redactor) secretPairsAt(body []byte, locs [][]fieldpath.Step) []bool {
	found := make([]bool, len(locs))
	if len(body) == 0 {
		return found
	}
	want := map[string][]int{} // JSON Pointer of a plain location -> its indices in locs
	var alone []int
	for i, loc := range locs {
		if ptr, ok := pointer(loc); ok {
			want[ptr] = append(want[ptr], i)
		} else if len(alone) < maxKeyedLookups {
			alone = append(alone, i)
		}
	}
	seen := map[string]bool{}
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsonOptions...)
	for len(seen) < len(want) {
		tok, err := dec.ReadToken()
		if err != nil {
			break
		}
		kind := tok.Kind()
		if kind != '{' && kind != '[' {
			continue
		}
		ptr := string(dec.StackPointer())
		indices, ok := want[ptr]
		if !ok || seen[ptr] {
			continue
		}
		seen[ptr] = true
		if kind == '{' && r.labelsSecret(dec) || kind == '[' && r.tupleSecret(dec, ptr == "") {
			for _, i := range indices {
				found[i] = true
			}
		}
	}
	for ptr, indices := range want {
		if !seen[ptr] && nestedInWanted(ptr, want) {
			alone = append(alone, indices...) // read whole with the object around it
		}
	}
	for _, i := range alone {
		found[i] = r.secretPairAt(body, locs[i])
	}
	return found
}

// nestedInWanted reports whether the location ptr lies inside another
// location of want.
func nestedInWanted(ptr string, want map[string][]int) bool {
	for other := range want {
		if other != ptr && strings.HasPrefix(ptr, other+"/") {
			return true
		}
	}
	return false
}

// pointer returns the JSON Pointer (RFC 6901) of a location of plain steps,
// as jsontext's Decoder.StackPointer writes it; ok is false for a
// keyed-set element.
func pointer(loc []fieldpath.Step) (string, bool) {
	var b strings.Builder
	for _, s := range loc {
		b.WriteByte('/')
		switch {
		case s.IsIndex && s.Label != "", s.IsIndex && s.Index < 0:
			return "", false
		case s.IsIndex:
			b.WriteString(strconv.Itoa(s.Index))
		default:
			b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s.Key))
		}
	}
	return b.String(), true
}

// labelsSecret reads the members of the object dec has just opened, up to
// its end, and reports whether a label member among them names a secret.
func (r *Redactor) labelsSecret(dec *jsontext.Decoder) bool {
	secret := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return secret
		}
		if isLabel(name.String()) && dec.PeekKind() == '"' {
			value, err := dec.ReadToken()
			if err != nil {
				return secret
			}
			secret = secret || r.secretLabel(value.String())
			continue
		}
		if dec.SkipValue() != nil {
			return secret
		}
	}
	dec.ReadToken() // the object's end
	return secret
}

// tupleSecret reads the elements of the array dec has just opened, up to
// its end, and reports whether it is a pair written as a tuple (see
// secretTuple; loneTuple when it is the whole document).
func (r *Redactor) tupleSecret(dec *jsontext.Decoder, whole bool) bool {
	secret, values, n := false, true, 0
	for dec.PeekKind() != ']' {
		switch {
		case dec.PeekKind() == '"' && (n == 0 || whole):
			tok, err := dec.ReadToken()
			if err != nil {
				return false
			}
			if n == 0 {
				secret = r.secretLabel(tok.String())
			} else {
				values = values && !listedName(tok.String())
			}
		default:
			values = values && n == 0
			if dec.SkipValue() != nil {
				return false
			}
		}
		n++
	}
	dec.ReadToken() // the array's end
	return secret && n >= 2 && (values || !whole)
}

// renderedString returns a difference's rendered value as a string: a
// JSON string's content, else the text as it is.
func renderedString(value string) string {
	var s string
	if json.Unmarshal([]byte(value), &s) == nil {
		return s
	}
	return value
}

// valueMember reports whether a path has a member named as a pair's value
// (a quick look before parsing it).
func valueMember(path string) bool {
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		end := i + 1
		for end < len(path) && path[end] != '.' && path[end] != '[' {
			end++
		}
		if isValue(path[i+1 : end]) {
			return true
		}
	}
	return false
}

// learnRendered registers a value as a difference renders it: JSON text,
// whose string leaves are learned, or text.
func (r *Redactor) learnRendered(value string) {
	var v any
	if json.Unmarshal([]byte(value), &v) == nil {
		r.learnPairJSON(v)
		return
	}
	r.learnPair(value)
}

// jsonOptions read any body: duplicate names and invalid UTF-8 are a
// shadow's to send, not a reason to stop looking.
var jsonOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// secretPairAt reports whether the JSON body holds, at loc, an object
// whose label member names a secret or a tuple whose first does (the pair
// rule).
func (r *Redactor) secretPairAt(body []byte, loc []fieldpath.Step) bool {
	if len(body) == 0 {
		return false
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsonOptions...)
	for n, step := range loc {
		switch {
		case step.IsIndex && step.Label != "":
			// A keyed-set element: the element whose key member has the
			// value, looked at on its own.
			field, value, isString, ok := step.KeyedBy()
			if !ok || dec.PeekKind() != '[' {
				return false
			}
			if _, err := dec.ReadToken(); err != nil {
				return false
			}
			for dec.PeekKind() != ']' {
				raw, err := dec.ReadValue()
				if err != nil {
					return false
				}
				if keyedMatch(raw, field, value, isString) {
					return r.secretPairAt(raw, loc[n+1:])
				}
			}
			return false
		case step.IsIndex:
			if dec.PeekKind() != '[' {
				return false
			}
			if _, err := dec.ReadToken(); err != nil {
				return false
			}
			for range step.Index {
				if dec.PeekKind() == ']' || dec.SkipValue() != nil {
					return false
				}
			}
			if dec.PeekKind() == ']' {
				return false
			}
		default:
			if dec.PeekKind() != '{' {
				return false
			}
			if _, err := dec.ReadToken(); err != nil {
				return false
			}
			for {
				if dec.PeekKind() == '}' {
					return false
				}
				name, err := dec.ReadToken()
				if err != nil {
					return false
				}
				if name.String() == step.Key {
					break
				}
				if dec.SkipValue() != nil {
					return false
				}
			}
		}
	}
	kind := dec.PeekKind()
	if kind != '{' && kind != '[' {
		return false
	}
	if _, err := dec.ReadToken(); err != nil {
		return false
	}
	if kind == '[' {
		return r.tupleSecret(dec, false)
	}
	return r.labelsSecret(dec)
}

// keyedMatch reports whether raw is an object whose member field has
// value (a string when isString, else a number or literal as written).
func keyedMatch(raw []byte, field, value string, isString bool) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	member, ok := obj[field]
	if !ok {
		return false
	}
	if isString {
		var s string
		return json.Unmarshal(member, &s) == nil && s == value
	}
	return string(bytes.TrimSpace(member)) == value
}
