package compare

import (
	"mime"
	"net/http"
	"slices"
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
		if prodValues != nil && shadowValues != nil && slices.Equal(prodValues, shadowValues) {
			continue // the same values normalise the same: most pairs
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
// empty elements dropped (RFC 9110 §5.6.1); Content-Type is normalised by
// normalizeMediaType.
func normalizeHeader(name string, values []string) string {
	joined := strings.Join(values, ",")
	if name == "Content-Type" {
		return normalizeMediaType(joined)
	}
	return normalizeList(joined)
}

// normalizeMediaType returns a Content-Type value in a form where equal
// meanings are equal strings (parsed by mime.ParseMediaType):
//
//   - type and subtype in lower case (RFC 9110 §8.3.1);
//   - parameter names in lower case, parameters sorted by name, quoted
//     values unquoted and re-quoted only where needed, spaces dropped;
//   - the charset value in lower case (charset names are case-insensitive);
//   - for JSON (application/json and any */*+json) a charset of utf-8 is
//     dropped: JSON defines no charset parameter and UTF-8 is its only
//     encoding (RFC 8259 §8.1, §11), so "application/json" and
//     "application/json; charset=utf-8" mean the same. Another charset
//     stays, and is a difference.
//
// Other parameter values keep their case (boundary, for one, is
// case-sensitive), and text/* without a charset is not assumed to be
// utf-8. A value that does not parse is compared trimmed and in lower case.
func normalizeMediaType(value string) string {
	mediaType, params, err := mime.ParseMediaType(value)
	if err != nil {
		return strings.ToLower(normalizeList(value))
	}
	if charset, ok := params["charset"]; ok {
		charset = strings.ToLower(charset)
		params["charset"] = charset
		if isJSONMediaType(mediaType) && (charset == "utf-8" || charset == "utf8") {
			delete(params, "charset")
		}
	}
	if formatted := mime.FormatMediaType(mediaType, params); formatted != "" {
		return formatted
	}
	return strings.ToLower(normalizeList(value))
}

// isJSONMediaType reports whether a lower-case media type is JSON:
// application/json or a structured syntax suffix +json (RFC 6839).
func isJSONMediaType(mediaType string) bool {
	major, minor, ok := strings.Cut(mediaType, "/")
	return ok && major != "" && (mediaType == "application/json" || strings.HasSuffix(minor, "+json"))
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
