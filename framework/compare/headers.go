package compare

import (
	"mime"
	"net/http"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
)

// compareHeaders appends a header diff for every compared header whose
// normalised values differ or that only one side has.
func (c *Comparator) compareHeaders(diffs []framework.Diff, prod, shadow http.Header) []framework.Diff {
	for _, name := range c.headers {
		prodValues, shadowValues := headerValues(prod, name), headerValues(shadow, name)
		if prodValues == nil && shadowValues == nil {
			continue
		}
		p, s := normalizeHeader(name, prodValues), normalizeHeader(name, shadowValues)
		if prodValues != nil && shadowValues != nil && p == s {
			continue
		}
		diffs = append(diffs, framework.Diff{
			Path:   "header:" + name,
			Kind:   framework.KindHeader,
			Prod:   clipString(p),
			Shadow: clipString(s),
		})
	}
	return diffs
}

// headerValues returns the values of the header with the canonical name
// name, or nil when h has none. Header maps built by hand (from recordings)
// may hold non-canonical keys, so a case-insensitive scan backs up the
// direct lookup.
func headerValues(h http.Header, name string) []string {
	if v, ok := h[name]; ok {
		return nonNil(v)
	}
	for key, v := range h {
		if strings.EqualFold(key, name) {
			return nonNil(v)
		}
	}
	return nil
}

// nonNil keeps "present with no values" apart from "absent".
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// normalizeHeader turns a header's values into one comparable string:
// repeated values are joined as a comma list, list elements are trimmed and
// empty elements dropped (RFC 9110 §5.6.1), and Content-Type is parsed and
// re-formatted with a lower-case media type, lower-case parameter names,
// a lower-case charset and parameters in sorted order.
func normalizeHeader(name string, values []string) string {
	joined := strings.Join(values, ",")
	if name == "Content-Type" {
		if mediaType, params, err := mime.ParseMediaType(joined); err == nil {
			if charset, ok := params["charset"]; ok {
				params["charset"] = strings.ToLower(charset)
			}
			if formatted := mime.FormatMediaType(mediaType, params); formatted != "" {
				return formatted
			}
		}
		return strings.ToLower(normalizeList(joined))
	}
	return normalizeList(joined)
}

// normalizeList trims the elements of a comma-separated list, drops empty
// ones and joins the rest with ", ".
func normalizeList(v string) string {
	if !strings.Contains(v, ",") {
		return strings.TrimSpace(v)
	}
	var b strings.Builder
	b.Grow(len(v))
	for elem := range strings.SplitSeq(v, ",") {
		elem = strings.TrimSpace(elem)
		if elem == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(elem)
	}
	return b.String()
}
