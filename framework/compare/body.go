package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/fieldpath"
)

// compareBody appends the body differences of a pair with equal statuses.
func (c *Comparator) compareBody(diffs []framework.Diff, prod, shadow *framework.Response) []framework.Diff {
	if c.ignoreRoot {
		return diffs
	}
	if prod.Truncated && shadow.Truncated {
		// Both were cut at the cap: the prefixes say little about the
		// whole bodies, and comparing them would report noise. A digest of
		// the whole body would do better; the mirror does not provide one.
		if len(prod.Body) != len(shadow.Body) {
			diffs = append(diffs, framework.Diff{Path: "body", Kind: framework.KindSize,
				Prod: sizeNote(prod), Shadow: sizeNote(shadow)})
		}
		return diffs
	}
	if bytes.Equal(prod.Body, shadow.Body) {
		return diffs
	}
	if isJSON(prod.Header, prod.Body, shadow.Body) {
		prodValue, prodErr := decodeJSON(prod.Body)
		shadowValue, shadowErr := decodeJSON(shadow.Body)
		switch {
		case prodErr == nil && shadowErr == nil:
			w := walker{c: c, diffs: diffs, loc: make([]fieldpath.Step, 0, 16)}
			w.compare(prodValue, shadowValue)
			return w.diffs
		case prodErr != nil && shadowErr != nil:
			// Neither side is JSON despite the content type: compare bytes.
		default:
			return append(diffs, framework.Diff{Path: "body", Kind: framework.KindType,
				Prod: jsonNote(prod, prodErr), Shadow: jsonNote(shadow, shadowErr)})
		}
	}
	kind := framework.KindValue
	if len(prod.Body) != len(shadow.Body) {
		kind = framework.KindSize
	}
	return append(diffs, framework.Diff{Path: "body", Kind: kind,
		Prod: clipBytes(prod.Body), Shadow: clipBytes(shadow.Body)})
}

// isJSON reports whether a pair's bodies are compared as JSON: prod's
// Content-Type says so, or there is none and both bodies start like a JSON
// object or array.
func isJSON(prodHeader http.Header, prod, shadow []byte) bool {
	values := headerValues(prodHeader, "Content-Type")
	if len(values) == 0 {
		return looksLikeJSON(prod) && looksLikeJSON(shadow)
	}
	mediaType, _, _ := strings.Cut(values[0], ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	return mediaType == "application/json" ||
		strings.HasSuffix(mediaType, "+json") && strings.Contains(mediaType, "/")
}

func looksLikeJSON(body []byte) bool {
	body = bytes.TrimLeft(body, " \t\r\n")
	return len(body) > 0 && (body[0] == '{' || body[0] == '[')
}

var errTrailingData = errors.New("data after the JSON value")

// decodeJSON decodes one whole JSON document, numbers as json.Number.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF // an empty body is not a JSON document
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return v, nil
}

// jsonNote shows one side of a pair where only one body is valid JSON: the
// body itself on the valid side, the parse error on the other.
func jsonNote(r *framework.Response, err error) string {
	if err == nil {
		return clipBytes(r.Body)
	}
	note := "invalid JSON: " + err.Error()
	if r.Truncated {
		note += " (body truncated at " + strconv.Itoa(len(r.Body)) + " bytes)"
	}
	return clipString(note)
}

func sizeNote(r *framework.Response) string {
	return strconv.Itoa(len(r.Body)) + " bytes (truncated)"
}
