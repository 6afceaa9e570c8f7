package redact

import (
	"strings"

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

// isLabel reports whether a member, attribute or element named name names
// its neighbour: name, key, header, param, parameter, field, property or
// variable, in any case.
func isLabel(name string) bool {
	switch len(name) {
	case 3:
		return strings.EqualFold(name, "key")
	case 4:
		return strings.EqualFold(name, "name")
	case 5:
		return strings.EqualFold(name, "param") || strings.EqualFold(name, "field")
	case 6:
		return strings.EqualFold(name, "header")
	case 8:
		return strings.EqualFold(name, "property") || strings.EqualFold(name, "variable")
	case 9:
		return strings.EqualFold(name, "parameter")
	}
	return false
}

// isValue reports whether a member, attribute or element named name holds
// the value of a pair: value, values, val or content, in any case.
func isValue(name string) bool {
	switch len(name) {
	case 3:
		return strings.EqualFold(name, "val")
	case 5:
		return strings.EqualFold(name, "value")
	case 6:
		return strings.EqualFold(name, "values")
	case 7:
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

// secretPair reports whether a JSON object is a pair whose label names a
// secret.
func (r *Redactor) secretPair(obj map[string]any) bool {
	for k, v := range obj {
		if s, ok := v.(string); ok && isLabel(k) && r.secretLabel(s) {
			return true
		}
	}
	return false
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
func (r *Redactor) learnPairJSON(v any) {
	switch t := v.(type) {
	case string:
		r.learnPair(t)
	case map[string]any:
		for _, c := range t {
			r.learnPairJSON(c)
		}
	case []any:
		for _, c := range t {
			r.learnPairJSON(c)
		}
	default:
		r.learnAny(t)
	}
}

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
