package compare

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// defaultMaxDecodedBytes bounds a body decompressed for comparison when the
// rules set no cap, so that a small compressed body cannot expand without
// limit.
const defaultMaxDecodedBytes = 64 << 20

// decodeCap is the most a body may expand to when decompressed.
func (c *Comparator) decodeCap() int64 {
	if c.maxDecoded > 0 {
		return c.maxDecoded
	}
	return defaultMaxDecodedBytes
}

// bodyType is how a pair's bodies are compared.
type bodyType uint8

const (
	bodyText   bodyType = iota // exactly, after masks
	bodyJSON                   // structurally
	bodyForm                   // application/x-www-form-urlencoded, by field
	bodyBinary                 // by length and SHA-256
)

// bodyKind says how a pair's bodies are compared, from prod's Content-Type;
// without one, two bodies that both start like a JSON object or array are
// JSON, valid UTF-8 is text and anything else binary.
func bodyKind(prodHeader http.Header, prod, shadow []byte) bodyType {
	values := headerValues(prodHeader, "Content-Type")
	if len(values) == 0 {
		switch {
		case looksLikeJSON(prod) && looksLikeJSON(shadow):
			return bodyJSON
		case utf8.Valid(prod) && utf8.Valid(shadow):
			return bodyText
		}
		return bodyBinary
	}
	mediaType, _, _ := strings.Cut(values[0], ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	major, minor, _ := strings.Cut(mediaType, "/")
	switch {
	case isJSONMediaType(mediaType):
		return bodyJSON
	case mediaType == "application/x-www-form-urlencoded":
		return bodyForm
	case major == "text", strings.HasSuffix(minor, "+xml"), strings.HasSuffix(minor, "xml"),
		strings.Contains(minor, "javascript"), strings.Contains(minor, "ecmascript"),
		mediaType == "application/x-ndjson", mediaType == "application/graphql":
		return bodyText
	}
	return bodyBinary
}

// decodeContent returns r's body with its Content-Encoding undone: gzip
// (x-gzip), deflate (zlib, or raw deflate as some servers send) and br, in
// reverse order of a list. Identity and an absent header leave it as is.
func decodeContent(r *framework.Response, limit int64) ([]byte, error) {
	return framework.DecodeContent(r.Header, r.Body, limit)
}

// encodingNote shows one side of a pair where only one body could be
// decoded: the body on the good side, the error on the other.
func encodingNote(body []byte, err error) string {
	if err == nil {
		return clipBytes(body)
	}
	return clipString("cannot decode body: " + err.Error())
}

// digest is a body's length and SHA-256 for display.
func digest(body []byte) string {
	sum := sha256.Sum256(body)
	return strconv.Itoa(len(body)) + " bytes, sha256 " + hex.EncodeToString(sum[:8]) + "…"
}

// digestDiff compares bodies above the digestAbove cap by length and digest.
func (c *Comparator) digestDiff(prod, shadow []byte) framework.Diff {
	kind := framework.KindValue
	if len(prod) != len(shadow) {
		kind = framework.KindSize
	}
	note := " (compared by digest above " + strconv.FormatInt(c.digestAbove, 10) + " bytes)"
	return framework.Diff{Path: "body", Kind: kind, Prod: digest(prod) + note, Shadow: digest(shadow) + note}
}

// binaryNote shows a binary body: the bytes themselves when short, else its
// length and digest.
func binaryNote(body []byte) string {
	if len(body) <= displayLimit {
		return clipBytes(body)
	}
	return digest(body)
}

// compareForm compares two form bodies field by field at paths $.name,
// fields in name order; a field's repeated values compare as a list.
func (c *Comparator) compareForm(diffs []framework.Diff, prodBody, shadowBody []byte) []framework.Diff {
	prod, prodErr := url.ParseQuery(string(prodBody))
	shadow, shadowErr := url.ParseQuery(string(shadowBody))
	if prodErr != nil || shadowErr != nil {
		if bytes.Equal(prodBody, shadowBody) {
			return diffs
		}
		return append(diffs, framework.Diff{Path: "body", Kind: framework.KindValue,
			Prod: formNote(prodBody, prodErr), Shadow: formNote(shadowBody, shadowErr)})
	}
	names := make([]string, 0, len(prod)+len(shadow))
	for name := range prod {
		names = append(names, name)
	}
	for name := range shadow {
		if _, ok := prod[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	loc := make([]fieldpath.Step, 1)
	for _, name := range names {
		loc[0] = fieldpath.Key(name)
		if c.ignore.Match(loc) {
			continue
		}
		p, inProd := prod[name]
		s, inShadow := shadow[name]
		d := framework.Diff{Path: fieldpath.Format(loc)}
		switch {
		case !inShadow:
			d.Kind, d.Prod = framework.KindMissing, formValues(p)
		case !inProd:
			d.Kind, d.Shadow = framework.KindExtra, formValues(s)
		case len(p) != len(s):
			d.Kind, d.Prod, d.Shadow = framework.KindSize, elements(len(p)), elements(len(s))
		default:
			same := true
			for i := range p {
				if p[i] != s[i] && !(len(c.masks) > 0 && c.masked(loc, []byte(p[i]), []byte(s[i]))) {
					same = false
				}
			}
			if same {
				continue
			}
			d.Kind, d.Prod, d.Shadow = framework.KindValue, formValues(p), formValues(s)
		}
		diffs = append(diffs, d)
	}
	return diffs
}

// formValues shows a form field: its value as a JSON string, or a JSON
// list of strings when repeated.
func formValues(values []string) string {
	if len(values) == 1 {
		return clipBytes(appendString(nil, values[0]))
	}
	b := []byte{'['}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
		if len(b) > displayLimit {
			break
		}
	}
	return clipBytes(append(b, ']'))
}

func formNote(body []byte, err error) string {
	if err == nil {
		return clipBytes(body)
	}
	return clipString("invalid form: " + err.Error())
}
